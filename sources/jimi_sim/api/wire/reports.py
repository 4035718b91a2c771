"""Wire shapes of the report methods: mileage trips, parking rows, alarms, OBD readings and fault codes.

As the sources type them (docs/jimi-api.md#reports, #alarms-and-obd): mileage coordinates and distances are
numbers, parking values are strings with ISO-8601 `...T...000Z` times, alarm and OBD values are strings,
and each discrepancy (docs/jimi-api.md#discrepancy-register) takes the side its `Shapes` variant names.
"""

from __future__ import annotations

import math
from datetime import datetime

from sources.jimi_sim.api.shapes import Shapes
from sources.jimi_sim.timetext import epoch_text, utc_text
from sources.jimi_sim.world.alarms import Alarm
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.model import Stop, Trip
from sources.jimi_sim.world.obd import DtcFault, ObdReading

_PLACES = (
    "Moi Avenue",
    "Mombasa Road",
    "Thika Road",
    "Ngong Road",
    "Waiyaki Way",
    "Jogoo Road",
    "Langata Road",
    "Kiambu Road",
    "Outer Ring Road",
    "Enterprise Road",
    "Lusaka Road",
)


def mileage_trip(imei: str, trip: Trip, idle_s: int, max_speed: float, shapes: Shapes) -> dict[str, object]:
    """One `jimi.device.track.mileage` trip."""
    seconds = int((trip.end_time - trip.start_time).total_seconds())
    hours = max(seconds, 1) / 3600
    return {
        "imei": imei,
        "startTime": utc_text(trip.start_time),
        "endTime": utc_text(trip.end_time),
        "startLat": trip.start_lat,
        "startLng": trip.start_lng,
        "endLat": trip.end_lat,
        "endLng": trip.end_lng,
        shapes.mileage_duration_key: seconds,
        "idleSecond": idle_s,
        "distance": distance(trip.distance_km, shapes),
        "avgSpeed": round(trip.distance_km / hours, 1),
        "maxSpeed": int(max_speed + 0.5),
    }


def distance(km: float, shapes: Shapes) -> float:
    return round(km, 3) if shapes.mileage_unit == "km" else round(km * 1000, 1)


def parking_row(device: Device, stop: Stop) -> dict[str, object]:
    """One row of `jimi.open.platform.report.parking` (`stop.end_time` must be set)."""
    assert stop.end_time is not None
    seconds = str(int((stop.end_time - stop.start_time).total_seconds()))
    return {
        "imei": device.imei,
        "startTime": iso_text(stop.start_time),
        "endTime": iso_text(stop.end_time),
        "durSecond": seconds,
        "stopSecond": seconds,
        "lng": stop.lng,
        "lat": stop.lat,
        "addr": address(stop.lat, stop.lng),
        "deviceName": device.device_name,
        "mcType": device.mc_type,
        "acc": "on" if stop.kind == "idling" else "off",
    }


def iso_text(moment: datetime) -> str:
    """The parking report's own time format: `2022-12-10T01:05:33.000Z`."""
    return utc_text(moment).replace(" ", "T") + ".000Z"


def address(lat: float, lng: float) -> str:
    """A stable made-up street address, cut with "..." the way the platform truncates long ones."""
    road = _PLACES[int(abs(lat * 1e4) + abs(lng * 1e4)) % len(_PLACES)]
    return f"{int(abs(lat * 1e5)) % 400 + 1} {road}, Nairobi..."


def alarm_row(device: Device, alarm: Alarm, account: str, shapes: Shapes) -> dict[str, object]:
    """One `jimi.device.alarm.list` entry."""
    return {
        "deviceName": device.device_name,
        "imei": device.imei,
        "model": device.mc_type,
        "account": account,
        "alertTypeId": alarm.type_id,
        shapes.alarm_name_key: alarm.name,
        "alertTime": epoch_text(alarm.epoch),
        "positioningTime": epoch_text(alarm.fix_epoch),
        "lat": alarm.lat,
        "lng": alarm.lng,
        "speed": str(int(alarm.speed_kmh + 0.5)),
        "geoid": alarm.geoid,
    }


def obd_row(device: Device, reading: ObdReading, shapes: Shapes) -> dict[str, object]:
    """One `jimi.device.obd.list` reading (every value a string; fuel as a percentage)."""
    return {
        "imei": device.imei,
        "dataReportTime": obd_time(reading.epoch, shapes),
        "odometerReading": f"{reading.odometer_km:.1f}",
        "deviceAccumulatedMileage": f"{reading.device_km:.1f}",
        "remainingFuel": None,
        "remainingFuelPercentage": str(int(reading.fuel_pct + 0.5)),
        "coolantTemperature": str(int(reading.coolant_c + 0.5)),
        "vehicleBatterVoltage": str(reading.battery_dv),
        "currentRPM": str(reading.rpm),
        "currentSpeed": f"{reading.speed_kmh:.1f}",
        "vin": device.car_frame,
    }


def fault_row(device: Device, fault: DtcFault) -> dict[str, object]:
    """One `jimi.device.obd.fault` entry."""
    return {
        "imei": device.imei,
        "deviceName": device.device_name,
        "faultCode": fault.code,
        "faultDetail": fault.detail,
        "eventTime": epoch_text(fault.epoch),
    }


def obd_time(epoch: int, shapes: Shapes) -> str:
    text = epoch_text(epoch)
    if shapes.obd_time == "unpadded" and text[11] == "0":
        return text[:11] + text[12:]  # "2024-05-09 1:27:23", as the spec's example prints it
    return text


def paging(page_no: int, page_size: int, total: int, rows: list[dict], shapes: Shapes) -> dict[str, object]:
    """The OBD methods' `data` object around one page of rows."""
    if shapes.obd_paging == "zeros":
        start_row = end_row = total_page = 0
    else:
        start_row = (page_no - 1) * page_size + 1 if rows else 0
        end_row = start_row + len(rows) - 1 if rows else 0
        total_page = math.ceil(total / page_size)
    return {
        "currentPage": page_no,
        "pageSize": page_size,
        "startRow": start_row,
        "endRow": end_row,
        "totalRecord": total,
        "totalPage": total_page,
        "result": rows,
    }
