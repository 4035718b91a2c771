"""A device's live status as the location APIs report it: latest arrived fix, heartbeat, sensor values.

Heartbeats go out every `HEARTBEAT_S` on a per-device grid, except while the device is off line (a late
block: it is buffering fixes because its data link is down), so `hbTime` and the online flag agree with
the push heartbeats and with the late fixes. Sensor values come from the activity that owns the fix.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.delivery import BLOCK_S
from sources.jimi_sim.world.driving.daylife import DayActivity
from sources.jimi_sim.world.model import POS_LBS, Point
from sources.jimi_sim.world.rand import quick
from sources.jimi_sim.world.vehicle import (
    cargo,
    external_volts,
    fuel_pct,
    fuel_sensor_volts,
    gsm_level,
    odometer_km,
)

if TYPE_CHECKING:
    from sources.jimi_sim.world.fleet import Fleet

HEARTBEAT_S = 180
ONLINE_WITHIN_S = 600


class DeviceStatus(NamedTuple):
    point: Point
    hb_epoch: int
    online: bool
    expired: bool
    odometer_km: float
    fuel_pct: float | None  # fuel-sensor trucks and OBD cars
    oil_volts: float | None  # the raw fuel probe value (`trackerOil`), fuel-sensor trucks only
    cargo: tuple[float, float] | None  # reefers: (°C, % RH)
    volts: float
    battery_pct: int
    gsm: int


def heartbeat_before(fleet: Fleet, device: Device, epoch: int) -> int:
    """The last heartbeat at or before epoch; none are sent during late (off-line) blocks."""
    phase = int(device.imei) % HEARTBEAT_S
    beat = epoch - (epoch - phase) % HEARTBEAT_S
    key = int(device.imei)
    for _ in range(400):
        if fleet.delivery.release(key, beat // BLOCK_S) is None:
            return beat
        block_start = (beat // BLOCK_S) * BLOCK_S
        beat = block_start - 1 - (block_start - 1 - phase) % HEARTBEAT_S
    return beat


def device_status(fleet: Fleet, device: Device, now: datetime) -> DeviceStatus | None:
    """The status location.list shows at now, or None for a device with no fix (silently omitted)."""
    now_epoch = int(now.timestamp())
    if device.expiration <= now:
        # The platform stopped serving it: zeroed position at the end of service, off line.
        point = Point(device.expiration, 0.0, 0.0, 0.0, 0, False, 0)
        epoch = int(device.expiration.timestamp())
        return DeviceStatus(
            point,
            epoch,
            False,
            True,
            device.equipment.odometer_base_km,
            None,
            None,
            None,
            external_volts(device, False, 0.5),
            100,
            0,
        )
    point = fleet.latest_fix(device.imei, now)
    if point is None:
        return None
    return fix_status(fleet, device, point, now_epoch)


def fix_status(
    fleet: Fleet,
    device: Device,
    point: Point,
    now_epoch: int,
    owner: tuple[date, DayActivity | None] | None = None,
) -> DeviceStatus:
    """The status around a device's latest fix: heartbeat and online flag at now, sensors at the fix.

    `owner` is `fleet.owner(imei, fix epoch)` when the caller already knows it.
    """
    seed, epoch = fleet.settings.seed, int(point.gps_time.timestamp())
    hb = max(heartbeat_before(fleet, device, now_epoch), epoch)
    day, activity = owner if owner is not None else fleet.owner(device.imei, epoch)
    role = device.role
    level = fuel_pct(device, activity, epoch) if role in ("fuel", "obd") else None
    u = quick(seed, int(device.imei), epoch)
    traced = device.imei in fleet.traces
    return DeviceStatus(
        point=point,
        hb_epoch=hb,
        online=now_epoch - hb <= ONLINE_WITHIN_S,
        expired=False,
        odometer_km=fleet.records.odometer_km(device.imei, epoch)
        if traced
        else odometer_km(device, day, activity, epoch),
        fuel_pct=level,
        oil_volts=fuel_sensor_volts(level) if role == "fuel" and level is not None else None,
        cargo=cargo(seed, device, activity, epoch) if role == "reefer" else None,
        volts=external_volts(device, point.acc, u),
        battery_pct=100 if point.acc else 95 + int(5 * u),
        gsm=gsm_level(point.pos_type == POS_LBS, (u * 7.919) % 1.0),
    )
