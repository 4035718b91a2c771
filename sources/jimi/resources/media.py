"""Dashcam media: `media_files` (`device.jimi.media.URL`) and `event_media` (`device.media.event.URL`).

Cameras are found by model (the `media_models` setting: model prefixes, by default Jimi's JC family of video
devices). Both are read over windows of a week with one cursor per resource; URLs are stored as the API gives
them and nothing is downloaded.

- `media_files`: per camera device, channel (1 front, 2 inward) and type (1 photo, 2 video), zero-based
  `page_no`, read until a short page. The answer's `camera` is 0/1 (vendor spec) or the channel (field
  evidence), so the channel asked is what is kept.
- `event_media`: batches of camera devices, photos and videos asked apart, `page_no` from 1. The rows sit in a
  `data` paging object with `totalRecord` (vendor spec) or in a `result` array (field evidence); both are read,
  pages counted from the total when there is one, else read until a short page. One row per file of an event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import settings
from ..client import JimiClient
from ..decode import Shape, decode, decode_nested, parse_json, total_of
from ..fields import epoch_or_text, media_kind
from ..paging import describe, pages_until_short
from ..windows import batches

if TYPE_CHECKING:
    from ..registry import Endpoint
    from ..run import SourceRun

MEDIA_FILES = Shape(
    method=settings.MEDIA_URL,
    path=("result",),
    fields={
        "thumb_URL": "VARCHAR",
        "file_URL": "VARCHAR",
        "create_time": "VARCHAR",
        "alarm_time": "VARCHAR",
        "mime_type": "VARCHAR",
        "media_type": "VARCHAR",
        "camera": "VARCHAR",
        "file_size": "DOUBLE",
    },
    # k is "imei|channel asked": the answer's camera is 0/1 (spec) or the channel (production; docs/jimi-api.md #43).
    select=f"""
        split_part(k, '|', 1) as imei,
        r.file_URL as file_url,
        {epoch_or_text("r.create_time")} as create_time,
        {epoch_or_text("r.alarm_time")} as alarm_time,
        split_part(k, '|', 2)::smallint as camera_channel,
        r.camera as camera_raw,
        {media_kind("r.media_type", "r.mime_type")} as media_kind,
        r.mime_type as mime_type,
        r.file_size::bigint as file_size_bytes,
        r.thumb_URL as thumb_url
    """,
    where="r.file_URL is not null and r.create_time is not null",
    keys=("imei", "file_url"),
)

# One row per file of an alarm event; the event's fields repeat on each of its files.
EVENT_MEDIA_FIELDS = {
    "imei": "VARCHAR",
    "event_type_id": "VARCHAR",
    "event_type": "VARCHAR",
    "lat": "DOUBLE",
    "lng": "DOUBLE",
    "alarm_time": "VARCHAR",
    "create_time": "VARCHAR",
    "fileList": [
        {
            "media_type": "VARCHAR",
            "mime_type": "VARCHAR",
            "thumb_URL": "VARCHAR",
            "file_URL": "VARCHAR",
            "camera": "VARCHAR",
            "file_size": "DOUBLE",
        }
    ],
}
EVENT_MEDIA_SELECT = f"""
    r.imei as imei,
    {epoch_or_text("r.alarm_time")} as alarm_time,
    -- spec: event_type_id + event_type (the name); production: event_type only, the type id (docs/jimi-api.md #43).
    coalesce(r.event_type_id, r.event_type) as event_type_id,
    case when r.event_type_id is not null then r.event_type end as event_type_name,
    f.file_URL as file_url,
    {epoch_or_text("r.create_time")} as create_time,
    r.lat as lat,
    r.lng as lng,
    {media_kind("f.media_type", "f.mime_type")} as media_kind,
    f.mime_type as mime_type,
    try_cast(f.camera as smallint) as camera_channel,
    f.file_size::bigint as file_size_bytes,
    f.thumb_URL as thumb_url
"""
EVENT_MEDIA_KEYS = ("imei", "alarm_time", "event_type_id", "file_url")


def cameras(run: SourceRun) -> list[str]:
    prefixes = tuple(prefix.upper() for prefix in run.media_models)
    return run.imeis_of_models(lambda model: model.startswith(prefixes))


def media_files(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    combos = [(camera, kind) for camera in settings.MEDIA_CAMERAS for kind in settings.MEDIA_TYPES]

    def tasks(lo: datetime, hi: datetime) -> list[tuple]:
        return [(imei, camera, kind, lo, hi) for imei in cameras(run) for camera, kind in combos]

    return run.windowed(endpoint, tasks, partial(fetch_media_files, run.client))


def event_media(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    def tasks(lo: datetime, hi: datetime) -> list[tuple]:
        return [(batch, lo, hi) for batch in batches(cameras(run), settings.IMEI_BATCH)]

    return run.windowed(endpoint, tasks, partial(fetch_event_media, run.client))


def fetch_media_files(
    client: JimiClient, imei: str, camera: int, media_type: int, begin: datetime, end: datetime
) -> list[pa.Table]:
    """Every file of one device, channel and type in one window."""

    def page(page_no: int) -> pa.Table:
        params = {
            "imei": imei,
            "camera": camera,
            "media_type": media_type,
            "start_time": begin,
            "end_time": end,
            "page_no": page_no,
            "page_size": settings.MEDIA_PAGE_SIZE,
        }
        return client.call(
            settings.MEDIA_URL,
            params,
            describe([imei], begin, end),
            decode=partial(decode, MEDIA_FILES, key=f"{imei}|{camera}"),
        )

    return pages_until_short(
        page,
        first=0,
        step=1,
        page_size=settings.MEDIA_PAGE_SIZE,
        head=lambda table: table.column("file_url")[0].as_py(),
        max_pages=settings.MEDIA_MAX_PAGES,
    )


def fetch_event_media(client: JimiClient, imeis: list[str], begin: datetime, end: datetime) -> list[pa.Table]:
    """Every file of every alarm event of a batch of cameras in one window (photos, then videos)."""
    tables: list[pa.Table] = []
    for media_type in settings.MEDIA_TYPES:
        page_no, pages = 1, None
        while page_no <= settings.MEDIA_MAX_PAGES:
            params = {
                "imeis": ",".join(imeis),
                "media_type": media_type,
                "start_time": begin,
                "end_time": end,
                "page_no": page_no,
                "page_size": settings.MEDIA_PAGE_SIZE,
            }
            table, total = client.call(
                settings.MEDIA_EVENT_URL, params, describe(imeis, begin, end), decode=_events_page
            )
            tables.append(table)
            if pages is None and total is not None:
                pages = -(-total // settings.MEDIA_PAGE_SIZE)
            if (pages is not None and page_no >= pages) or (
                pages is None and _events(table) < settings.MEDIA_PAGE_SIZE
            ):
                break
            page_no += 1
    return tables


def _events(table: pa.Table) -> int:
    """Events on a page (a page has a row per file, and an event several files)."""
    if not table.num_rows:
        return 0
    return len(
        set(
            zip(
                table.column("alarm_time").to_pylist(), table.column("event_type_id").to_pylist(), strict=True
            )
        )
    )


def _events_page(body: bytes) -> tuple[pa.Table, int | None]:
    document = parse_json(settings.MEDIA_EVENT_URL, body)
    paged = isinstance(document, dict) and isinstance(document.get("data"), dict)
    path = ("data", "result") if paged else ("result",)
    table = decode_nested(
        settings.MEDIA_EVENT_URL,
        body,
        path,
        EVENT_MEDIA_FIELDS,
        f"select {EVENT_MEDIA_SELECT} from (select r, unnest(r.fileList) as f from parsed) "
        "where r.imei is not null and r.alarm_time is not null and f.file_URL is not null",
        EVENT_MEDIA_KEYS,
    )
    return table, total_of(body, "data", "totalRecord") if paged else None
