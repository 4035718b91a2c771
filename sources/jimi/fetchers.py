"""One window of one endpoint, fetched completely: pagination, the API's caps and its picky parameters.

Each function returns the typed tables of every page; it raises (after the client's retries) rather than
return part of a window, so a cursor never moves past rows that were not read.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import partial

import pyarrow as pa

from . import settings, shapes
from .client import JimiClient
from .decode import decode, total_of
from .errors import JimiParameterError
from .signing import format_time


def _context(imeis: list[str], begin: datetime, end: datetime) -> str:
    devices = imeis[0] if len(imeis) == 1 else f"{len(imeis)} devices ({imeis[0]}…)"
    return f"{devices}, {format_time(begin)} to {format_time(end)}"


def track_points(client: JimiClient, imei: str, begin: datetime, end: datetime) -> pa.Table:
    """`track.list`: one IMEI, at most 7 days (the caller splits), no paging."""
    return client.call(
        settings.TRACK_LIST,
        {"imei": imei, "begin_time": begin, "end_time": end},
        _context([imei], begin, end),
        decode=partial(decode, shapes.TRACK_POINTS, key=imei),
    )


def trips(client: JimiClient, imeis: list[str], begin: datetime, end: datetime, distance_unit: str) -> list[pa.Table]:
    """`track.mileage`: paged with `start_row`/`page_size` and no total, so read until a short page."""
    shape = shapes.trips_shape(distance_unit)
    tables: list[pa.Table] = []
    start_row, first_seen = 0, None
    for _ in range(1000):
        table = client.call(
            settings.TRACK_MILEAGE,
            {
                "imeis": ",".join(imeis),
                "begin_time": begin,
                "end_time": end,
                "start_row": start_row,
                "page_size": settings.MILEAGE_PAGE_SIZE,
            },
            _context(imeis, begin, end),
            decode=partial(decode, shape),
        )
        head = _first_key(table, "start_time")
        if table.num_rows and head == first_seen:
            break  # the server ignored start_row and sent the first page again
        first_seen = first_seen or head
        tables.append(table)
        if table.num_rows < settings.MILEAGE_PAGE_SIZE:
            break
        start_row += settings.MILEAGE_PAGE_SIZE
    return tables


def parking(
    client: JimiClient, account: str, imeis: list[str], begin: datetime, end: datetime, dialect: dict
) -> list[pa.Table]:
    """The parking/idling report, every stop kind. The API has been seen wanting `acc_type` as on/off and as
    0/1, answering the wrong one with 1001 or with no rows at all (discrepancy 6), and being picky about
    `start_row`/`page_size` (7). `dialect` remembers what the server accepted, so only the first window that
    has stops pays for the probing."""
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
                page = client.call(
                    settings.PARKING, {**params, "start_row": row}, _context(imeis, begin, end), decode=_with_total
                )
                table, total = page
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
    raise JimiParameterError(settings.PARKING, 1001, "no start_row/page_size combination was accepted", _context(imeis, begin, end))


def _with_total(body: bytes) -> tuple[pa.Table, int | None]:
    return decode(shapes.PARKING, body), total_of(body, "data", "dataTotalRows")


def alarms(client: JimiClient, imeis: list[str], begin: datetime, end: datetime) -> list[pa.Table]:
    """`alarm.list`: paged by `page_no`, no total, silently capped at 1000 rows per window — a window that
    reaches the cap is split in two until none does, so nothing is dropped."""
    tables: list[pa.Table] = []
    first_seen = None
    for page_no in range(1, settings.ALARM_ROW_CAP // settings.PAGE_SIZE + 2):
        table = client.call(
            settings.ALARM_LIST,
            {
                "imeis": ",".join(imeis),
                "begin_time": begin,
                "end_time": end,
                "page_no": page_no,
                "page_size": settings.PAGE_SIZE,
            },
            _context(imeis, begin, end),
            decode=partial(decode, shapes.ALARMS),
        )
        head = _first_key(table, "alarm_time")
        if table.num_rows and page_no > 1 and head == first_seen:
            break  # the same first page again: the server ignored page_no
        first_seen = first_seen or head
        tables.append(table)
        if table.num_rows < settings.PAGE_SIZE:
            break
    rows = sum(table.num_rows for table in tables)
    if rows >= settings.ALARM_ROW_CAP and end - begin > settings.ALARM_MIN_SPLIT:
        middle = begin + (end - begin) / 2
        return alarms(client, imeis, begin, middle) + alarms(client, imeis, middle, end)
    return tables


def obd(client: JimiClient, method: str, account: str, imeis: list[str], begin: datetime, end: datetime) -> list[pa.Table]:
    """`obd.list` / `obd.fault`: pages from `data.totalRecord` (its `totalPage` is unreliable, discrepancy 27)."""
    shape = shapes.OBD_READINGS if method == settings.OBD_LIST else shapes.OBD_FAULTS

    def page_with_total(body: bytes) -> tuple[pa.Table, int | None]:
        return decode(shape, body), total_of(body, "data", "totalRecord")

    tables: list[pa.Table] = []
    pages = 1
    page_no = 1
    while page_no <= pages:
        table, total = client.call(
            method,
            {
                "account": account,
                "imeis": ",".join(imeis),
                "start_time": begin,
                "end_time": end,
                "page_no": page_no,
                "page_size": settings.PAGE_SIZE,
            },
            _context(imeis, begin, end),
            decode=page_with_total,
        )
        tables.append(table)
        if page_no == 1:
            pages = math.ceil((total or table.num_rows) / settings.PAGE_SIZE)
        if table.num_rows == 0:
            break
        page_no += 1
    return tables


def _first_key(table: pa.Table, column: str) -> object:
    if table.num_rows == 0:
        return None
    return (table.column("imei")[0].as_py(), table.column(column)[0].as_py())
