"""The deterministic synthetic fleet: devices, their GPS fixes over any time window, and ground truth.

Fixes are generated lazily per (device, local day) and cached in bounded LRU caches sized to the fleet. A
day's points are the tail of the previous day's activity that spilled past midnight, that day's own
activity clipped to the day, and parked fixes at the base for the rest. Everything is a function of
(seed, device, day); the clock only hides fixes that lie in the future.

`points()` is the ground truth of what the trackers recorded; `visible_points()` is the part that has
reached the cloud by a given instant (late blocks, see delivery.py), which is what the API serves.
Recorded traces (`settings.traces`) join the fleet as extra devices after the synthetic ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.catalogue import Device, build_devices
from sources.jimi_sim.world.clock import SimClock
from sources.jimi_sim.world.columns import FixColumns, FixRows
from sources.jimi_sim.world.delivery import BLOCK_S, Delivery
from sources.jimi_sim.world.driving.daylife import (
    PARK_MARGIN_S,
    DayActivity,
    Schedule,
    day_schedule,
    live_day,
    parked_epochs,
)
from sources.jimi_sim.world.driving.still import add_stationary
from sources.jimi_sim.world.model import (
    DayPlan,
    Point,
    Stop,
    day_start,
    local_day,
    local_ordinal,
    ordinal_start,
)
from sources.jimi_sim.world.records import Records
from sources.jimi_sim.world.trace import TraceLog, load_traces, trace_device
from sources.jimi_sim.world.whereabouts import SPILL_S, latest_fix

# ~1,000 fixes (~45 KB as columns) per device-day: the day cache tops out near 200 MB at the minimum size.
DAY_CACHE_SIZE = 4_096
ACTIVITY_CACHE_SIZE = 1_024  # per fleet at least; grows to three days per device so a sweep never thrashes
NEXT_DEPARTURE_HORIZON_DAYS = 31
Span = tuple[FixColumns, int, int]  # fixes [start, stop) of one column store


class Fleet:
    """All devices of one simulated account and everything they ever reported."""

    def __init__(self, settings: SimSettings, clock: SimClock | None = None) -> None:
        self.settings = settings
        self.clock = clock if clock is not None else SimClock.from_settings(settings)
        self.devices: list[Device] = build_devices(settings.seed, settings.devices)
        self.traces: dict[str, TraceLog] = load_traces(settings.traces) if settings.traces else {}
        self._by_imei = {device.imei: device for device in self.devices}
        for log in self.traces.values():
            if log.imei in self._by_imei:
                raise ValueError(f"trace IMEI {log.imei} is already a simulated device")
            device = trace_device(settings.seed, len(self.devices), log)
            self.devices.append(device)
            self._by_imei[device.imei] = device
        self.delivery = Delivery(
            settings.seed, settings.late_share, settings.late_median_s, settings.late_max_s
        )
        count = len(self.devices)
        # Per-instance caches (not on the class) so two fleets never share or pin each other's entries.
        self._activity = lru_cache(maxsize=max(ACTIVITY_CACHE_SIZE, 3 * count))(self._build_activity)
        self._day = lru_cache(maxsize=max(DAY_CACHE_SIZE, 2 * count))(self._build_day)
        self._schedule = lru_cache(maxsize=max(ACTIVITY_CACHE_SIZE, 3 * count))(self._build_schedule)
        self.records = Records(self)

    def device(self, imei: str) -> Device | None:
        return self._by_imei.get(imei)

    def points(self, imei: str, start: datetime, end: datetime) -> list[Point]:
        """Fixes with start <= gps_time < end, ascending, none after the clock's now. KeyError if unknown."""
        out: list[Point] = []
        for columns, first, stop in self._spans(imei, start, end):
            out.extend(columns.points(first, stop))
        return out

    def visible_points(
        self, imei: str, start: datetime, end: datetime, as_of: datetime | None = None
    ) -> list[Point]:
        """The fixes of `points()` that have reached the cloud by as_of (default: the clock's now)."""
        out: list[Point] = []
        for columns, first, stop in self.visible_spans(imei, start, end, as_of):
            out.extend(columns.points(first, stop))
        return out

    def visible_spans(
        self, imei: str, start: datetime, end: datetime, as_of: datetime | None = None
    ) -> list[Span]:
        """`visible_points()` as index ranges of column stores: the API renders straight from these."""
        spans = self._spans(imei, start, end)
        arrived = int((as_of or self.clock.now()).timestamp())
        if not spans or not self.delivery.enabled:
            return spans
        lo, hi = spans[0][0].epochs[spans[0][1]], spans[-1][0].epochs[spans[-1][2] - 1] + 1
        hidden = self.delivery.hidden_blocks(int(imei), lo, hi, arrived)
        if not hidden:
            return spans
        out: list[Span] = []
        for columns, first, stop in spans:
            cursor = first
            for block in hidden:
                cut, resume = columns.span(block * BLOCK_S, (block + 1) * BLOCK_S)
                cut, resume = max(cut, cursor), min(max(resume, cursor), stop)
                if cut > cursor:
                    out.append((columns, cursor, min(cut, stop)))
                cursor = max(cursor, resume)
            if cursor < stop:
                out.append((columns, cursor, stop))
        return out

    def latest_fix(self, imei: str, as_of: datetime | None = None) -> Point | None:
        """The newest fix that has reached the cloud by as_of: what location.list shows. Cheap per call."""
        return latest_fix(self, self._require(imei), as_of)

    def day_points(self, imei: str, day: date) -> list[Point]:
        """Every fix of a local day, whatever the clock says (ground truth for tests and scoring)."""
        self._require(imei)
        if imei in self.traces:
            columns = self.traces[imei].fixes
            return columns.points(
                *columns.span(_epoch(day_start(day)), _epoch(day_start(day + timedelta(1))))
            )
        return self._day(imei, day).points()

    def day_plan(self, imei: str, day: date) -> DayPlan:
        """Trips and stops starting on a local day; the night parking ends at the next departure."""
        if imei in self.traces:
            lo, hi = day_start(day), day_start(day + timedelta(days=1))
            log = self.traces[imei]
            trips = tuple(trip for trip in log.trips if lo <= trip.start_time < hi)
            stops = tuple(stop for stop in log.stops if lo <= stop.start_time < hi)
            return DayPlan(imei, day, False, trips, stops)
        activity = self._activity(self._require(imei).imei, day)
        stops = list(activity.stops)
        if activity.active:
            last = activity.fixes.point(-1)
            stops.append(Stop(last.gps_time, self._next_departure(imei, day), "parking", last.lat, last.lng))
        return DayPlan(imei, day, activity.day_off, activity.trips, tuple(stops))

    def activity(self, imei: str, day: date) -> DayActivity:
        """The shift of a local day (cached): its fixes from first departure to arrival home, trips, stops."""
        if imei in self.traces:
            return DayActivity(day, False)
        return self._activity(self._require(imei).imei, day)

    def schedule(self, imei: str, day: date) -> Schedule:
        """When a local day's shift starts and ends (cheap: no fixes are generated)."""
        return self._schedule(self._require(imei).imei, day)

    def owner(self, imei: str, epoch: int) -> tuple[date, DayActivity | None]:
        """The local day whose activity an instant belongs to, and that activity if the shift has begun."""
        self._require(imei)
        ordinal = local_ordinal(epoch)
        day = date.fromordinal(ordinal)
        if imei in self.traces:
            return day, None
        if epoch - ordinal_start(ordinal) < SPILL_S:
            previous = self._activity(imei, date.fromordinal(ordinal - 1))
            if previous.active and epoch <= previous.last_epoch:
                return previous.day, previous
        schedule = self._schedule(imei, day)
        if schedule.off or epoch < schedule.depart:
            return day, None
        return day, self._activity(imei, day)

    def _require(self, imei: str) -> Device:
        device = self._by_imei.get(imei)
        if device is None:
            raise KeyError(imei)
        return device

    def _spans(self, imei: str, start: datetime, end: datetime) -> list[Span]:
        self._require(imei)
        now = self.clock.now()
        end = min(end, now.replace(microsecond=0) + timedelta(seconds=1))
        silenced = self.settings.silenced_at(imei)
        if silenced is not None:  # a silenced device recorded nothing from then on
            end = min(end, silenced)
        if start >= end:
            return []
        lo, hi = _ceil_epoch(start), _ceil_epoch(end)
        if imei in self.traces:
            columns = self.traces[imei].fixes
            first, stop = columns.span(lo, hi)
            return [(columns, first, stop)] if stop > first else []
        spans = []
        for day in _days(local_day(start), local_day(end - timedelta(microseconds=1))):
            columns = self._day(imei, day)
            first, stop = columns.span(lo, hi)
            if stop > first:
                spans.append((columns, first, stop))
        return spans

    def _next_departure(self, imei: str, day: date) -> datetime | None:
        for offset in range(1, NEXT_DEPARTURE_HORIZON_DAYS + 1):
            later = self._activity(imei, day + timedelta(days=offset))
            if later.active:
                return later.fixes.point(0).gps_time
        return None

    def _build_schedule(self, imei: str, day: date) -> Schedule:
        return day_schedule(self.settings.seed, self._by_imei[imei], day)[0]

    def _build_activity(self, imei: str, day: date) -> DayActivity:
        return live_day(self.settings.seed, self._by_imei[imei], day)

    def _build_day(self, imei: str, day: date) -> FixColumns:
        device = self._by_imei[imei]
        if not device.habits.reporting:
            return FixColumns()
        lo, hi = _epoch(day_start(day)), _epoch(day_start(day + timedelta(days=1)))
        spans = [
            a for a in (self._activity(imei, day - timedelta(days=1)), self._activity(imei, day)) if a.active
        ]
        rows = FixRows()
        for activity in spans:
            rows.extend(activity.fixes.raw(*activity.fixes.span(lo, hi)))
        for gap_lo, gap_hi in _gaps(lo, hi, spans):
            epochs = parked_epochs(device, gap_lo, gap_hi)
            add_stationary(rows, self.settings.seed, device, epochs, device.habits.base, False, 0)
        return FixColumns.from_rows(rows.sorted())


def _gaps(lo: int, hi: int, spans: list[DayActivity]) -> Iterator[tuple[int, int]]:
    """Parts of [lo, hi) outside the activity spans, kept clear of ignition changes by a margin."""
    cursor = lo
    for activity in spans:
        if activity.first_epoch > cursor:
            yield cursor, min(hi, activity.first_epoch - PARK_MARGIN_S)
        cursor = max(cursor, activity.last_epoch + PARK_MARGIN_S)
    if cursor < hi:
        yield cursor, hi


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


_days = days_between


def _ceil_epoch(moment: datetime) -> int:
    """Whole-second epoch at or after moment (fixes are whole seconds)."""
    whole = int(moment.timestamp())
    return whole + 1 if moment.microsecond else whole


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
