"""Alarms (`device.alarm.list`) and OBD data (`device.obd.list` readings, `device.obd.fault` fault codes).

All three are read for batches of 50 IMEIs over windows of a month at most, with one cursor per resource.

- `alarm.list` is paged by `page_no` with no total and silently caps a window at 1,000 rows (newest first): a
  window that reaches the cap is split in two until none does, so nothing is dropped. Two paging shapes are
  seen (docs/jimi-api.md #10): the documented `page_no` with `page_size` up to 100, and servers that
  ignore the page number and answer the first page again; a window whose first page comes back again is
  split in two as well, until one page holds it.
- The OBD methods page by `page_no` with a `data.totalRecord`; their `totalPage` is unreliable, so the page
  count is computed from the total.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import settings
from ..client import JimiClient
from ..decode import Shape, decode, total_of
from ..fields import known
from ..paging import describe, first_key, pages_from_total, pages_until_short

if TYPE_CHECKING:
    from ..registry import Endpoint
    from ..run import SourceRun

ALARMS = Shape(
    method=settings.ALARM_LIST,
    path=("result",),
    fields={
        "imei": "VARCHAR",
        "deviceName": "VARCHAR",
        "model": "VARCHAR",
        "alertTypeId": "VARCHAR",
        "alarmTypeName": "VARCHAR",
        "alertTypeName": "VARCHAR",
        "alertTime": "TIMESTAMP",
        "positioningTime": "TIMESTAMP",
        "lat": "DOUBLE",
        "lng": "DOUBLE",
        "speed": "DOUBLE",
        "geoid": "VARCHAR",
    },
    select=f"""
        r.imei as imei,
        r.alertTime as alarm_time,
        r.alertTypeId as alarm_type_id,
        coalesce(r.alarmTypeName, r.alertTypeName) as alarm_type_name,
        r.positioningTime as position_time,
        r.lat as lat,
        r.lng as lng,
        {known("r.speed")} as speed_kmh,
        nullif(r.geoid, '') as geofence_id,
        r.deviceName as device_name,
        r.model as model
    """,
    where="r.imei is not null and r.alertTime is not null and r.alertTypeId is not null",
    keys=("imei", "alarm_time", "alarm_type_id"),
)

OBD_READINGS = Shape(
    method=settings.OBD_LIST,
    path=("data", "result"),
    fields={
        "imei": "VARCHAR",
        "dataReportTime": "TIMESTAMP",
        "odometerReading": "DOUBLE",
        "deviceAccumulatedMileage": "DOUBLE",
        "remainingFuel": "DOUBLE",
        "remainingFuelPercentage": "DOUBLE",
        "coolantTemperature": "DOUBLE",
        "vehicleBatterVoltage": "DOUBLE",
        "currentRPM": "DOUBLE",
        "currentSpeed": "DOUBLE",
        "vin": "VARCHAR",
    },
    select="""
        r.imei as imei,
        r.dataReportTime as report_time,
        r.odometerReading as odometer_km,
        r.deviceAccumulatedMileage as device_mileage_km,
        r.remainingFuel as fuel_remaining_l,
        r.remainingFuelPercentage as fuel_remaining_pct,
        r.coolantTemperature as coolant_temp_c,
        r.vehicleBatterVoltage as battery_voltage_raw,
        -- "118" means 11.8 V: the field is in tenths of a volt.
        r.vehicleBatterVoltage / 10.0 as battery_voltage_v,
        r.currentRPM as engine_rpm,
        r.currentSpeed as speed_kmh,
        nullif(r.vin, '') as vin
    """,
    where="r.imei is not null and r.dataReportTime is not null",
    keys=("imei", "report_time"),
)

OBD_FAULTS = Shape(
    method=settings.OBD_FAULT,
    path=("data", "result"),
    fields={
        "imei": "VARCHAR",
        "deviceName": "VARCHAR",
        "faultCode": "VARCHAR",
        "faultDetail": "VARCHAR",
        "eventTime": "TIMESTAMP",
    },
    select="""
        r.imei as imei,
        r.eventTime as event_time,
        upper(trim(r.faultCode)) as fault_code,
        r.faultDetail as fault_detail,
        r.deviceName as device_name
    """,
    where="r.imei is not null and r.eventTime is not null and r.faultCode is not null",
    keys=("imei", "event_time", "fault_code"),
)


def alarms(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    return run.batch_windows(endpoint, partial(fetch_alarms, run.client))


def obd_readings(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    fetch = partial(fetch_obd, run.client, settings.OBD_LIST, run.account)
    return run.batch_windows(endpoint, fetch)


def obd_faults(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    fetch = partial(fetch_obd, run.client, settings.OBD_FAULT, run.account)
    return run.batch_windows(endpoint, fetch)


def fetch_alarms(client: JimiClient, imeis: list[str], begin: datetime, end: datetime) -> list[pa.Table]:
    """Every alarm of one window: pages of 100 until a short one, split in two while the window hits the cap
    or its first page comes back again (the page number ignored)."""

    def page(page_no: int) -> pa.Table:
        params = {
            "imeis": ",".join(imeis),
            "begin_time": begin,
            "end_time": end,
            "page_no": page_no,
            "page_size": settings.PAGE_SIZE,
        }
        return client.call(
            settings.ALARM_LIST, params, describe(imeis, begin, end), decode=partial(decode, ALARMS)
        )

    tables = pages_until_short(
        page,
        first=1,
        step=1,
        page_size=settings.PAGE_SIZE,
        head=first_key("alarm_time"),
        max_pages=settings.ALARM_ROW_CAP // settings.PAGE_SIZE + 1,
    )
    rows = sum(table.num_rows for table in tables)
    if (tables.repeated or rows >= settings.ALARM_ROW_CAP) and end - begin > settings.ALARM_MIN_SPLIT:
        middle = begin + (end - begin) / 2
        return fetch_alarms(client, imeis, begin, middle) + fetch_alarms(client, imeis, middle, end)
    return tables


def fetch_obd(
    client: JimiClient, method: str, account: str, imeis: list[str], begin: datetime, end: datetime
) -> list[pa.Table]:
    """`obd.list` / `obd.fault`: every page of one window, counted from `data.totalRecord`."""
    shape = OBD_READINGS if method == settings.OBD_LIST else OBD_FAULTS

    def page(page_no: int) -> tuple[pa.Table, int | None]:
        params = {
            "account": account,
            "imeis": ",".join(imeis),
            "start_time": begin,
            "end_time": end,
            "page_no": page_no,
            "page_size": settings.PAGE_SIZE,
        }
        return client.call(method, params, describe(imeis, begin, end), decode=partial(_with_total, shape))

    return pages_from_total(page, settings.PAGE_SIZE)


def _with_total(shape: Shape, body: bytes) -> tuple[pa.Table, int | None]:
    return decode(shape, body), total_of(body, "data", "totalRecord")
