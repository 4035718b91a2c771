"""Wire shapes of the device and position methods, typed exactly as the vendor's JSON examples (docs/jimi-api.md#devices, #positions).

Types matter to consumers: `enabledFlag` is an int, location values are strings (`"0"`/`"1"` ACC, speed,
odometer) while `lat`/`lng` are numbers, track `direction`/`gpsSpeed`/`posType`/`satellite` are numbers (or
strings, shape `track_types`) while `ignition`/`accStatus` are "ON"/"OFF", times are `yyyy-MM-dd HH:mm:ss`
UTC. Discrepancy variants come from `Shapes`. Report rows are in reports.py.
"""

from __future__ import annotations

from sources.jimi.signing import format_time
from sources.jimi_sim.api.shapes import Shapes
from sources.jimi_sim.timetext import epoch_text, utc_text
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.model import POS_GPS, Point
from sources.jimi_sim.world.status import DeviceStatus

POS_NAMES = {1: "GPS", 2: "LBS", 3: "WIFI"}


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


def detail_item(device: Device, account: str, odometer_km: float, shapes: Shapes) -> dict[str, object]:
    """The `jimi.track.device.detail` object: the list entry plus SIM, account and vehicle details."""
    item = device_item(device)
    equipment = device.equipment
    item.update(
        {
            "account": account,
            "customerName": customer_name(account),
            "user_expiration": f"{account},{device.expiration.date().isoformat()}",
            "iccid": equipment.iccid,
            "imsi": equipment.imsi,
            "importTime": format_time(device.activation_time.replace(hour=0, minute=0, second=0)),
            "status": "1" if device.enabled else "0",
            "licensePlatNo": device.vehicle_number,
            shapes.vin_key: device.car_frame,
            "vehicleBrand": equipment.brand,
            "fuel_100km": f"{equipment.consumption_l_100km:g}",
            "currentMileage": f"{odometer_km:.1f}",
        }
    )
    return item


def customer_name(account: str) -> str:
    return account.replace("_", " ").title()


def location_item(device: Device, status: DeviceStatus, shapes: Shapes) -> dict[str, object]:
    """One `jimi.user.device.location.list` entry (location.get adds the account fields)."""
    point = status.point
    gps = point.pos_type == POS_GPS
    return {
        "imei": device.imei,
        "deviceName": device.device_name,
        "icon": device.vehicle_icon,
        "status": "1" if status.online else "0",
        "posType": POS_NAMES.get(point.pos_type, "GPS"),
        "lat": 0 if status.expired else point.lat,  # the API zeroes an expired device's position
        "lng": 0 if status.expired else point.lng,
        "gpsTime": utc_text(point.gps_time),
        "hbTime": epoch_text(status.hb_epoch),
        "accStatus": "1" if point.acc else "0",
        "speed": str(int(point.speed_kmh + 0.5)),
        "direction": str(point.direction) if gps else "-1",
        "gpsNum": str(point.satellites),
        "gpsSignal": str(status.gsm),
        "activationFlag": "1",
        "expireFlag": "0" if status.expired else "1",
        shapes.battery_key: str(status.battery_pct),
        "powerValue": f"{status.volts:.1f}",
        "batteryPowerVal": "4.1" if status.battery_pct >= 90 else "3.9",
        "temperature": None if status.cargo is None else f"{status.cargo[0]:.1f}",
        "trackerOil": None if status.oil_volts is None else f"{status.oil_volts:.2f}",
        "locDesc": None,
        "currentMileage": f"{status.odometer_km:.1f}",
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


def group_item(group_id: str, name: str) -> dict[str, object]:
    return {"group_id": group_id, "group_name": name}
