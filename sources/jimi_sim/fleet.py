"""The deterministic synthetic fleet: devices, their GPS fixes over any time window, and ground truth.

Fixes are generated lazily per (device, local day) and cached in bounded LRU caches. A day's points are
the tail of the previous day's activity that spilled past midnight, that day's own activity clipped to the
day, and parked fixes at the base for the rest. Everything is a function of (seed, device, day); the clock
only hides fixes that lie in the future.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache

from sources.jimi_sim.catalogue import Device, build_devices
from sources.jimi_sim.clock import SimClock
from sources.jimi_sim.columns import FixColumns
from sources.jimi_sim.daylife import PARK_MARGIN_S, DayActivity, live_day, parked_fixes
from sources.jimi_sim.model import DayPlan, Point, Stop, day_start, local_day
from sources.jimi_sim.settings import SimSettings

# ~1,000 fixes (~45 KB as columns) per device-day: the day cache tops out near 200 MB.
DAY_CACHE_SIZE = 4_096
ACTIVITY_CACHE_SIZE = 1_024  # only the days around the ones being served are needed
NEXT_DEPARTURE_HORIZON_DAYS = 31


class Fleet:
    """All devices of one simulated account and everything they ever reported."""

    def __init__(self, settings: SimSettings, clock: SimClock | None = None) -> None:
        self.settings = settings
        self.clock = clock if clock is not None else SimClock.from_settings(settings)
        self.devices: list[Device] = build_devices(settings.seed, settings.devices)
        self._by_imei = {device.imei: device for device in self.devices}
        # Per-instance caches (not on the class) so two fleets never share or pin each other's entries.
        self._activity = lru_cache(maxsize=ACTIVITY_CACHE_SIZE)(self._build_activity)
        self._day = lru_cache(maxsize=DAY_CACHE_SIZE)(self._build_day)

    def device(self, imei: str) -> Device | None:
        return self._by_imei.get(imei)

    def points(self, imei: str, start: datetime, end: datetime) -> list[Point]:
        """Fixes with start <= gps_time < end, ascending, none after the clock's now. KeyError if unknown."""
        self._require(imei)
        now = self.clock.now()
        end = min(end, now.replace(microsecond=0) + timedelta(seconds=1))
        if start >= end:
            return []
        lo, hi = _ceil_epoch(start), _ceil_epoch(end)
        out: list[Point] = []
        for day in _days(local_day(start), local_day(end - timedelta(microseconds=1))):
            out.extend(self._day(imei, day).between(lo, hi))
        return out

    def day_points(self, imei: str, day: date) -> list[Point]:
        """Every fix of a local day, whatever the clock says (ground truth for tests and scoring)."""
        self._require(imei)
        return self._day(imei, day).points()

    def day_plan(self, imei: str, day: date) -> DayPlan:
        """Trips and stops starting on a local day; the night parking ends at the next departure."""
        activity = self._activity(self._require(imei).imei, day)
        stops = list(activity.stops)
        if activity.active:
            last = activity.fixes.point(-1)
            stops.append(Stop(last.gps_time, self._next_departure(imei, day), "parking", last.lat, last.lng))
        return DayPlan(imei, day, activity.day_off, activity.trips, tuple(stops))

    def _require(self, imei: str) -> Device:
        device = self._by_imei.get(imei)
        if device is None:
            raise KeyError(imei)
        return device

    def _next_departure(self, imei: str, day: date) -> datetime | None:
        for offset in range(1, NEXT_DEPARTURE_HORIZON_DAYS + 1):
            later = self._activity(imei, day + timedelta(days=offset))
            if later.active:
                return later.fixes.point(0).gps_time
        return None

    def _build_activity(self, imei: str, day: date) -> DayActivity:
        return live_day(self.settings.seed, self._by_imei[imei], day)

    def _build_day(self, imei: str, day: date) -> FixColumns:
        device = self._by_imei[imei]
        if not device.habits.reporting:
            return FixColumns()
        lo, hi = int(day_start(day).timestamp()), int(day_start(day + timedelta(days=1)).timestamp())
        spans = [
            a for a in (self._activity(imei, day - timedelta(days=1)), self._activity(imei, day)) if a.active
        ]
        points: list[Point] = []
        for activity in spans:
            points.extend(activity.fixes.between(lo, hi))
        for gap_lo, gap_hi in _gaps(lo, hi, spans):
            points.extend(parked_fixes(self.settings.seed, device, gap_lo, gap_hi, device.habits.base))
        points.sort(key=_time_of)
        return FixColumns(points)


def _gaps(lo: int, hi: int, spans: list[DayActivity]) -> Iterator[tuple[int, int]]:
    """Parts of [lo, hi) outside the activity spans, kept clear of ignition changes by a margin."""
    cursor = lo
    for activity in spans:
        if activity.first_epoch > cursor:
            yield cursor, min(hi, activity.first_epoch - PARK_MARGIN_S)
        cursor = max(cursor, activity.last_epoch + PARK_MARGIN_S)
    if cursor < hi:
        yield cursor, hi


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _ceil_epoch(moment: datetime) -> int:
    """Whole-second epoch at or after moment (fixes are whole seconds)."""
    whole = int(moment.timestamp())
    return whole + 1 if moment.microsecond else whole


def _time_of(point: Point) -> datetime:
    return point.gps_time
