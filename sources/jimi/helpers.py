"""Turning Jimi answers into typed rows, and cutting time ranges into the windows the API accepts.

Field names: every table keeps the API's meaning under a snake_case name with its unit. The mappings
below are the documented way back to the raw API names (`RAW_NAMES`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from .errors import JimiResponseError
from .signing import TIME_FORMAT, parse_time

# Table column -> API field, per resource (raw names stay recoverable).
RAW_NAMES: dict[str, dict[str, str]] = {
    "track_points": {
        "imei": "(request imei)",
        "gps_time": "gpsTime",
        "lat": "lat",
        "lng": "lng",
        "speed_kmh": "gpsSpeed (-1 on non-GPS fixes -> null)",
        "direction_deg": "direction (-1 unknown -> null)",
        "pos_type": "posType (1 GPS, 2 LBS, 3 WIFI)",
        "satellites": "satellite",
        "acc_on": "accStatus (ON/OFF)",
        "ignition_on": "ignition (ON/OFF)",
        "altitude_m": "altitude (undocumented, optional)",
    },
    "devices": {
        "imei": "imei",
        "device_name": "deviceName",
        "model": "mcType",
        "use_scope": "mcTypeUseScope",
        "sim": "sim",
        "remark": "reMark",
        "vehicle_name": "vehicleName",
        "vehicle_icon": "vehicleIcon",
        "vehicle_number": "vehicleNumber",
        "vehicle_model": "vehicleModels",
        "car_frame": "carFrame",
        "driver_name": "driverName",
        "driver_phone": "driverPhone",
        "engine_number": "engineNumber",
        "group_id": "deviceGroupId",
        "group_name": "deviceGroup",
        "enabled": "enabledFlag (1/0)",
        "expires_at": "expiration",
        "activated_at": "activationTime",
    },
}

TRACK_POINT_SCHEMA = pa.schema(
    [
        ("imei", pa.string()),
        ("gps_time", pa.timestamp("us", tz="UTC")),
        ("lat", pa.float64()),
        ("lng", pa.float64()),
        ("speed_kmh", pa.float64()),
        ("direction_deg", pa.float64()),
        ("pos_type", pa.int16()),
        ("satellites", pa.int16()),
        ("acc_on", pa.bool_()),
        ("ignition_on", pa.bool_()),
        ("altitude_m", pa.float64()),
    ]
)

_POS_TYPES = {"GPS": 1, "LBS": 2, "WIFI": 3, "BEACON": 4}


def as_rows(payload: object, what: str) -> list[dict]:
    """A `result` that should be a list: `null` is empty, a lone object is wrapped, anything else refused."""
    if payload is None:
        return []
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list) and all(isinstance(item, dict) for item in payload):
        return payload
    raise JimiResponseError(what, None, f"expected a list of objects, got {type(payload).__name__}")


def _number(value: object) -> float | None:
    """Numbers arrive as numbers or strings (discrepancy 18); empty means unknown."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _on_off(value: object) -> bool | None:
    """ACC/ignition as `"ON"/"OFF"` (track), `"1"/"0"` (location) or `1/0` (push): discrepancy 19."""
    if value is None or value == "":
        return None
    text = str(value).strip().upper()
    if text in ("ON", "1", "TRUE"):
        return True
    if text in ("OFF", "0", "FALSE"):
        return False
    return None


def _pos_type(value: object) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip().upper()
    return _POS_TYPES.get(text) or (int(float(text)) if text.replace(".", "", 1).isdigit() else None)


def _nonnegative(value: float | None) -> float | None:
    # -1 marks "unknown" for speed (non-GPS fixes) and direction.
    return None if value is None or value < 0 else value


def track_points_table(imei: str, points: Sequence[dict]) -> pa.Table:
    """A typed Arrow table of one device's track.list points (columnar: fast enough for backfills)."""
    times = pa.array([p.get("gpsTime") for p in points], pa.string())
    try:
        gps_time = pc.strptime(times, format=TIME_FORMAT, unit="us", error_is_null=False)
    except pa.ArrowInvalid as exc:
        raise JimiResponseError("jimi.device.track.list", None, f"bad gpsTime for imei {imei}: {exc}") from None
    columns = {
        "imei": pa.array([imei] * len(points), pa.string()),
        "gps_time": gps_time.cast(pa.timestamp("us", tz="UTC")),
        "lat": pa.array([_number(p.get("lat")) for p in points], pa.float64()),
        "lng": pa.array([_number(p.get("lng")) for p in points], pa.float64()),
        "speed_kmh": pa.array([_nonnegative(_number(p.get("gpsSpeed"))) for p in points], pa.float64()),
        "direction_deg": pa.array([_nonnegative(_number(p.get("direction"))) for p in points], pa.float64()),
        "pos_type": pa.array([_pos_type(p.get("posType")) for p in points], pa.int16()),
        "satellites": pa.array(
            [None if (n := _number(p.get("satellite"))) is None else int(n) for p in points], pa.int16()
        ),
        "acc_on": pa.array([_on_off(p.get("accStatus")) for p in points], pa.bool_()),
        "ignition_on": pa.array([_on_off(p.get("ignition")) for p in points], pa.bool_()),
        "altitude_m": pa.array([_number(p.get("altitude")) for p in points], pa.float64()),
    }
    return pa.table(columns, schema=TRACK_POINT_SCHEMA)


def parse_api_time(value: object) -> datetime | None:
    """`yyyy-MM-dd HH:mm:ss` UTC (hour possibly unpadded) as an aware datetime; empty is None."""
    if value is None or value == "":
        return None
    try:
        return parse_time(str(value))
    except ValueError:
        return None


def device_row(item: dict) -> dict:
    """One device.list entry as a typed row."""
    raw = RAW_NAMES["devices"]
    row: dict[str, object] = {}
    for column, field in raw.items():
        key = field.split(" ")[0]
        row[column] = item.get(key)
    row["imei"] = str(item.get("imei") or "").strip()
    if not row["imei"]:
        raise JimiResponseError("jimi.user.device.list", None, "a device entry has no imei")
    flag = _number(item.get("enabledFlag"))
    row["enabled"] = None if flag is None else flag == 1
    row["expires_at"] = parse_api_time(item.get("expiration"))
    row["activated_at"] = parse_api_time(item.get("activationTime"))
    return row


def windows(start: datetime, end: datetime, max_span: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Cut [start, end) into consecutive windows no longer than `max_span`."""
    cursor = start
    while cursor < end:
        stop = min(end, cursor + max_span)
        yield cursor, stop
        cursor = stop
