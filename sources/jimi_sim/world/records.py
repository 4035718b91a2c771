"""Window queries over a fleet's day records: trips, stops, alarms, OBD readings, fault codes, odometer.

Every record is derived from the same cached day activities as the fixes, so `track.mileage`, the
parking report, `alarm.list`, the OBD methods, the push feed and the truth export all tell one story.
Windows are half-open [start, end) on the record's start time; day-level records are cached per
(device, local day) in bounded caches sized to the fleet.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sources.jimi_sim.world.alarms import Alarm, day_alarms
from sources.jimi_sim.world.model import Stop, Trip, local_day
from sources.jimi_sim.world.obd import DtcFault, ObdReading, day_obd
from sources.jimi_sim.world.vehicle import odometer_km

if TYPE_CHECKING:
    from sources.jimi_sim.world.fleet import Fleet

CACHE_MIN = 1_024


class Records:
    """Trips, stops, alarms and OBD data of one fleet over any window."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        # Day records are small (tens of alarms, a few hundred OBD readings), so keep a month and more per
        # device: a one-month alarm or OBD query pages through the same device-days again and again.
        size = max(CACHE_MIN, 40 * len(fleet.devices))
        self._alarms = lru_cache(maxsize=size)(self._day_alarms)
        self._obd = lru_cache(maxsize=size)(self._day_obd)

    def trips(self, imei: str, start: datetime, end: datetime) -> list[Trip]:
        """Trips that start in [start, end), ascending."""
        return [
            trip
            for day in self._days(start, end)
            for trip in self.fleet.day_plan(imei, day).trips
            if start <= trip.start_time < end
        ]

    def stops(self, imei: str, start: datetime, end: datetime) -> list[Stop]:
        """Parking and idling stops that start in [start, end), ascending (end_time None: still parked)."""
        return [
            stop
            for day in self._days(start, end)
            for stop in self.fleet.day_plan(imei, day).stops
            if start <= stop.start_time < end
        ]

    def alarms(self, imei: str, start: datetime, end: datetime) -> list[Alarm]:
        """Alarms with start <= alertTime < end, ascending."""
        lo, hi = start.timestamp(), end.timestamp()
        return [a for day in self._days(start, end) for a in self._alarms(imei, day) if lo <= a.epoch < hi]

    def obd(self, imei: str, start: datetime, end: datetime) -> list[ObdReading]:
        lo, hi = start.timestamp(), end.timestamp()
        return [r for day in self._days(start, end) for r in self._obd(imei, day)[0] if lo <= r.epoch < hi]

    def dtcs(self, imei: str, start: datetime, end: datetime) -> list[DtcFault]:
        lo, hi = start.timestamp(), end.timestamp()
        return [f for day in self._days(start, end) for f in self._obd(imei, day)[1] if lo <= f.epoch < hi]

    def odometer_km(self, imei: str, epoch: int) -> float:
        """The odometer reading at an instant (km), as location, detail, OBD and push report it."""
        fleet = self.fleet
        device = fleet.device(imei)
        if device is None:
            raise KeyError(imei)
        if imei in fleet.traces:
            columns = fleet.traces[imei].fixes
            index = columns.last_at_or_before(epoch)
            driven = columns.cumulative_m()[index] if index >= 0 else 0.0
            return device.equipment.odometer_base_km + driven / 1000.0
        day, activity = fleet.owner(imei, epoch)
        return odometer_km(device, day, activity, epoch)

    def _days(self, start: datetime, end: datetime) -> list[date]:
        """Local days whose records can fall in the window (the day before: spill-over and night alarms)."""
        first, last = local_day(start) - timedelta(days=1), local_day(end)
        return [first + timedelta(days=k) for k in range((last - first).days + 1)]

    def _day_alarms(self, imei: str, day: date) -> list[Alarm]:
        fleet = self.fleet
        if imei in fleet.traces:
            return []
        device = fleet.device(imei)
        assert device is not None
        return day_alarms(fleet.settings.seed, device, day, fleet.activity(imei, day))

    def _day_obd(self, imei: str, day: date) -> tuple[list[ObdReading], list[DtcFault]]:
        fleet = self.fleet
        device = fleet.device(imei)
        if device is None or imei in fleet.traces:
            return [], []
        return day_obd(fleet.settings.seed, device, day, fleet.activity(imei, day))
