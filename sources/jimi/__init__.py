"""dlt source for the Jimi IoT / TrackSolid Pro open API: one resource per endpoint, each incremental.

Resources:
- `devices`: the account's device list (`jimi.user.device.list`), merged on IMEI.
- `track_points`: the GPS trail (`jimi.device.track.list`), merged on IMEI + fix time. Incremental per
  device: each device remembers how far it has been polled (`polled_until` in the resource state) and the
  next run re-reads from there minus a lookback. A bounded window (`start`/`end`, what a backfill
  partition asks for) reads exactly that range and never moves the stored cursors.

Credentials come from `[sources.jimi]` in dlt secrets or `SOURCES__JIMI__*` variables
(see `credentials.py`); with none configured the source reads the embedded simulator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import dlt
import pyarrow as pa

from . import settings
from .client import JimiClient
from .credentials import resolve_credentials
from .errors import JimiDeviceError
from .helpers import as_rows, device_row, track_points_table, windows
from .signing import format_time
from .tokens import TokenCache

log = logging.getLogger(__name__)

DEVICE_COLUMNS = {
    "imei": {"data_type": "text", "nullable": False},
    **{
        name: {"data_type": "text"}
        for name in ["device_name", "model", "use_scope", "sim", "remark", "vehicle_name", "vehicle_icon", "vehicle_number", "vehicle_model", "car_frame", "driver_name", "driver_phone", "engine_number", "group_id", "group_name"]
    },
    "enabled": {"data_type": "bool"},
    "expires_at": {"data_type": "timestamp"},
    "activated_at": {"data_type": "timestamp"},
}


def default_token_dir() -> Path:
    return Path(os.environ.get("JIMI_DATA_DIR", "data")) / "tokens"


@dlt.source(name="jimi", max_table_nesting=0)
def jimi_source(
    region: str | None = None,
    base_url: str | None = None,
    app_key: str | None = None,
    app_secret: str | None = None,
    user_id: str | None = None,
    password: str | None = None,
    password_md5: str | None = None,
    target: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    imeis: Sequence[str] | None = None,
    initial_days: int = settings.TRACK_INITIAL_DAYS,
    lookback_minutes: int = int(settings.TRACK_LOOKBACK.total_seconds() // 60),
    max_workers: int = 4,
    calls_per_second: float = 10.0,
    token_dir: str | None = None,
    now: datetime | None = None,
) -> Sequence[dlt.sources.DltResource]:
    """The Jimi resources. `start`/`end` bound a backfill window; `now` fixes the clock (tests)."""
    credentials = resolve_credentials(
        region=region,
        base_url=base_url,
        app_key=app_key,
        app_secret=app_secret,
        user_id=user_id,
        password=password,
        password_md5=password_md5,
        target=target,
    )

    def clock() -> datetime:
        return (now or datetime.now(UTC)).replace(microsecond=0)

    tokens = TokenCache(
        Path(token_dir) if token_dir else default_token_dir(),
        f"{credentials.base_url}|{credentials.app_key}|{credentials.user_id}",
        clock=clock,
    )
    client = JimiClient(credentials, tokens, calls_per_second=calls_per_second, clock=clock)

    @cache
    def device_list() -> tuple[dict, ...]:
        body = client.call(settings.DEVICE_LIST, {"target": credentials.account}, f"account {credentials.account}")
        return tuple(device_row(item) for item in as_rows(body.get("result"), settings.DEVICE_LIST))

    def pollable_imeis() -> list[str]:
        moment = clock()
        chosen = [
            row["imei"]
            for row in device_list()
            if row["enabled"] is not False and (row["expires_at"] is None or row["expires_at"] > moment)
        ]
        if imeis is not None:
            wanted = set(imeis)
            chosen = [imei for imei in chosen if imei in wanted]
        return chosen

    @dlt.resource(name="devices", primary_key="imei", write_disposition="merge", columns=DEVICE_COLUMNS)
    def devices() -> Iterator[dict]:
        yield from device_list()

    @dlt.resource(name="track_points", primary_key=("imei", "gps_time"), write_disposition="merge")
    def track_points() -> Iterator[pa.Table]:
        moment = clock()
        floor = moment - settings.TRACK_RETENTION
        bounded = start is not None or end is not None
        cursors: dict[str, str] = {} if bounded else dlt.current.resource_state().setdefault("polled_until", {})
        plans = []
        for imei in pollable_imeis():
            if bounded:
                begin, stop = start or floor, min(end or moment, moment)
            elif imei in cursors:
                begin = datetime.fromisoformat(cursors[imei]) - timedelta(minutes=lookback_minutes)
                stop = moment
            else:
                begin, stop = moment - timedelta(days=initial_days), moment
            plans.append((imei, max(begin, floor), stop))

        def fetch(imei: str, begin: datetime, stop: datetime) -> list[pa.Table]:
            tables = []
            for lo, hi in windows(begin, stop, settings.TRACK_MAX_SPAN):
                context = f"imei {imei}, {format_time(lo)} to {format_time(hi)}"
                body = client.call(settings.TRACK_LIST, {"imei": imei, "begin_time": lo, "end_time": hi}, context)
                points = as_rows(body.get("result"), settings.TRACK_LIST)
                if points:
                    tables.append(track_points_table(imei, points))
            return tables

        with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
            futures = {pool.submit(fetch, *plan): plan for plan in plans if plan[1] < plan[2]}
            for future in as_completed(futures):
                imei, _, stop = futures[future]
                try:
                    tables = future.result()
                except JimiDeviceError as exc:
                    # A device that left the account or expired mid-run must not stop the fleet's load.
                    log.warning("skipping device: %s", exc)
                    continue
                yield from tables
                if not bounded:
                    cursors[imei] = stop.isoformat()

    return devices, track_points
