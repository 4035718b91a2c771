"""Alarms consistent with the movement: each one sits on a real fix of the day, at its time and place.

Per device-day: overspeed on the first fix of a trip above the vehicle's limit; harsh acceleration and
braking on the fix with the sharpest speed change of some trips; geofence exit/entry where the fixes
cross the depot fence; vibration during some parking stops; reefer high-temperature when a delivery stop's
open doors warm the cargo; rare SOS on the road; now and then a power cut or low battery at night at the
base. IDs and names follow the spec's table (docs/jimi-api.md#alarm-type-ids); dashcams use their DVR IDs.
Geofence alarms are platform alarms (text IDs "in"/"out", the fence name as the alarm name), so they are
polled but never pushed by the device.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from sources.jimi_sim.world import geo
from sources.jimi_sim.world.catalogue import DEPOTS, Device
from sources.jimi_sim.world.driving.daylife import DayActivity, stationary_point
from sources.jimi_sim.world.model import day_start
from sources.jimi_sim.world.rand import noise
from sources.jimi_sim.world.vehicle import door_amplitude

FENCE_RADIUS_M = 600.0
NAMES = {
    "1": "SOS Alert",
    "2": "Power Cut Alert",
    "3": "Vibration Alert",
    "6": "Overspeed Alert",
    "41": "Sudden Acceleration Alert",
    "48": "Sudden Deceleration Alert",
    "90": "Low Battery Alert",
    "91": "High Temperature Alert",
    "128": "DVR Vibration Alert",
    "135": "DVR Overspeed Alert",
    "144": "DVR Sudden Acceleration Alert",
    "145": "DVR Sudden Deceleration Alert",
}
_DVR = {"3": "128", "6": "135", "41": "144", "48": "145"}


class Alarm(NamedTuple):
    epoch: int  # alertTime
    type_id: str  # alertTypeId: numeric string or platform text ("in", "out")
    name: str
    lat: float
    lng: float
    speed_kmh: float
    geoid: str  # fence id for geofence alarms, "" otherwise
    fix_epoch: int  # positioningTime

    @property
    def pushed(self) -> bool:
        """Device alarms reach /pushalarm; platform fence alarms exist only in the polled list."""
        return self.type_id.isdigit()


@lru_cache(maxsize=64)
def depot_fence(seed: int, depot: str) -> tuple[str, str, geo.XY]:
    """(geoid, fence name, centre) of the fence around a depot."""
    lat, lng = next((la, ln) for name, la, ln in DEPOTS if name == depot)
    geoid = hashlib.md5(f"jimi-sim/{seed}/fence/{depot}".encode()).hexdigest()
    return geoid, f"Depot {depot}", geo.to_xy(lat, lng)


def day_alarms(seed: int, device: Device, day: date, activity: DayActivity) -> list[Alarm]:
    """Every alarm of a device's local day (night alarms may fall after midnight), ascending."""
    if not device.habits.reporting:
        return []
    out: list[Alarm] = []
    if activity.active:
        fixes = activity.fixes
        epochs, points = fixes.epochs, fixes.points()
        _fence_crossings(seed, device, points, out)
        for trip in activity.trips:
            first, last = fixes.span(int(trip.start_time.timestamp()), int(trip.end_time.timestamp()) + 1)
            _driving(seed, device, points[first:last], out)
        for stop in activity.stops:
            _parked(seed, device, stop.start_time, stop.end_time, stop.kind, epochs, points, out)
        night = activity.last_epoch + 1200
    else:
        night = int((day_start(day) + timedelta(hours=11)).timestamp())
    _night(seed, device, night, out)
    out.sort()
    return out


def _device_id(device: Device, type_id: str) -> str:
    return _DVR.get(type_id, type_id) if device.equipment.is_dashcam else type_id


def _alarm(device: Device, type_id: str, point: object, delay: int = 1) -> Alarm:
    type_id = _device_id(device, type_id)
    epoch = int(point.gps_time.timestamp())  # type: ignore[attr-defined]
    return Alarm(epoch + delay, type_id, NAMES[type_id], point.lat, point.lng, point.speed_kmh, "", epoch)  # type: ignore[attr-defined]


def _fence_crossings(seed: int, device: Device, points: list, out: list[Alarm]) -> None:
    geoid, name, centre = depot_fence(seed, device.habits.depot)
    inside = None
    for point in points:
        if point.pos_type != 1:
            continue  # cell-tower fixes are too coarse to judge a 600 m fence
        now_inside = geo.distance_xy(geo.to_xy(point.lat, point.lng), centre) <= FENCE_RADIUS_M
        if inside is not None and now_inside != inside:
            epoch = int(point.gps_time.timestamp())
            kind = "in" if now_inside else "out"
            out.append(Alarm(epoch, kind, name, point.lat, point.lng, point.speed_kmh, geoid, epoch))
        inside = now_inside


def _driving(seed: int, device: Device, trip: list, out: list[Alarm]) -> None:
    if len(trip) < 10:
        return
    imei, key = int(device.imei), int(trip[0].gps_time.timestamp())
    limit = device.equipment.speed_limit_kmh
    fast = next((p for p in trip if p.speed_kmh > limit), None)
    if fast is not None:
        out.append(_alarm(device, "6", fast))
    deltas = [(b.speed_kmh - a.speed_kmh, k + 1) for k, (a, b) in enumerate(itertools.pairwise(trip))]
    if noise(seed, imei, key, 11) < 0.12:
        rise, at = max(deltas)
        if rise > 0 and trip[at].speed_kmh > 20:
            out.append(_alarm(device, "41", trip[at]))
    if noise(seed, imei, key, 12) < 0.15:
        drop, at = min(deltas)
        if drop < 0 and trip[at - 1].speed_kmh > 25:
            out.append(_alarm(device, "48", trip[at]))
    if noise(seed, imei, key, 13) < 0.004:
        out.append(_alarm(device, "1", trip[len(trip) // 2]))


def _parked(seed: int, device: Device, start, end, kind: str, epochs, points: list, out: list[Alarm]) -> None:
    if kind != "parking" or end is None:
        return
    imei, opened = int(device.imei), int(start.timestamp())
    seconds = int((end - start).total_seconds())
    if noise(seed, imei, opened, 14) < 0.05:
        at = _fix_at(epochs, points, opened + int(seconds * (0.2 + 0.6 * noise(seed, imei, opened, 15))))
        if at is not None:
            out.append(_alarm(device, "3", at))
    if device.role == "reefer" and door_amplitude(seed, device, opened) > 6.0:
        at = _fix_at(epochs, points, opened + min(300, seconds // 2))
        if at is not None:
            out.append(_alarm(device, "91", at))


def _fix_at(epochs, points: list, epoch: int) -> object | None:
    from bisect import bisect_right

    index = bisect_right(epochs, epoch) - 1
    return points[index] if index >= 0 else None


def _night(seed: int, device: Device, earliest: int, out: list[Alarm]) -> None:
    imei = int(device.imei)
    for type_id, salt, share in (("2", 16, 0.01), ("90", 17, 0.01)):
        if noise(seed, imei, earliest, salt) < share:
            epoch = earliest + int(2400 * noise(seed, imei, earliest, salt + 10))
            point = stationary_point(seed, device, epoch, device.habits.base, False, 0)
            out.append(_alarm(device, type_id, point))
