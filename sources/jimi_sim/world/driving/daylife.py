"""One vehicle's working day: leave the base, drive to sites, stop, come home; emit the fixes it reports.

`live_day` is a pure function of (seed, device, local day): its own seeded generator, nothing shared, so any
day can be generated in any order and always comes out the same. The activity it returns runs from the
first departure to the arrival home, which on late shifts may be after midnight: the fleet layer hands
that tail to the next day's points. Parking fixes outside the activity (nights, days off) come from
`parked_epochs` and `still.add_stationary`, which depend only on the instant, so they line up whichever day asks for them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sources.jimi_sim.world import geo
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.columns import FixColumns, FixRows
from sources.jimi_sim.world.driving.motion import plan_speeds
from sources.jimi_sim.world.driving.paths import Route, plan_route
from sources.jimi_sim.world.driving.still import JITTER_M, add_stationary
from sources.jimi_sim.world.driving.tracer import trace
from sources.jimi_sim.world.model import POS_GPS, POS_LBS, Point, Stop, Trip, day_start
from sources.jimi_sim.world.rand import noise, noise_pair, rng_for

RANDOM_DAY_OFF = 0.03
LATEST_SHIFT_END = timedelta(hours=25)  # 01:00 local next day: everyone is home and parked by ~03:15
PARK_MARGIN_S = 30  # no parked fix this close to an ignition change
ROUTE_CACHE_SIZE = 8_192  # ~3 KB each
BASE_SITE = -1  # site key of the base; regular places are keyed by their index
_Site = tuple[int | None, geo.XY]  # (key, position); key None = a one-off site
# Signal gaps. Decided by noise of the trip/stop start (not by the day's generator), so adding them did not
# shift any other draw: a share of trips loses GPS for 1-4 minutes (underpass, tunnel), and a share of
# stops during the shift are in a basement, where the tracker only has cell-tower (LBS) fixes.
TUNNEL_SHARE = 0.06
_MOVING = 1 | POS_GPS << 1  # FixColumns flags of a moving GPS fix: ignition on
BASEMENT_SHARE = 0.08


class Schedule(NamedTuple):
    """When a local day's shift starts and ends (epochs); both 0 on a day off."""

    off: bool
    depart: int
    shift_end: int


@dataclass(frozen=True)
class DayActivity:
    """Fixes and ground truth from first departure to final arrival, or nothing on an idle day."""

    day: date
    day_off: bool
    fixes: FixColumns = field(default_factory=FixColumns)
    trips: tuple[Trip, ...] = ()
    stops: tuple[Stop, ...] = ()

    @property
    def active(self) -> bool:
        return len(self.fixes) > 0

    @property
    def first_epoch(self) -> int:
        return self.fixes.epochs[0]

    @property
    def last_epoch(self) -> int:
        return self.fixes.epochs[-1]


def day_schedule(seed: int, device: Device, day: date) -> tuple[Schedule, random.Random]:
    """The day's shift from the first draws of its generator: cheap, so "where is it now?" can skip days."""
    habits = device.habits
    rng = rng_for("jimi-sim", seed, device.imei, day.isoformat())
    if day.weekday() in habits.days_off or rng.random() < RANDOM_DAY_OFF:
        return Schedule(True, 0, 0), rng
    start = day_start(day)
    depart = start + timedelta(
        minutes=habits.shift_start_min + rng.randint(-20, 20), seconds=rng.randrange(60)
    )
    shift_end = min(
        depart + timedelta(minutes=habits.shift_len_min + rng.randint(-30, 30)), start + LATEST_SHIFT_END
    )
    return Schedule(False, int(depart.timestamp()), int(shift_end.timestamp())), rng


def live_day(seed: int, device: Device, day: date) -> DayActivity:
    """What the vehicle does on a local day: a rest day, or one shift of trips and stops."""
    schedule, rng = day_schedule(seed, device, day)
    if schedule.off or not device.habits.reporting:
        return DayActivity(day, schedule.off)
    return _Day(seed, device, rng).run(schedule.depart, schedule.shift_end, day)


