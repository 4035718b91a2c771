"""Fetching the media, platform geofence, TAG and command methods completely, page by page.

As in fetchers.py, each function returns typed tables of every page of one window (or one device) and raises
after the client's retries rather than return part of it. Nested answers (an event's `fileList`, a fence's
`imeis`) are flattened in DuckDB like every other answer (`_nested`).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

import orjson
import pyarrow as pa

from . import settings, shapes
from .client import JimiClient
from .decode import MalformedBody, _connection, decode, total_of
from .fetchers import _context


def media_files(client: JimiClient, imei: str, camera: int, media_type: int, begin: datetime, end: datetime) -> list[pa.Table]:
    """`jimi.device.jimi.media.URL` for one device, camera and type: zero-based `page_no`, read until a
    short page (no total is sent); a page that repeats the first one means the server ignored `page_no`."""
    tables: list[pa.Table] = []
    first = None
    for page_no in range(settings.MEDIA_MAX_PAGES):
        table = client.call(
            settings.MEDIA_URL,
            {"imei": imei, "camera": camera, "media_type": media_type, "start_time": begin, "end_time": end,
             "page_no": page_no, "page_size": settings.MEDIA_PAGE_SIZE},
            _context([imei], begin, end),
            decode=partial(decode, shapes.MEDIA_FILES, key=f"{imei}|{camera}"),
        )  # fmt: skip
        head = table.column("file_url")[0].as_py() if table.num_rows else None
        if page_no and head is not None and head == first:
            break
        first = first or head
        tables.append(table)
        if table.num_rows < settings.MEDIA_PAGE_SIZE:
            break
    return tables


def event_media(client: JimiClient, imeis: list[str], begin: datetime, end: datetime) -> list[pa.Table]:
    """`jimi.device.media.event.URL`, photos and videos asked apart, `page_no` from 1. The rows sit in a
    `data` paging object with `totalRecord` (spec) or in a `result` array (jimi-api.md): both read, pages
    counted from the total when there is one, else until a short page."""
    tables: list[pa.Table] = []
    for media_type in settings.MEDIA_TYPES:
        page_no, pages = 1, None
        while page_no <= settings.MEDIA_MAX_PAGES:
            table, total = client.call(
                settings.MEDIA_EVENT_URL,
                {"imeis": ",".join(imeis), "media_type": media_type, "start_time": begin, "end_time": end,
                 "page_no": page_no, "page_size": settings.MEDIA_PAGE_SIZE},
                _context(imeis, begin, end),
                decode=_events_page,
            )  # fmt: skip
            tables.append(table)
            if pages is None and total is not None:
                pages = -(-total // settings.MEDIA_PAGE_SIZE)
            events = table.num_rows and len(set(zip(table.column("alarm_time").to_pylist(), table.column("event_type_id").to_pylist(), strict=True)))
            if (pages is not None and page_no >= pages) or (pages is None and events < settings.MEDIA_PAGE_SIZE):
                break
            page_no += 1
    return tables


def _events_page(body: bytes) -> tuple[pa.Table, int | None]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody(f"{settings.MEDIA_EVENT_URL}: body is not JSON ({len(body)} bytes)") from None
    paged = isinstance(document.get("data"), dict)
    path = ("data", "result") if paged else ("result",)
    table = _nested(
        settings.MEDIA_EVENT_URL, body, path, shapes.EVENT_MEDIA_FIELDS,
        f"select {shapes.EVENT_MEDIA_SELECT} from (select r, unnest(r.fileList) as f from parsed) "
        "where r.imei is not null and r.alarm_time is not null and f.file_URL is not null",
        shapes.EVENT_MEDIA_KEYS,
    )  # fmt: skip
    return table, total_of(body, "data", "totalRecord") if paged else None


def fence_pages(client: JimiClient, account: str) -> list[bytes]:
    """Every page of `jimi.open.platform.fence.list` (page_size at its maximum, 50), as raw bodies, so the
    fences and their bound devices are decoded from the same answers."""
    bodies: list[bytes] = []
    for page_no in range(1, settings.FENCE_MAX_PAGES + 1):
        body = client.call(
            settings.FENCE_LIST,
            {"account": account, "page_no": page_no, "page_size": settings.FENCE_PAGE_SIZE},
            f"account {account}",
            decode=_checked,
        )
        bodies.append(body)
        rows = len(((orjson.loads(body).get("result") or {}).get("rows")) or [])
        total = total_of(body, "result", "total")
        if rows < settings.FENCE_PAGE_SIZE or (total is not None and page_no * settings.FENCE_PAGE_SIZE >= total):
            break
    return bodies


def _checked(body: bytes) -> bytes:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody(f"{settings.FENCE_LIST}: body is not JSON ({len(body)} bytes)") from None
    return body


def fences(bodies: list[bytes]) -> list[pa.Table]:
    return [decode(shapes.PLATFORM_GEOFENCES, body) for body in bodies]


def fence_devices(bodies: list[bytes]) -> list[pa.Table]:
    """One row per (fence, bound IMEI) from each fence's comma-separated `imeis`."""
    sql = (
        "select fence_id, imei, alert_types from (select r.fence_id as fence_id, trim(unnest(string_split("
        "coalesce(r.imeis, ''), ','))) as imei, nullif(r.alert_type, '') as alert_types from parsed "
        "where r.fence_id is not null) where imei <> ''"
    )
    return [_nested(settings.FENCE_LIST, body, ("result", "rows"), shapes.FENCE_FIELDS, sql, ("fence_id", "imei")) for body in bodies]


def per_device(client: JimiClient, method: str, shape, imei: str) -> pa.Table:
    """The per-IMEI methods without windows or pages (TAG location, command templates and results)."""
    return client.call(method, {"imei": imei}, f"imei {imei}", decode=partial(decode, shape, key=imei))


def _nested(method: str, body: bytes, path: tuple[str, ...], fields: dict, sql: str, keys: tuple[str, ...]) -> pa.Table:
    """Rows of a list at `path` whose own lists are unnested by `sql` (which selects from `parsed(r)`)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody(f"{method}: body is not JSON ({len(body)} bytes)") from None
    node: object = document
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    rows = node if isinstance(node, list) else ([node] if isinstance(node, dict) else [])
    canonical: object = rows
    for key in reversed(path):
        canonical = {key: canonical}
    structure: object = [fields]
    for key in reversed(path):
        structure = {key: structure}
    accessor = "".join(f'."{key}"' for key in path)
    query = (
        f"with answer as (select ?::varchar as body), parsed as (select unnest(from_json(body, "
        f"'{orjson.dumps(structure).decode()}'){accessor}) as r from answer) {sql}"
    )
    table = _connection().sql(query, params=[orjson.dumps(canonical).decode()]).to_arrow_table()
    schema = pa.schema(
        [
            (field.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(field.type) else field).with_nullable(
                field.name not in keys
            )
            for field in table.schema
        ]
    )
    return table.cast(schema)
