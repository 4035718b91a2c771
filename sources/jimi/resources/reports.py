"""The mileage and parking reports: `trips` (`device.track.mileage`) and `parking` (`open.platform.report.parking`).

Both are read for batches of 50 IMEIs over windows of a week, with one cursor per resource (`SourceRun.windowed`).

- Mileage reports a trip's distance in km in production and in metres per the vendor spec: `auto` decides per
  trip from its own average speed and duration (docs/jimi-api.md #1).
- The parking report has been seen wanting `acc_type` as on/off and as 0 (answering the wrong one with 1001 or
  with no rows at all), and is picky about `start_row`/`page_size`: the first window with stops probes the
  combinations in order, and the run's `parking_dialect` remembers what was accepted.
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
from ..errors import JimiParameterError
from ..fields import on
from ..paging import describe, first_key, pages_until_short

if TYPE_CHECKING:
    from ..registry import Endpoint
    from ..run import SourceRun

_DISTANCE_RAW = "r.distance"
_RUN_S = "coalesce(r.runTimeSecond, r.elapsed)"


def trips_shape(distance_unit: str) -> Shape:
    """`track.mileage` trips. The distance unit is km in production and metres per the spec
    (docs/jimi-api.md #1): `auto` decides per trip from the reported average speed and duration, falling back to
    the implied speed (no vehicle averages 300 km/h)."""
    if distance_unit == "km":
        unit = "'km'"
    elif distance_unit == "m":
        unit = "'m'"
    else:
        expected_km = f"(r.avgSpeed * {_RUN_S} / 3600.0)"
        unit = (
            f"case when r.avgSpeed > 0 and {_RUN_S} > 0 "
            f"then (case when {_DISTANCE_RAW} > 100 * {expected_km} then 'm' else 'km' end) "
            f"when {_RUN_S} > 0 and {_DISTANCE_RAW} / ({_RUN_S} / 3600.0) > 300 then 'm' else 'km' end"
        )
    return Shape(
        method=settings.TRACK_MILEAGE,
        path=("result",),
        fields={
            "imei": "VARCHAR",
            "startTime": "TIMESTAMP",
            "endTime": "TIMESTAMP",
            "startLat": "DOUBLE",
            "startLng": "DOUBLE",
            "endLat": "DOUBLE",
            "endLng": "DOUBLE",
            "runTimeSecond": "BIGINT",
            "elapsed": "BIGINT",
            "idleSecond": "BIGINT",
            "distance": "DOUBLE",
            "avgSpeed": "DOUBLE",
            "maxSpeed": "DOUBLE",
        },
        select=f"""
            r.imei as imei,
            r.startTime as start_time,
            r.endTime as end_time,
            r.startLat as start_lat,
            r.startLng as start_lng,
            r.endLat as end_lat,
            r.endLng as end_lng,
            {_RUN_S} as run_seconds,
            r.idleSecond as idle_seconds,
            {_DISTANCE_RAW} as distance_raw,
            {unit} as distance_raw_unit,
            case when {unit} = 'm' then {_DISTANCE_RAW} / 1000.0 else {_DISTANCE_RAW} end as distance_km,
            r.avgSpeed as avg_speed_kmh,
            r.maxSpeed as max_speed_kmh
        """,
        where="r.imei is not null and r.startTime is not null",
        keys=("imei", "start_time"),
    )


PARKING = Shape(
    method=settings.PARKING,
    path=("data", "rows"),
    fields={
        "imei": "VARCHAR",
        "deviceName": "VARCHAR",
        "startTime": "TIMESTAMP",
        "endTime": "TIMESTAMP",
        "durSecond": "BIGINT",
        "stopSecond": "BIGINT",
        "lat": "DOUBLE",
        "lng": "DOUBLE",
        "addr": "VARCHAR",
        "acc": "VARCHAR",
    },
    select=f"""
        r.imei as imei,
        r.startTime as start_time,
        r.endTime as end_time,
        coalesce(r.durSecond, date_diff('second', r.startTime, r.endTime)) as duration_s,
        r.stopSecond as stop_seconds,
        r.lat as lat,
        r.lng as lng,
        r.addr as address,
        {on("r.acc")} as acc_on,
        case when {on("r.acc")} then 'idling' else 'parking' end as stop_kind,
        r.deviceName as device_name
    """,
    where="r.imei is not null and r.startTime is not null",
    keys=("imei", "start_time"),
)


def trips(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    return run.batch_windows(
        endpoint, partial(fetch_trips, run.client, distance_unit=run.mileage_distance_unit)
    )


def parking(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    fetch = partial(fetch_parking, run.client, run.account, dialect=run.parking_dialect)
    return run.batch_windows(endpoint, fetch)


def fetch_trips(
    client: JimiClient, imeis: list[str], begin: datetime, end: datetime, distance_unit: str
) -> list[pa.Table]:
    """`track.mileage`: paged with `start_row`/`page_size` and no total, so read until a short page."""
    shape = trips_shape(distance_unit)

    def page(start_row: int) -> pa.Table:
        params = {
            "imeis": ",".join(imeis),
            "begin_time": begin,
            "end_time": end,
            "start_row": start_row,
            "page_size": settings.MILEAGE_PAGE_SIZE,
        }
        return client.call(
            settings.TRACK_MILEAGE, params, describe(imeis, begin, end), decode=partial(decode, shape)
        )

    return pages_until_short(
        page,
        first=0,
        step=settings.MILEAGE_PAGE_SIZE,
        page_size=settings.MILEAGE_PAGE_SIZE,
        head=first_key("start_time"),
        max_pages=1000,
    )


def fetch_parking(
    client: JimiClient, account: str, imeis: list[str], begin: datetime, end: datetime, dialect: dict
) -> list[pa.Table]:
    """The parking/idling report, every stop kind, in the dialect the server accepts (module docstring)."""
    acc_choices = [dialect["acc_types"]] if "acc_types" in dialect else list(settings.PARKING_ACC_TYPES)
    refusals: list[JimiParameterError] = []
    for acc_types in acc_choices:
        try:
            tables = [
                table
                for acc_type in acc_types
                for table in _parking_pages(client, account, imeis, begin, end, acc_type, dialect)
            ]
        except JimiParameterError as exc:
            refusals.append(exc)
            continue
        if any(table.num_rows for table in tables):
            dialect["acc_types"] = acc_types
            return tables
    if len(refusals) == len(acc_choices):
        raise refusals[-1]  # every variant refused: a real parameter problem, not an empty window
    return []  # accepted, and no stops in this window


def _parking_pages(client, account, imeis, begin, end, acc_type, dialect) -> list[pa.Table]:
    pagings = [dialect["paging"]] if "paging" in dialect else list(settings.PARKING_PAGINGS)
    context = describe(imeis, begin, end)
    for first_row, page_size in pagings:
        params = {
            "account": account,
            "imeis": ",".join(imeis),
            "start_time": begin,
            "end_time": end,
            "acc_type": acc_type,
            "page_size": page_size,
        }
        try:
            tables, row = [], first_row
            for _ in range(settings.PARKING_MAX_PAGES):
                table, total = client.call(
                    settings.PARKING, {**params, "start_row": row}, context, decode=_with_total
                )
                tables.append(table)
                row += page_size
                if table.num_rows < page_size or total is None or row - first_row >= total:
                    break
        except JimiParameterError:
            if len(pagings) == 1:
                raise
            continue
        dialect["paging"] = (first_row, page_size)
        return tables
    raise JimiParameterError(
        settings.PARKING, 1001, "no start_row/page_size combination was accepted", context
    )


def _with_total(body: bytes) -> tuple[pa.Table, int | None]:
    return decode(PARKING, body), total_of(body, "data", "dataTotalRows")