class _Day:
    """Accumulates the fixes, trips and stops of one day while the vehicle moves through it."""

    def __init__(self, seed: int, device: Device, rng: random.Random) -> None:
        self.seed, self.device, self.habits, self.rng = seed, device, device.habits, rng
        self.rows = FixRows()
        self.trips: list[Trip] = []
        self.stops: list[Stop] = []

    def run(self, t: int, shift_end: int, day: date) -> DayActivity:
        here: _Site = (BASE_SITE, self.habits.base)
        while True:
            home = t >= shift_end
            there = (BASE_SITE, self.habits.base) if home else self._destination(here[1])
            stop_kind = "parking" if home or self.rng.random() >= 0.15 else "idling"
            t = self._drive(here, there, t, ignition_off=stop_kind == "parking")
            here = there
            if home:
                break
            t = self._stop(stop_kind, here[1], t, shift_end)
        fixes = FixColumns.from_rows(self.rows)
        return DayActivity(day, False, fixes, tuple(self.trips), tuple(self.stops))

    def _destination(self, pos: geo.XY) -> _Site:
        """A regular site 2-30 km away most of the time, otherwise somewhere new around the base."""
        rng, habits = self.rng, self.habits
        regulars = [(i, p) for i, p in enumerate(habits.places) if 2_000 <= geo.distance_xy(pos, p) <= 30_000]
        if regulars and rng.random() < 0.7:
            return rng.choice(regulars)
        for _ in range(20):
            site = geo.step_xy(habits.base, rng.uniform(0, 360), rng.uniform(2_000, 25_000))
            if 2_000 <= geo.distance_xy(pos, site) <= 30_000:
                return None, site
        return None, geo.step_xy(pos, rng.uniform(0, 360), rng.uniform(2_000, 10_000))

    def _route(self, here: _Site, there: _Site) -> Route:
        """Between two known sites a driver always takes the same road; to a new site, a fresh one."""
        if here[0] is None or there[0] is None:
            return plan_route(self.rng, here[1], there[1])
        return _known_route(self.seed, self.device.imei, here[0], there[0], here[1], there[1])

    def _drive(self, here: _Site, there: _Site, t0: int, ignition_off: bool) -> int:
        """Emit the fixes of one trip departing at t0; returns the arrival epoch."""
        route = self._route(here, there)
        profile = plan_speeds(self.rng, route, self.habits)
        duration = max(math.ceil(profile.duration), 1)
        trip = trace(route, profile, [*range(0, duration, self.habits.moving_interval_s), duration], t0)
        rnd = self.rng.random
        trip.speeds = [_measured(speed, rnd()) for speed in trip.speeds]
        trip.satellites = [7 + int(rnd() * 8) for _ in trip.epochs]
        trip.flags = [_MOVING] * len(trip.epochs)
        if ignition_off:  # the key turns off as the vehicle comes to rest: the arrival fix says so
            trip.flags[-1] = _MOVING & ~1
        _tunnel(self.seed, self.device, trip)
        lats, lngs = trip.lats, trip.lngs
        distance_km = sum(trip.dists) / 1000  # the first fix's dist_m is 0
        self.trips.append(
            Trip(
                _utc(trip.epochs[0]), _utc(trip.epochs[-1]), distance_km, lats[0], lngs[0], lats[-1], lngs[-1]
            )
        )
        self.rows.extend(trip)
        return t0 + duration

    def _stop(self, kind: str, pos: geo.XY, t: int, shift_end: int) -> int:
        """Stand still after arriving at t; returns the departure epoch."""
        rng, habits, rows = self.rng, self.habits, self.rows
        if kind == "idling":
            seconds = rng.randint(180, 900)
            every = habits.idle_interval_s
            epochs = [t + k * every for k in range(1, math.ceil(seconds / every))]
            add_stationary(rows, self.seed, self.device, epochs, pos, True, rows.directions[-1])
        else:
            roll = rng.random()
            low, high = (300, 1_800) if roll < 0.6 else (1_800, 5_400) if roll < 0.9 else (5_400, 10_800)
            seconds = min(rng.randint(low, high), max(300, shift_end - t))
            epochs = parked_epochs(self.device, t + PARK_MARGIN_S, t + seconds - PARK_MARGIN_S)
            if noise(self.seed, int(self.device.imei), t, 73) < BASEMENT_SHARE:
                for epoch in epochs:
                    rows.add_point(lbs_point(self.seed, self.device, epoch, pos, t))
            else:
                add_stationary(rows, self.seed, self.device, epochs, pos, False, 0)
        self.stops.append(Stop(_utc(t), _utc(t + seconds), kind, *geo.to_latlng(*pos)))
        return t + seconds


