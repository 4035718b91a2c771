"""The source's media, platform geofence, TAG and command resources (issue 9), built by `jimi_source`.

| resource | endpoint | key | disposition / cursor |
|---|---|---|---|
| `media_files` | `device.jimi.media.URL` (per dashcam × camera × type) | imei + file_url | merge; cursor on create time |
| `event_media` | `device.media.event.URL` (files of alarm events) | imei + alarm_time + event_type_id + file_url | merge; cursor on create time |
| `platform_geofences` | `open.platform.fence.list` | fence_id | replace: a fence deleted on the platform is gone after the next load |
| `geofence_devices` | the fences' `imeis` | fence_id + imei | replace |
| `tag_locations` | `device.location.getTagMsg` (per TAG device) | imei + gps_time | merge (a history of newest fixes) |
| `command_templates` | `open.instruction.list` (per device) | imei + template_id | replace |
| `command_results` | `open.instruction.result` (per device) | imei + send_time + template_id | merge (status moves from pending to final) |

Cameras and TAGs are found by model (`settings.MEDIA_MODEL_PREFIXES`, `settings.TAG_MODELS`, or the
source's `media_models` / `tag_models`). Media windows follow windows.py like every history resource; URLs
are stored as the API gives them, nothing is downloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, partial

import dlt
import pyarrow as pa

from . import fetchers_extra, settings, shapes
from .client import JimiClient
from .errors import JimiDeviceError
from .windows import RunWindow, batches, split

log = logging.getLogger(__name__)

MERGE = {"disposition": "merge", "strategy": "delete-insert"}
KEYS: dict[str, tuple[str, ...]] = {
    "media_files": shapes.MEDIA_FILES.keys,
    "event_media": shapes.EVENT_MEDIA_KEYS,
    "platform_geofences": ("fence_id",),
    "geofence_devices": ("fence_id", "imei"),
    "tag_locations": ("imei", "gps_time"),
    "command_templates": ("imei", "template_id"),
    "command_results": ("imei", "send_time", "template_id"),
}


@dataclass(frozen=True)
class SourceContext:
    """What the extra resources share with the rest of the source."""

    client: JimiClient
    account: str
    run_window: Callable[[], RunWindow]
    devices: Callable[[], tuple[dict, ...]]  # the device list rows (imei, model = mcType, ...)
    pollable_imeis: Callable[[], list[str]]
    lookback: Callable[[str], timedelta]
    run_concurrently: Callable
    max_workers: int
    media_models: Sequence[str] = settings.MEDIA_MODEL_PREFIXES
    tag_models: Sequence[str] = settings.TAG_MODELS


def extra_resources(ctx: SourceContext) -> tuple[dlt.sources.DltResource, ...]:
    client = ctx.client

    def model_imeis(match: Callable[[str], bool]) -> list[str]:
        models = {row["imei"]: (row.get("model") or "") for row in ctx.devices()}
        return [imei for imei in ctx.pollable_imeis() if match(models.get(imei, "").upper())]

    def cameras() -> list[str]:
        return model_imeis(lambda model: model.startswith(tuple(p.upper() for p in ctx.media_models)))

    def tags() -> list[str]:
        return model_imeis(lambda model: model in {m.upper() for m in ctx.tag_models})

    def windowed(name: str, tasks_for: Callable, fetch: Callable) -> Callable[[], Iterator[pa.Table]]:
        """One cursor for the resource, moved only when every window was read (as in `jimi_source`)."""

        def rows() -> Iterator[pa.Table]:
            window = ctx.run_window()
            state = None if window.bounded else dlt.current.resource_state()
            cursor = state.get("polled_until") if state is not None else None
            begin, stop = window.range_for(cursor, ctx.lookback(name), settings.REPORT_RETENTION)
            tasks = [task for lo, hi in split(begin, stop, settings.MEDIA_SPAN) for task in tasks_for(lo, hi)]
            for _, tables in ctx.run_concurrently(tasks, fetch, ctx.max_workers):
                yield from (table for table in tables if table.num_rows)
            if state is not None:
                state["polled_until"] = window.advance(cursor, stop)

        return rows

    def media_tasks(lo, hi) -> list[tuple]:
        combos = [(camera, kind) for camera in settings.MEDIA_CAMERAS for kind in settings.MEDIA_TYPES]
        return [(imei, camera, kind, lo, hi) for imei in cameras() for camera, kind in combos]

    media_files = dlt.resource(
        windowed("media_files", media_tasks, partial(fetchers_extra.media_files, client)),
        name="media_files",
        primary_key=KEYS["media_files"],
        write_disposition=MERGE,
    )
    event_media = dlt.resource(
        windowed(
            "event_media",
            lambda lo, hi: [(batch, lo, hi) for batch in batches(cameras(), settings.IMEI_BATCH)],
            partial(fetchers_extra.event_media, client),
        ),
        name="event_media", primary_key=KEYS["event_media"], write_disposition=MERGE,
    )  # fmt: skip

    @cache
    def fence_bodies() -> tuple[bytes, ...]:
        # Both fence resources decode the same answers: one listing per run, and the two tables agree.
        return tuple(fetchers_extra.fence_pages(client, ctx.account))

    @dlt.resource(name="platform_geofences", primary_key=KEYS["platform_geofences"], write_disposition="replace")
    def platform_geofences() -> Iterator[pa.Table]:
        yield from _non_empty(fetchers_extra.fences(list(fence_bodies())), shapes.PLATFORM_GEOFENCES)

    @dlt.resource(name="geofence_devices", primary_key=KEYS["geofence_devices"], write_disposition="replace")
    def geofence_devices() -> Iterator[pa.Table]:
        yield from fetchers_extra.fence_devices(list(fence_bodies()))

    def per_device(method: str, shape, imeis: Callable[[], list[str]]) -> Callable[[], Iterator[pa.Table]]:
        def fetch(imei: str) -> pa.Table | None:
            try:
                return fetchers_extra.per_device(client, method, shape, imei)
            except JimiDeviceError as exc:
                log.warning("skipping device: %s", exc)  # left the account mid-run; the others still load
                return None

        def rows() -> Iterator[pa.Table]:
            for _, table in ctx.run_concurrently([(imei,) for imei in imeis()], fetch, ctx.max_workers):
                if table is not None and table.num_rows:
                    yield table

        return rows

    tag_locations = dlt.resource(
        per_device(settings.TAG_LOCATION, shapes.TAG_LOCATIONS, tags),
        name="tag_locations", primary_key=KEYS["tag_locations"], write_disposition=MERGE,
    )  # fmt: skip
    command_templates = dlt.resource(
        per_device(settings.INSTRUCTION_LIST, shapes.COMMAND_TEMPLATES, ctx.pollable_imeis),
        name="command_templates", primary_key=KEYS["command_templates"], write_disposition="replace",
    )  # fmt: skip
    command_results = dlt.resource(
        per_device(settings.INSTRUCTION_RESULT, shapes.COMMAND_RESULTS, ctx.pollable_imeis),
        name="command_results", primary_key=KEYS["command_results"], write_disposition=MERGE,
    )  # fmt: skip
    return media_files, event_media, platform_geofences, geofence_devices, tag_locations, command_results, command_templates


def _non_empty(tables: list[pa.Table], shape) -> Iterator[pa.Table]:
    """All pages; an account with no fences at all still yields one empty table, so replace empties the
    stored table instead of leaving the last load's fences (dlt replaces only tables it sees)."""
    rows = [table for table in tables if table.num_rows]
    yield from rows if rows else tables[:1]
