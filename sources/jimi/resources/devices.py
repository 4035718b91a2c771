"""The account's devices (`user.device.list` + `track.device.detail`) and groups (`device.group.list`).

Small answers, so plain Python rows with dlt column hints. Raw API name -> column: `DEVICE_FIELDS` for the
list, `DETAIL_FIELDS` for the detail call. Every device row also names the account it was read from
(`source_account`: user and base URL, never a secret), so a warehouse that holds two accounts can tell
their devices apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import settings
from ..errors import JimiResponseError
from ..helpers import as_rows, number, parse_api_time

if TYPE_CHECKING:
    from dlt.common.schema.typing import TTableSchemaColumns

    from ..registry import Endpoint
    from ..run import SourceRun

DEVICE_FIELDS = {
    "deviceName": "device_name",
    "mcType": "model",
    "mcTypeUseScope": "use_scope",
    "sim": "sim",
    "reMark": "remark",
    "vehicleName": "vehicle_name",
    "vehicleIcon": "vehicle_icon",
    "vehicleNumber": "vehicle_number",
    "vehicleModels": "vehicle_model",
    "carFrame": "car_frame",
    "driverName": "driver_name",
    "driverPhone": "driver_phone",
    "engineNumber": "engine_number",
    "deviceGroupId": "group_id",
    "deviceGroup": "group_name",
    # enabledFlag -> enabled (1/0), expiration -> expires_at, activationTime -> activated_at
}
DETAIL_FIELDS = {
    "account": "account",
    "customerName": "customer_name",
    "iccid": "iccid",
    "imsi": "imsi",
    "licensePlatNo": "license_plate",
    "vehicleBrand": "vehicle_brand",
    # vin | VIN -> vin (docs/jimi-api.md #25), importTime -> imported_at, fuel_100km -> fuel_l_per_100km,
    # currentMileage -> odometer_km, status "1"/"0" -> status_enabled (other values are not a status: null)
}
_TEXT = [*DEVICE_FIELDS.values(), *DETAIL_FIELDS.values(), "vin", "source_account"]
DEVICE_COLUMNS: TTableSchemaColumns = {
    "imei": {"data_type": "text", "nullable": False},
    **{name: {"data_type": "text"} for name in _TEXT},
    "enabled": {"data_type": "bool"},
    "status_enabled": {"data_type": "bool"},
    "expires_at": {"data_type": "timestamp"},
    "activated_at": {"data_type": "timestamp"},
    "imported_at": {"data_type": "timestamp"},
    "fuel_l_per_100km": {"data_type": "double"},
    "odometer_km": {"data_type": "double"},
}
GROUP_COLUMNS: TTableSchemaColumns = {
    "group_id": {"data_type": "text", "nullable": False},
    "group_name": {"data_type": "text"},
}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def device_row(item: dict) -> dict:
    """One `user.device.list` entry."""
    imei = str(item.get("imei") or "").strip()
    if not imei:
        raise JimiResponseError(settings.DEVICE_LIST, None, "a device entry has no imei")
    row: dict[str, object] = {"imei": imei}
    row.update({column: _text(item.get(field)) for field, column in DEVICE_FIELDS.items()})
    flag = number(item.get("enabledFlag"))
    row["enabled"] = None if flag is None else flag == 1
    row["expires_at"] = parse_api_time(item.get("expiration"))
    row["activated_at"] = parse_api_time(item.get("activationTime"))
    return row


def detail_row(result: object) -> dict:
    """The extra fields of one `track.device.detail` answer (an object)."""
    if not isinstance(result, dict):
        raise JimiResponseError(settings.DEVICE_DETAIL, None, "result is not an object")
    row: dict[str, object] = {column: _text(result.get(field)) for field, column in DETAIL_FIELDS.items()}
    row["vin"] = _text(result.get("vin") or result.get("VIN"))
    row["imported_at"] = parse_api_time(result.get("importTime"))
    row["fuel_l_per_100km"] = number(result.get("fuel_100km"))
    row["odometer_km"] = number(result.get("currentMileage"))
    status = str(result.get("status", "")).strip()
    row["status_enabled"] = {"1": True, "0": False}.get(status)
    return row


def group_rows(body: dict) -> list[dict]:
    """`device.group.list`: `group_id`/`group_name` (also read as `groupId`/`groupName`)."""
    rows = []
    for item in as_rows(body.get("result"), settings.GROUP_LIST):
        group_id = item.get("group_id") or item.get("groupId") or item.get("id")
        if group_id:
            rows.append(
                {
                    "group_id": str(group_id),
                    "group_name": _text(item.get("group_name") or item.get("groupName")),
                }
            )
    return rows


def devices(run: SourceRun, endpoint: Endpoint) -> Iterator[dict]:
    """The device list, each row completed by its detail call (concurrently)."""
    account = run.client.credentials.account_id

    def detailed(row: dict) -> dict:
        # All detail calls of a run make one record (a window per device would be a row per device).
        with run.client.stats.window(endpoint.name, settings.DEVICE_DETAIL) as tally:
            body = run.client.call(settings.DEVICE_DETAIL, {"imei": row["imei"]}, f"imei {row['imei']}")
            tally.add_rows(1)
        return {**row, **detail_row(body.get("result")), "source_account": account}

    for _, row in run.concurrently([(row,) for row in run.device_rows()], detailed):
        yield row


def device_groups(run: SourceRun, endpoint: Endpoint) -> Iterator[dict]:
    with run.client.stats.window(endpoint.name, endpoint.method) as tally:
        body = run.client.call(endpoint.method, {"account": run.account}, f"account {run.account}")
        rows = list(group_rows(body))
        tally.add_rows(len(rows))
    yield from rows
