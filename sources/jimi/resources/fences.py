"""Platform geofences: `platform_geofences` and `geofence_devices` (`open.platform.fence.list`).

Both are replaced on every load, so a fence deleted on the platform is gone after the next one (dlt replaces
only tables it sees, so an account with no fences still yields an empty table). Both tables are decoded from
the same answers: one listing per run (pages of 50, the method's maximum), shared through the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import pyarrow as pa

from .. import settings
from ..client import JimiClient
from ..decode import Shape, decode, decode_nested, parse_json, total_of

if TYPE_CHECKING:
    from ..registry import Endpoint
    from ..run import SourceRun

FENCE_FIELDS = {
    "fence_id": "VARCHAR",
    "fence_name": "VARCHAR",
    "fence_type": "VARCHAR",
    "fence_color": "VARCHAR",
    "coordinates": "VARCHAR",
    "radius": "VARCHAR",
    "description": "VARCHAR",
    "imeis": "VARCHAR",
    "alert_type": "VARCHAR",
    "stay_time_in": "BIGINT",
    "stay_time_out": "BIGINT",
    "account": "VARCHAR",
}
# Geometry stays as the API gives it (`coordinates`: "lat,lng" pairs, latitude first, `;` between polygon
# vertices) plus the circle's parsed centre and radius; staging parses polygons into a list of points.
PLATFORM_GEOFENCES = Shape(
    method=settings.FENCE_LIST,
    path=("result", "rows"),
    fields=FENCE_FIELDS,
    select="""
        r.fence_id as fence_id,
        r.fence_name as fence_name,
        lower(r.fence_type) as fence_type,
        r.coordinates as coordinates,
        case when lower(r.fence_type) = 'circle' then trim(split_part(r.coordinates, ',', 1))::double end as center_lat,
        case when lower(r.fence_type) = 'circle' then trim(split_part(split_part(r.coordinates, ';', 1), ',', 2))::double end as center_lng,
        case when lower(r.fence_type) = 'circle' then try_cast(nullif(trim(r.radius), '') as double) end as radius_m,
        len(string_split(r.coordinates, ';')) as vertex_count,
        r.fence_color as fence_color,
        nullif(r.description, '') as description,
        nullif(r.alert_type, '') as alert_types,
        r.stay_time_in as stay_time_in_days,
        r.stay_time_out as stay_time_out_days,
        r.account as account
    """,
    where="r.fence_id is not null",
    keys=("fence_id",),
)


def platform_geofences(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    tables = [decode(PLATFORM_GEOFENCES, body) for body in _fence_bodies(run)]
    rows = [table for table in tables if table.num_rows]
    yield from rows if rows else tables[:1]


def geofence_devices(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    """One row per (fence, bound IMEI) from each fence's comma-separated `imeis`."""
    sql = (
        "select fence_id, imei, alert_types from (select r.fence_id as fence_id, trim(unnest(string_split("
        "coalesce(r.imeis, ''), ','))) as imei, nullif(r.alert_type, '') as alert_types from parsed "
        "where r.fence_id is not null) where imei <> ''"
    )
    for body in _fence_bodies(run):
        yield decode_nested(settings.FENCE_LIST, body, ("result", "rows"), FENCE_FIELDS, sql, endpoint.key)


def _fence_bodies(run: SourceRun) -> list[bytes]:
    if "fence_bodies" not in run.shared:
        run.shared["fence_bodies"] = fence_pages(run.client, run.account)
    return run.shared["fence_bodies"]


def fence_pages(client: JimiClient, account: str) -> list[bytes]:
    """Every page of the fence list as raw (checked) bodies."""
    bodies: list[bytes] = []
    for page_no in range(1, settings.FENCE_MAX_PAGES + 1):
        params = {"account": account, "page_no": page_no, "page_size": settings.FENCE_PAGE_SIZE}
        body = client.call(settings.FENCE_LIST, params, f"account {account}", decode=_checked)
        bodies.append(body)
        answer = cast(dict, parse_json(settings.FENCE_LIST, body))  # the client checked: an object, code 0
        rows = len(((answer.get("result") or {}).get("rows")) or [])
        total = total_of(body, "result", "total")
        if rows < settings.FENCE_PAGE_SIZE or (
            total is not None and page_no * settings.FENCE_PAGE_SIZE >= total
        ):
            break
    return bodies


def _checked(body: bytes) -> bytes:
    parse_json(settings.FENCE_LIST, body)
    return body
