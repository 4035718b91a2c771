"""The hot path of a fleet sweep: a driving vehicle's location entry moved to its newest fix.

About a third of a 2,000-device fleet drives at midday and each of those records a new fix between two
sweeps, so this runs ~700 times a minute. `Drive` gathers, once per day activity, everything that does not
change from fix to fix (columns, odometer anchor, sensor constants, the entry's fixed fields as JSON) so
that moving to a fix is a step forward in the columns and one formatted string: the entry's JSON, written
directly rather than through a dict and a serialiser. It writes exactly the bytes `orjson.dumps` gives for
what `status.fix_status` + `devices.location_item` would return (tests compare the two paths); `quick3` and
`epoch_text` are bit-for-bit twins of `rand.quick` and `timetext.epoch_text`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import UTC, datetime

import orjson

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.driving.daylife import PARK_MARGIN_S, DayActivity
from sources.jimi_sim.world.equipment import DAILY_ALLOWANCE_KM
from sources.jimi_sim.world.model import POS_GPS, POS_LBS
from sources.jimi_sim.world.rand import noise_from, noise_state
from sources.jimi_sim.world.vehicle import anchor_km, door_amplitude, fuel_sensor_volts, full_pct

_MASK = (1 << 64) - 1
_POS_NAMES = {1: "GPS", 2: "LBS", 3: "WIFI"}
# "HH:MM:SS" of every second of a day: one list index instead of three divmods and a format per time.
_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
_DAYS: dict[int, str] = {}
# str(n) of small non-negative integers (speeds, directions, satellite counts): an index beats a conversion.
INT_TEXT = [str(n) for n in range(1000)]


def epoch_text(epoch: int) -> str:
    """`yyyy-MM-dd HH:mm:ss` (UTC) of a whole-second epoch; same text as `timetext.epoch_text`."""
    day, second = divmod(epoch, 86400)
    return (_DAYS.get(day) or _day_text(day)) + _CLOCK[second]


def _day_text(day: int) -> str:
    text = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
    return text


def quick_head(a: int, b: int) -> int:
    """`rand.quick`'s state after two keys: `quick_tail(quick_head(a, b), c) == quick(a, b, c)`, so a
    device's (seed, IMEI) is mixed once rather than at every fix."""
    state = ((0x632BE59BD9B4E019 ^ (a & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
    state ^= state >> 29
    state = ((state ^ (b & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
    return state ^ (state >> 29)


def quick_tail(state: int, c: int) -> float:
    state = ((state ^ (c & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
    state ^= state >> 29
    state = (state * 0xBF58476D1CE4E5B9) & _MASK
    return ((state ^ (state >> 32)) >> 11) / float(1 << 53)


def quick3(a: int, b: int, c: int) -> float:
    """`rand.quick(a, b, c)` unrolled for three keys (no *args tuple, no loop): the same float."""
    return quick_tail(quick_head(a, b), c)


def json_number(value: float) -> str:
    """`orjson.dumps(value)` of a float as text: `repr` where the two agree (all but tiny and huge values)."""
    if 1e-4 <= abs(value) < 1e16 or value == 0.0:
        return repr(value)
    return orjson.dumps(value).decode()


class Drive:
    """One device's driving day activity, ready for `text`."""

    __slots__ = (
        "anchor",
        "consumption",
        "cum",
        "directions",
        "door_bumps",
        "doors",
        "epochs",
        "flags",
        "following_last",
        "full",
        "head",
        "hint",
        "last_epoch",
        "lats",
        "lngs",
        "middle",
        "oil",
        "quick",
        "rest",
        "role",
        "satellites",
        "setpoint",
        "speeds",
        "tail",
        "tank",
        "temperature",
        "volts_off",
        "volts_on",
        "wobble",
    )

    def __init__(
        self, device: Device, activity: DayActivity, seed: int, entry: dict[str, object], battery_key: str
    ) -> None:
        """`entry` is the device's rendered entry: the fields a fix does not change are taken from it."""
        fixes = activity.fixes
        key, self.role = int(device.imei), device.role
        self.quick = quick_head(seed, key)
        self.epochs = fixes.epochs
        columns = fixes.raw(0, len(fixes))
        self.lats, self.lngs, self.speeds, self.directions, self.satellites, self.flags = columns[1:7]
        self.cum = fixes.cumulative_m()
        self.last_epoch = activity.last_epoch
        self.following_last = activity.last_epoch + PARK_MARGIN_S
        self.anchor = anchor_km(device, activity.day)
        # vehicle.external_volts: 24 V systems for trucks, 12 V otherwise
        self.volts_on, self.volts_off = (27.6, 24.8) if device.kind == "truck" else (13.8, 12.4)
        self.rest = len(self.epochs)
        self.hint = 0
        equipment = device.equipment
        # vehicle.fuel_pct's operands, each the same float it reads
        self.full, self.consumption = full_pct(device.imei), equipment.consumption_l_100km
        self.tank = equipment.tank_l
        if self.role == "reefer":  # vehicle.door_bump's delivery stops and vehicle.cargo's wobble
            stops = activity.stops
            self.doors = [int(stop.start_time.timestamp()) for stop in stops if stop.kind == "parking"]
            self.door_bumps = [door_amplitude(seed, device, opened) for opened in self.doors]
            self.setpoint, self.wobble = equipment.setpoint_c or 0.0, noise_state(seed, key)
        self.head, self.middle, self.temperature, self.oil, self.tail = frame(entry, battery_key, self.role)

    def fuel_pct(self, index: int) -> float:
        """`vehicle.fuel_pct` while driving (the metres driven are the fix's own), the same float."""
        used_l = self.cum[index] / 1000.0 * self.consumption / 100.0
        return round(max(self.full - used_l / self.tank * 100.0, 4.0), 1)

    def cargo_c(self, epoch: int) -> float:
        """`vehicle.cargo(...)[0]` (the cargo temperature) with the day's door openings gathered once."""
        index = bisect_right(self.doors, epoch) - 1
        bump = 0.0
        if index >= 0:
            bump = self.door_bumps[index] * math.exp(-(epoch - self.doors[index]) / 900.0)
        wobble = noise_from(self.wobble, epoch // 60, 82) - 0.5
        return round(self.setpoint + bump + wobble, 1)

    def index_at(self, epoch: int) -> int:
        """Index of the last fix at or before epoch. Sweeps ask for ever later fixes a few apart, so a step
        or two forward from the previous answer beats a bisect over the day's (cold) columns."""
        epochs, index = self.epochs, self.hint
        if epochs[index] <= epoch:
            stop = min(index + 8, self.rest)
            while index + 1 < stop and epochs[index + 1] <= epoch:
                index += 1
            if index + 1 == stop < self.rest:
                index = bisect_right(epochs, epoch) - 1
        else:
            index = bisect_right(epochs, epoch) - 1
        self.hint = max(index, 0)
        return index

    def following(self, index: int) -> int:
        """When the fix after the one at index is recorded (a parked one PARK_MARGIN_S after the last)."""
        return self.epochs[index + 1] if index + 1 < self.rest else self.following_last

    def text(self, index: int, online: bool, hb: int) -> bytes:
        """The entry's JSON for the fix at index, heartbeat hb."""
        epoch = self.epochs[index]
        flag = self.flags[index]
        acc, pos_type = flag & 1, flag >> 1
        # quick_tail and epoch_text inlined: a call costs as much as their arithmetic
        state = ((self.quick ^ (epoch & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
        state ^= state >> 29
        state = (state * 0xBF58476D1CE4E5B9) & _MASK
        u = ((state ^ (state >> 32)) >> 11) / float(1 << 53)
        battery = 100 if acc else 95 + int(5 * u)
        day, second = divmod(epoch, 86400)
        when = (_DAYS.get(day) or _day_text(day)) + _CLOCK[second]
        lat, lng = self.lats[index], self.lngs[index]
        lat_text = repr(lat) if 1e-4 <= abs(lat) < 1e16 else json_number(lat)
        lng_text = repr(lng) if 1e-4 <= abs(lng) < 1e16 else json_number(lng)
        speed = int(self.speeds[index] + 0.5)
        speed_text = INT_TEXT[speed] if 0 <= speed < 1000 else str(speed)
        direction, satellites = self.directions[index], self.satellites[index]
        direction_text = INT_TEXT[direction] if 0 <= direction < 1000 else str(direction)
        g = (u * 7.919) % 1.0  # vehicle.gsm_level
        signal = INT_TEXT[1 + int(g * 2) if pos_type == POS_LBS else 3 + int(g * 1.9)]
        volts = round((self.volts_on if acc else self.volts_off) + 0.6 * u, 1)
        temperature, oil = self.temperature, self.oil
        if temperature is None:
            temperature = f',"temperature":"{self.cargo_c(epoch):.1f}"'
        if oil is None:
            oil = f',"trackerOil":"{fuel_sensor_volts(self.fuel_pct(index)):.2f}"'
        return (
            f'{self.head}{"1" if online else "0"}","posType":"{_POS_NAMES.get(pos_type, "GPS")}",'
            f'"lat":{lat_text},"lng":{lng_text},'
            f'"gpsTime":"{when}","hbTime":"{when if hb == epoch else epoch_text(hb)}",'
            f'"accStatus":"{"1" if acc else "0"}","speed":"{speed_text}",'
            f'"direction":"{direction_text if pos_type == POS_GPS else "-1"}",'
            f'"gpsNum":"{INT_TEXT[satellites] if 0 <= satellites < 1000 else satellites}",'
            f'"gpsSignal":"{signal}"{self.middle}'
            f'{INT_TEXT[battery]}","powerValue":"{volts:.1f}",'
            f'"batteryPowerVal":"{"4.1" if battery >= 90 else "3.9"}"{temperature}{oil}{self.tail}'
            f'{self.anchor + min(DAILY_ALLOWANCE_KM, self.cum[index] / 1000.0):.1f}"}}'
        ).encode()


def frame(
    entry: dict[str, object], battery_key: str, role: str
) -> tuple[str, str, str | None, str | None, str]:
    """The JSON around the fields a new fix writes, in `devices.location_item`'s order, from a rendered entry.

    (head up to the status value, the flags and battery key after gpsSignal, temperature, trackerOil, and the
    tail up to the odometer value); temperature and trackerOil are None where the role writes them per fix
    (reefers' cargo, fuel trucks' probe), otherwise they stay as rendered.
    """
    head = (
        "{"
        + "".join(f'"{key}":{_dump(entry[key])},' for key in ("imei", "deviceName", "icon"))
        + '"status":"'
    )
    middle = "".join(f',"{key}":{_dump(entry[key])}' for key in ("activationFlag", "expireFlag"))
    temperature = None if role == "reefer" else f',"temperature":{_dump(entry["temperature"])}'
    oil = None if role == "fuel" else f',"trackerOil":{_dump(entry["trackerOil"])}'
    return (
        head,
        f'{middle},{_dump(battery_key)}:"',
        temperature,
        oil,
        f',"locDesc":{_dump(entry["locDesc"])},"currentMileage":"',
    )


def _dump(value: object) -> str:
    return orjson.dumps(value).decode()