@lru_cache(maxsize=ROUTE_CACHE_SIZE)
def _known_route(seed: int, imei: str, from_key: int, to_key: int, origin: geo.XY, dest: geo.XY) -> Route:
    return plan_route(rng_for("jimi-sim", seed, imei, "route", from_key, to_key), origin, dest)


def parked_epochs(device: Device, lo: int, hi: int) -> range:
    """Parked-fix instants in [lo, hi): the device's fixed upload grid, so any caller gets the same ones."""
    interval = device.habits.parked_interval_s
    phase = int(device.imei) % interval
    first = lo + (phase - lo) % interval
    return range(first, max(hi, first), interval)


def stationary_point(seed: int, device: Device, epoch: int, pos: geo.XY, acc: bool, direction: int) -> Point:
    """A speed-0 fix a few metres off pos; the drift depends only on (seed, device, instant)."""
    u1, u2 = noise_pair(seed, int(device.imei), epoch)
    radius, angle = JITTER_M * math.sqrt(u1), 2 * math.pi * u2
    lat, lng = geo.to_latlng(pos[0] + radius * math.cos(angle), pos[1] + radius * math.sin(angle))
    satellites = 5 + int(noise(seed, epoch, int(device.imei), 1) * 8)  # noise_pair(...)[0]
    return Point(_utc(epoch), lat, lng, 0.0, direction, acc, satellites)


def lbs_point(seed: int, device: Device, epoch: int, pos: geo.XY, stop_key: int) -> Point:
    """A cell-tower fix: off by 150-600 m (one offset per stop, the serving cell) plus ~80 m of scatter."""
    imei = int(device.imei)
    u1, u2 = noise_pair(seed, imei, stop_key, 74)
    j1, j2 = noise_pair(seed, imei, epoch, 75)
    radius, angle = 150.0 + 450.0 * u1, 2 * math.pi * u2
    scatter, turn = 80.0 * math.sqrt(j1), 2 * math.pi * j2
    x = pos[0] + radius * math.cos(angle) + scatter * math.cos(turn)
    y = pos[1] + radius * math.sin(angle) + scatter * math.sin(turn)
    return Point(_utc(epoch), *geo.to_latlng(x, y), 0.0, 0, False, 0, POS_LBS)


def _tunnel(seed: int, device: Device, trip: FixRows) -> None:
    """Drop a 1-4 minute stretch of a trip's fixes (no GPS); the next fix carries the road metres driven."""
    epochs, dists = trip.epochs, trip.dists
    t0 = epochs[0]
    if len(epochs) < 40 or noise(seed, int(device.imei), t0, 71) >= TUNNEL_SHARE:
        return
    u1, u2 = noise_pair(seed, int(device.imei), t0, 72)
    first = int(len(epochs) * (0.3 + 0.4 * u1))
    span_s, begins = 60 + int(180 * u2), epochs[first]
    last = first
    while last + 2 < len(epochs) and epochs[last + 1] - begins < span_s:
        last += 1
    dists[last + 1] += sum(dists[first : last + 1])
    for column in trip.columns():
        del column[first : last + 1]


def _measured(speed_kmh: float, u: float) -> float:
    """GPS (Doppler) speed wobbles by up to ~1 km/h around the true speed; a standing vehicle reads 0."""
    return round(speed_kmh + (u - 0.5) * 2.0, 1) if speed_kmh >= 3.0 else speed_kmh


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
