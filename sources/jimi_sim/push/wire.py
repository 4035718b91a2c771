"""Push item shapes, one builder per family, as IoT Hub receivers see them (docs/jimi-api.md#families).

Types follow the field tables: ints where the push doc says int (`acc`, `gpsSpeed`, `postType`, odometer
`distance` in metres), JSON-in-a-string for `lbsJson`, an object for `obdJson`, times UTC
`yyyy-MM-dd HH:mm:ss` (trip reports: BCD `yyMMddHHmmss`, fault `eventTime`: Unix seconds). `/pushalarm`
items carry `imei` (not `deviceImei`) and the alarm inside `msg`. `malformed()` breaks an item the ways
real senders have (a fault for receivers to survive).
"""

from __future__ import annotations

import orjson

from sources.jimi_sim.timetext import epoch_text
from sources.jimi_sim.world.alarms import Alarm
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.model import POS_GPS
from sources.jimi_sim.world.obd import DtcFault, ObdReading
from sources.jimi_sim.world.rand import noise

TIMEZONE = "GMT+03:00"  # the trackers are set to Nairobi time; every time they push is still UTC
_OIL_UNITS = {"int": 2, "text": "%"}


def gps_item(imei: str, fix: tuple, arrival: int, odometer_km: float, late: bool) -> dict[str, object]:
    """fix = (epoch, lat, lng, speed, direction, satellites, acc, pos_type)."""
    epoch, lat, lng, speed, direction, satellites, acc, pos_type = fix
    gps = pos_type == POS_GPS
    return {
        "deviceImei": imei,
        "gpsTime": epoch_text(epoch),
        "gateTime": epoch_text(arrival if late else epoch + 1 + epoch % 3),
        "satelliteNum": satellites,
        "lng": lng,
        "lat": lat,
        "gpsMode": 1 if late else 0,  # 1 = re-upload of buffered fixes
        "gpsSpeed": int(speed + 0.5) if gps else 0,
        "direction": direction,
        "acc": int(acc),
        "postType": pos_type,
        "altitude": 1640 + int(120 * noise(int(lat * 1e3), int(lng * 1e3))),
        "status": int(acc) | (2 if gps else 0),  # bit 0 mirrors ACC, bit 1 "positioned"
        "distance": int(odometer_km * 1000),
    }


def lbs_item(imei: str, epoch: int, lat: float, lng: float) -> dict[str, object]:
    """Raw cell data of an LBS fix: Safaricom Kenya (MCC 639, MNC 2), three neighbouring cells."""
    lac, cell = 40000 + int(abs(lat * 1e3)) % 900, int(abs(lng * 1e5)) % 60000
    cells = ";".join(f"{lac},{cell + k * 7},{-65 - 9 * k}" for k in range(3))
    body = {"mcc": 639, "mnc": 2, "cellList": cells}
    return {
        "deviceImei": imei,
        "gateTime": epoch_text(epoch + 1),
        "lbsJson": orjson.dumps(body).decode(),
        "postType": "LBS",
    }


def alarm_item(device: Device, alarm: Alarm) -> dict[str, object]:
    jtt = device.equipment.is_dashcam  # JT/T 808 dashcams send msgClass 1 and string codes
    return {
        "type": "DEVICE",
        "msgClass": 1 if jtt else 0,
        "imei": device.imei,
        "gateTime": epoch_text(alarm.epoch),
        "msg": {
            "alertType": alarm.type_id if jtt else int(alarm.type_id),
            "alarmTime": epoch_text(alarm.fix_epoch),
            "lat": alarm.lat,
            "lng": alarm.lng,
            "gpsSpeed": int(alarm.speed_kmh + 0.5),
            "alertValue": "",
        },
    }


def hb_item(imei: str, epoch: int, acc: bool, positioned: bool, power: int, gsm: int) -> dict[str, object]:
    return {
        "deviceImei": imei,
        "gateTime": epoch_text(epoch),
        "powerLevel": power,
        "gsmSign": gsm,
        "acc": int(acc),
        "oilEle": 0,
        "gpsPos": int(positioned),
        "remoteLock": 0,
        "powerStatus": int(acc),
        "fortify": 0,
    }


