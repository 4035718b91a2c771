"""Wire shapes: fleet objects rendered exactly as the vendor's JSON examples type them (§5.3, §5.7).

Types matter to consumers: `enabledFlag` is an int, track `direction`/`gpsSpeed`/`posType`/`satellite` are
numbers while `ignition`/`accStatus` are "ON"/"OFF" strings, and times are `yyyy-MM-dd HH:mm:ss` UTC.
"""

from __future__ import annotations

from datetime import datetime

from sources.jimi.signing import format_time
from sources.jimi_sim.catalogue import Device
from sources.jimi_sim.model import POS_GPS, Point


def device_item(device: Device) -> dict[str, object]:
    """One `jimi.user.device.list` entry."""
    return {
        "imei": device.imei,
        "deviceName": device.device_name,
        "mcType": device.mc_type,
        "mcTypeUseScope": "automobile",
        "sim": device.sim,
        "expiration": format_time(device.expiration),
        "activationTime": format_time(device.activation_time),
        "reMark": "",
        "vehicleName": device.vehicle_name,
        "vehicleIcon": device.vehicle_icon,
        "vehicleNumber": device.vehicle_number,
        "vehicleModels": None,
        "carFrame": device.car_frame,
        "driverName": device.driver_name,
        "driverPhone": device.driver_phone,
        "enabledFlag": 1 if device.enabled else 0,
        "engineNumber": device.engine_number,
        "deviceGroupId": device.group_id,
        "deviceGroup": device.group_name,
    }


def track_point(point: Point) -> dict[str, object]:
    """One `jimi.device.track.list` point."""
    acc = "ON" if point.acc else "OFF"
    return {
        "lat": point.lat,
        "lng": point.lng,
        "gpsTime": utc_text(point.gps_time),
        "direction": point.direction,
        # Half-up rounding, as a speedometer would; non-GPS fixes carry no speed (-1), per the example.
        "gpsSpeed": int(point.speed_kmh + 0.5) if point.pos_type == POS_GPS else -1,
        "posType": point.pos_type,
        "satellite": point.satellites,
        "ignition": acc,
        "accStatus": acc,
    }


def utc_text(moment: datetime) -> str:
    """`yyyy-MM-dd HH:mm:ss` of an aware-UTC datetime; the hot-path twin of `signing.format_time`."""
    return moment.isoformat(" ", "seconds")[:19]
