"""What the cloud pushes, family by family, for any window of arrival time: the push sender's input.

Every item comes from the same fleet life as the polled API: fixes (pushgps; late blocks arrive together
when they are released, as re-uploads, `gpsMode` 1), their cell data (pushlbs), device alarms
(pushalarm), heartbeats every 3 minutes except while a device is off line (pushhb), a daily session
reconnect (pushevent LOGOUT/LOGIN), OBD readings and fault codes (pushobd, pushfaultinfo), trip reports at
each trip's start and end from OBD dongles (pushtripreport), fuel probe readings (pushoil) and reefer
temperatures (pushtem) every 5 minutes. Items are keyed by arrival epoch; [lo, hi) windows never overlap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sources.jimi_sim.push import wire
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.delivery import BLOCK_S
from sources.jimi_sim.world.model import POS_LBS, Point, day_start, local_day
from sources.jimi_sim.world.rand import noise
from sources.jimi_sim.world.status import HEARTBEAT_S
from sources.jimi_sim.world.vehicle import cargo, fuel_pct

if TYPE_CHECKING:
    from sources.jimi_sim.world.fleet import Fleet

FAMILIES = (
    "pushgps",
    "pushalarm",
    "pushobd",
    "pushfaultinfo",
    "pushtripreport",
    "pushhb",
    "pushevent",
    "pushoil",
    "pushtem",
    "pushlbs",
)
SENSOR_S = 300
LOOK_BACK_S = 3600  # enough fixes before the window to know the state at its first heartbeat
Item = tuple[int, str, dict[str, object]]  # (arrival epoch, family, item)


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _epoch(point: Point) -> int:
    return int(point.gps_time.timestamp())


class PushFeed:
    """Push items of one fleet by arrival window."""

    def __init__(self, fleet: Fleet, families: tuple[str, ...] = FAMILIES) -> None:
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown push families: {', '.join(sorted(unknown))}")
        self.fleet = fleet
        self.families = frozenset(families)

    def items(self, lo: int, hi: int) -> list[Item]:
        """Every item arriving in [lo, hi), by arrival time (stable: per device, per family order)."""
        out: list[Item] = []
        for device in self.fleet.devices:
            silenced = self.fleet.settings.silenced_at(device.imei)
            until = hi if silenced is None else min(hi, int(silenced.timestamp()))
            if device.habits.reporting and device.expiration.timestamp() > lo and until > lo:
                self._device(device, lo, until, out)
        out.sort(key=lambda item: item[0])
        return out

    def _device(self, device: Device, lo: int, hi: int, out: list[Item]) -> None:
        fleet, imei, key, want = self.fleet, device.imei, int(device.imei), self.families
        recent = fleet.points(imei, _utc(lo - LOOK_BACK_S), _utc(hi))
        if want & {"pushgps", "pushlbs"}:
            on_time = [
                p
                for p in recent
                if _epoch(p) >= lo and fleet.delivery.release(key, _epoch(p) // BLOCK_S) is None
            ]
            self._fixes(device, [(p, _epoch(p), False) for p in on_time], out)
            for day in range((lo - int(fleet.settings.late_max_s)) // 86400 - 1, (hi - 1) // 86400 + 1):
                for block, released in sorted(fleet.delivery.late_in_day(key, day).items()):
                    if lo <= released < hi:
                        late = fleet.points(imei, _utc(block * BLOCK_S), _utc((block + 1) * BLOCK_S))
                        self._fixes(device, [(p, released, True) for p in late], out)
        records, window = fleet.records, (_utc(lo), _utc(hi))
        if "pushalarm" in want:
            out += [
                (a.epoch, "pushalarm", wire.alarm_item(device, a))
                for a in records.alarms(imei, *window)
                if a.pushed
            ]
        if "pushobd" in want:
            out += [(r.epoch, "pushobd", wire.obd_item(imei, r)) for r in records.obd(imei, *window)]
        if "pushfaultinfo" in want:
            out += [(f.epoch, "pushfaultinfo", wire.fault_item(imei, f)) for f in records.dtcs(imei, *window)]
        if "pushtripreport" in want and device.equipment.has_obd:
            self._trips(device, lo, hi, out)
        if "pushhb" in want:
            self._heartbeats(device, recent, lo, hi, out)
        if "pushevent" in want:
            self._sessions(device, lo, hi, out)
        if "pushoil" in want and device.role == "fuel":
            self._sensor(device, recent, lo, hi, "pushoil", out)
        if "pushtem" in want and device.role == "reefer":
            self._sensor(device, recent, lo, hi, "pushtem", out)

    def _fixes(self, device: Device, fixes: list[tuple[Point, int, bool]], out: list[Item]) -> None:
        records = self.fleet.records
        for point, arrival, late in fixes:
            epoch = _epoch(point)
            if "pushgps" in self.families:
                fix = (
                    epoch,
                    point.lat,
                    point.lng,
                    point.speed_kmh,
                    point.direction,
                    point.satellites,
                    point.acc,
                    point.pos_type,
                )
                odometer = records.odometer_km(device.imei, epoch)
                out.append((arrival, "pushgps", wire.gps_item(device.imei, fix, arrival, odometer, late)))
            if point.pos_type == POS_LBS and "pushlbs" in self.families:
                out.append((arrival, "pushlbs", wire.lbs_item(device.imei, epoch, point.lat, point.lng)))

    def _heartbeats(self, device: Device, recent: list[Point], lo: int, hi: int, out: list[Item]) -> None:
        key, phase = int(device.imei), int(device.imei) % HEARTBEAT_S
        beat, index = lo + (phase - lo) % HEARTBEAT_S, 0
        while beat < hi:
            while index + 1 < len(recent) and _epoch(recent[index + 1]) <= beat:
                index += 1
            if (
                recent
                and _epoch(recent[index]) <= beat
                and self.fleet.delivery.release(key, beat // BLOCK_S) is None
            ):
                point = recent[index]
                u = noise(self.fleet.settings.seed, key, beat, 92)
                gsm = 20 + int(30 * u) if point.pos_type == POS_LBS else 60 + int(40 * u)
                power = 100 if point.acc else 95 + int(5 * u)
                item = wire.hb_item(device.imei, beat, point.acc, point.pos_type != POS_LBS, power, gsm)
                out.append((beat, "pushhb", item))
            beat += HEARTBEAT_S

    def _sessions(self, device: Device, lo: int, hi: int, out: list[Item]) -> None:
        """Once a day the data session drops and the tracker logs in again a few seconds later."""
        seed, key = self.fleet.settings.seed, int(device.imei)
        day = local_day(_utc(lo)) - timedelta(days=1)
        while day_start(day).timestamp() < hi:
            dropped = int(day_start(day).timestamp()) + int(86400 * noise(seed, key, day.toordinal(), 93))
            back = dropped + 5 + int(55 * noise(seed, key, day.toordinal(), 94))
            for kind, epoch in (("LOGOUT", dropped), ("LOGIN", back)):
                if lo <= epoch < hi:
                    out.append((epoch, "pushevent", wire.event_item(device.imei, kind, epoch)))
            day += timedelta(days=1)

    def _trips(self, device: Device, lo: int, hi: int, out: list[Item]) -> None:
        fleet = self.fleet
        for trip in fleet.records.trips(device.imei, _utc(lo - 86400), _utc(hi)):
            t0, t1 = int(trip.start_time.timestamp()), int(trip.end_time.timestamp())
            plan = fleet.day_plan(device.imei, local_day(trip.start_time))
            seq = 1 + next((k for k, other in enumerate(plan.trips) if other == trip), 0)
            fuel = trip.distance_km * device.equipment.consumption_l_100km / 100
            start, end = (t0, trip.start_lat, trip.start_lng), (t1, trip.end_lat, trip.end_lng)
            for ended, epoch in ((False, t0), (True, t1)):
                if lo <= epoch < hi:
                    idle = int(60 * noise(fleet.settings.seed, int(device.imei), t0, 95) * 5) if ended else 0
                    item = wire.trip_item(device.imei, seq, start, end, trip.distance_km, fuel, idle, ended)
                    out.append((epoch, "pushtripreport", item))

    def _sensor(
        self, device: Device, recent: list[Point], lo: int, hi: int, family: str, out: list[Item]
    ) -> None:
        fleet, seed = self.fleet, self.fleet.settings.seed
        epoch, index = lo + (int(device.imei) % SENSOR_S - lo) % SENSOR_S, 0
        while epoch < hi:
            while index + 1 < len(recent) and _epoch(recent[index + 1]) <= epoch:
                index += 1
            if recent and _epoch(recent[index]) <= epoch:
                point = recent[index]
                _, activity = fleet.owner(device.imei, epoch)
                if family == "pushoil":
                    level = fuel_pct(device, activity, epoch)
                    unit = fleet.settings.shapes.oil_unit
                    out.append(
                        (
                            epoch,
                            family,
                            wire.oil_item(device.imei, epoch, level, point.lat, point.lng, unit),
                        )
                    )
                else:
                    temp, humidity = cargo(seed, device, activity, epoch)
                    out.append((epoch, family, wire.tem_item(device.imei, epoch, temp, humidity)))
            epoch += SENSOR_S