def event_item(imei: str, kind: str, epoch: int) -> dict[str, object]:
    return {"deviceImei": imei, "type": kind, "gateTime": epoch_text(epoch), "timezone": TIMEZONE}


def obd_item(imei: str, reading: ObdReading) -> dict[str, object]:
    """`obdJson` keys `dataID<PID>`: 12 RPM, 13 speed, 5 coolant °C, 47 fuel %, 66 module voltage mV."""
    return {
        "deviceImei": imei,
        "gateTime": epoch_text(reading.epoch + 1),
        "obdJson": {
            "car_type": 2,
            "push_time": epoch_text(reading.epoch + 1),
            "event_time": epoch_text(reading.epoch),
            "AccState": int(reading.acc),
            "statusFlags": 0,
            "lng": reading.lng,
            "lat": reading.lat,
            "dataID12": reading.rpm,
            "dataID13": int(reading.speed_kmh + 0.5),
            "dataID5": int(reading.coolant_c + 0.5),
            "dataID47": int(reading.fuel_pct + 0.5),
            "dataID66": reading.battery_dv * 100,
        },
    }


def fault_item(imei: str, fault: DtcFault) -> dict[str, object]:
    return {
        "deviceImei": imei,
        "gateTime": epoch_text(fault.epoch + 1),
        "faultCodeList": [fault.code],
        "faultNum": 1,
        "statusFlags": 0,
        "lng": fault.lng,
        "lat": fault.lat,
        "eventTime": fault.epoch,
    }


def trip_item(
    imei: str, seq: int, start: tuple, end: tuple, km: float, fuel_l: float, idle_s: int, ended: bool
) -> dict[str, object]:
    """A trip report at its start (properties 1, nothing driven yet) or at its end (properties 2)."""
    (t0, lat0, lng0), (t1, lat1, lng1) = start, end
    return {
        "deviceImei": imei,
        "gateTime": epoch_text((t1 if ended else t0) + 1),
        "miles": round(km, 3) if ended else 0.0,
        "oils": round(fuel_l, 2) if ended else 0.0,
        "idleTimes": idle_s if ended else 0,
        "tripSeq": seq,
        "beginTime": bcd(t0),
        "endTime": bcd(t1) if ended else "",
        "beginLat": lat0,
        "beginLng": lng0,
        "endLat": lat1 if ended else 0.0,
        "endLng": lng1 if ended else 0.0,
        "properties": 2 if ended else 1,
    }


def oil_item(imei: str, epoch: int, level_pct: float, lat: float, lng: float, unit: str) -> dict[str, object]:
    """A fuel probe reading: `value` is hundredths of the unit (here percent)."""
    return {
        "deviceImei": imei,
        "path": 1,
        "gateTime": epoch_text(epoch + 1),
        "value": int(level_pct * 100),
        "unit": _OIL_UNITS[unit],
        "gpsTime": epoch_text(epoch),
        "lng": lng,
        "lat": lat,
    }


def tem_item(imei: str, epoch: int, temp: float, humidity: float) -> dict[str, object]:
    return {
        "deviceImei": imei,
        "tem": temp,
        "hum": humidity,
        "gateTime": epoch_text(epoch + 1),
        "postTime": epoch_text(epoch + 2),
    }


def bcd(epoch: int) -> str:
    """`yyMMddHHmmss` (the trip report's "BCD format")."""
    text = epoch_text(epoch)
    return text[2:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]


def malformed(item: dict[str, object], how: float) -> dict[str, object]:
    """The item broken one of four ways: no IMEI, a number as text, an impossible time, nothing at all."""
    broken = dict(item)
    variant = int(how * 4)
    if variant == 0:
        broken.pop("deviceImei", None)
        broken.pop("imei", None)
    elif variant == 1:
        for key in ("lat", "gpsSpeed", "powerLevel", "tem", "value", "miles", "msg", "obdJson", "faultNum"):
            if key in broken:
                broken[key] = "n/a"
                break
    elif variant == 2:
        broken["gateTime"] = "2026-13-45 99:99:99"
    else:
        broken = {}
    return broken
