"""dlt source for the Jimi IoT / TrackSolid Pro open API: a resource per analytics endpoint.

| resource | endpoint | key (merge) | cursor |
|---|---|---|---|
| `devices` | `user.device.list` + `track.device.detail` | imei | — (full list) |
| `device_groups` | `device.group.list` | group_id | — |
| `live_locations` | `user.device.location.list` (the fleet sweep) | imei + gps_time | — (history of sweeps) |
| `track_points` | `device.track.list` | imei + gps_time | per device |
| `trips` | `device.track.mileage` | imei + start_time | per resource |
| `parking` | `open.platform.report.parking` | imei + start_time | per resource |
| `alarms` | `device.alarm.list` | imei + alarm_time + alarm_type_id | per resource |
| `obd_readings` | `device.obd.list` | imei + report_time | per resource |
| `obd_faults` | `device.obd.fault` | imei + event_time + fault_code | per resource |
| media, platform geofences, TAG locations, commands | see `resources_extra.py` | | |

How a run picks its range (incremental / bounded `start`-`end` / `catch_up_days`) is in `windows.py`;
pagination and the API's caps in `fetchers.py`; the raw-name mapping in `shapes.py`. Credentials come from
`[sources.jimi]` in dlt secrets or `SOURCES__JIMI__*` variables (`credentials.py`); with none configured
the source reads the embedded simulator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from itertools import islice
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa

from . import fetchers, settings
from .callstats import CallStats
from .client import JimiClient
from .credentials import resolve_credentials
from .decode import decode
from .devices import DEVICE_COLUMNS, GROUP_COLUMNS, detail_row, device_row, group_rows
from .errors import JimiDeviceError
from .helpers import as_rows
from .resources_extra import KEYS as EXTRA_KEYS
from .resources_extra import SourceContext, extra_resources
from .shapes import LIVE_LOCATIONS
from .tokens import TokenCache
from .track import DeviceProgress, window_tasks
from .windows import RunWindow, batches, split

log = logging.getLogger(__name__)

# Merge on the natural key. delete-insert (not insert-only, which is faster) because it also collapses
# duplicates inside one load: the API repeats fixes within an answer and at window boundaries.
MERGE = {"disposition": "merge", "strategy": "delete-insert"}
# The natural key every table merges on.
KEYS: dict[str, tuple[str, ...]] = {
    "devices": ("imei",),
    "device_groups": ("group_id",),
    "live_locations": ("imei", "gps_time"),
    "track_points": ("imei", "gps_time"),
    "trips": ("imei", "start_time"),
    "parking": ("imei", "start_time"),
    "alarms": ("imei", "alarm_time", "alarm_type_id"),
    "obd_readings": ("imei", "report_time"),
    "obd_faults": ("imei", "event_time", "fault_code"),
    **EXTRA_KEYS,
}


def default_token_dir() -> Path:
    return Path(os.environ.get("JIMI_DATA_DIR", "data")) / "tokens"


def run_concurrently(tasks: Iterable[tuple], work: Callable, max_workers: int) -> Iterator[tuple[tuple, object]]:
    """Run `work(*task)` for every task on a bounded pool; yield (task, result) as each completes.

    At most twice `max_workers` tasks are in flight, so a consumer slower than the API holds the pool back
    instead of piling up answers (a long backfill stays flat in memory).
    """
    pending = iter(list(tasks))
    workers = max(1, max_workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {}
        for task in islice(pending, 2 * workers):
            futures[pool.submit(work, *task)] = task
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                task = futures.pop(future)
                yield task, future.result()
                for more in islice(pending, 1):
                    futures[pool.submit(work, *more)] = more


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
    catch_up_days: int | None = None,
    imeis: Sequence[str] | None = None,
    initial_days: int = settings.TRACK_INITIAL_DAYS,
    lookback_minutes: int | None = None,
    mileage_distance_unit: str = "auto",
    max_workers: int = 4,
    calls_per_second: float = 10.0,
    max_attempts: int = 6,
    backoff_s: float = 1.0,
    timeout_s: float | None = None,
    token_dir: str | None = None,
    now: datetime | None = None,
    stats: Any = None,
    media_models: Sequence[str] = settings.MEDIA_MODEL_PREFIXES,
    tag_models: Sequence[str] = settings.TAG_MODELS,
) -> Sequence[dlt.sources.DltResource]:
    """The Jimi resources. `start`/`end` bound a backfill window, `catch_up_days` re-reads the trailing
    days, `now` fixes the clock (tests), `stats` (a `CallStats`) collects calls and retries, `timeout_s`
    replaces every method's own timeout; everything else has a default from configuration."""
    credentials = resolve_credentials(
        region=region, base_url=base_url, app_key=app_key, app_secret=app_secret,
        user_id=user_id, password=password, password_md5=password_md5, target=target,
    )  # fmt: skip

    def clock() -> datetime:
        return (now or datetime.now(UTC)).replace(microsecond=0)

    tokens = TokenCache(
        Path(token_dir) if token_dir else default_token_dir(),
        f"{credentials.base_url}|{credentials.app_key}|{credentials.user_id}",
        clock=clock,
    )
    client = JimiClient(
        credentials,
        tokens,
        max_attempts=max_attempts,
        backoff_s=backoff_s,
        calls_per_second=calls_per_second,
        timeouts_s={method: timeout_s for method in settings.ALL_METHODS} if timeout_s else None,
        clock=clock,
        stats=stats if stats is not None else CallStats(),
    )
    # Every unit of work below runs inside `windows(...)`, so the stats tally its calls, retries, latency
    # and rows per endpoint and window (see callstats.py).
    windows = client.stats.window
    account = credentials.account
    parking_dialect: dict = {}

    def run_window() -> RunWindow:
        return RunWindow(clock(), start, end, catch_up_days, initial_days)

    def lookback(resource: str) -> timedelta:
        if lookback_minutes is not None and resource == "track_points":
            return timedelta(minutes=lookback_minutes)
        return settings.LOOKBACK[resource]

    @cache
    def device_list() -> tuple[dict, ...]:
        # No resource named: the list is read (once) by whichever resource needs it first.
        with windows(None, settings.DEVICE_LIST) as window:
            body = client.call(settings.DEVICE_LIST, {"target": account}, f"account {account}")
            rows = tuple(device_row(item) for item in as_rows(body.get("result"), settings.DEVICE_LIST))
            window.add_rows(len(rows))
        return rows

    def pollable_imeis() -> list[str]:
        moment = clock()
        chosen = [
            row["imei"]
            for row in device_list()
            if row["enabled"] is not False and (row["expires_at"] is None or row["expires_at"] > moment)
        ]
        return [imei for imei in chosen if imei in set(imeis)] if imeis is not None else chosen

    @dlt.resource(name="devices", primary_key=KEYS["devices"], write_disposition="merge", columns=DEVICE_COLUMNS)
    def devices() -> Iterator[dict]:
        def detailed(row: dict) -> dict:
            # All detail calls of a run make one record (a window per device would be a row per device).
            with windows("devices", settings.DEVICE_DETAIL) as window:
                body = client.call(settings.DEVICE_DETAIL, {"imei": row["imei"]}, f"imei {row['imei']}")
                window.add_rows(1)
            return {**row, **detail_row(body.get("result"))}

        for _, row in run_concurrently([(row,) for row in device_list()], detailed, max_workers):
            yield row

    @dlt.resource(name="device_groups", primary_key=KEYS["device_groups"], write_disposition="merge", columns=GROUP_COLUMNS)
    def device_groups() -> Iterator[dict]:
        with windows("device_groups", settings.GROUP_LIST) as window:
            body = client.call(settings.GROUP_LIST, {"account": account}, f"account {account}")
            rows = list(group_rows(body))
            window.add_rows(len(rows))
        yield from rows

    @dlt.resource(name="live_locations", primary_key=KEYS["live_locations"], write_disposition=MERGE)
    def live_locations() -> Iterator[pa.Table]:
        with windows("live_locations", settings.LOCATION_LIST) as window:
            table = client.call(
                settings.LOCATION_LIST, {"target": account}, f"account {account}", decode=partial(decode, LIVE_LOCATIONS)
            )
            window.add_rows(table.num_rows)
        yield table

    @dlt.resource(name="track_points", primary_key=KEYS["track_points"], write_disposition=MERGE)
    def track_points() -> Iterator[pa.Table]:
        window = run_window()
        cursors = {} if window.bounded else dlt.current.resource_state().setdefault("polled_until", {})
        plans = {imei: window.range_for(cursors.get(imei), lookback("track_points"), settings.TRACK_RETENTION) for imei in pollable_imeis()}

        # One task per device and 7-day window, and the cursor of a device moves once all its windows were
        # read (track.py says why windows, not devices, are the unit).
        tasks = window_tasks({imei: plan for imei, plan in plans.items() if plan[0] < plan[1]}, settings.TRACK_MAX_SPAN)
        progress = DeviceProgress(tasks)

        def fetch(imei: str, lo: datetime, hi: datetime) -> pa.Table | None:
            if progress.skipped(imei):
                return None
            try:
                with windows("track_points", settings.TRACK_LIST, lo, hi, [imei]) as tally:
                    table = fetchers.track_points(client, imei, lo, hi)
                    tally.add_rows(table.num_rows)
                return table
            except JimiDeviceError as exc:
                # A device that left the account or expired mid-run must not stop the fleet's load; its
                # cursor stays where it was.
                log.warning("skipping device: %s", exc)
                progress.skip(imei)
                return None

        for (imei, _, _), table in run_concurrently(tasks, fetch, max_workers):
            if table is not None and table.num_rows:
                yield table
            if progress.consumed(imei) and not window.bounded:
                cursors[imei] = window.advance(cursors.get(imei), plans[imei][1])

    def windowed(name: str, method: str, span, fetch: Callable[[list[str], datetime, datetime], list[pa.Table]]):
        """A resource over windows × IMEI batches with one cursor for the whole resource."""

        def recorded(batch: list[str], lo: datetime, hi: datetime) -> list[pa.Table]:
            with windows(name, method, lo, hi, batch) as window:
                tables = fetch(batch, lo, hi)
                window.add_rows(sum(table.num_rows for table in tables))
            return tables

        def rows() -> Iterator[pa.Table]:
            window = run_window()
            state = None if window.bounded else dlt.current.resource_state()
            cursor = state.get("polled_until") if state is not None else None
            begin, stop = window.range_for(cursor, lookback(name), settings.REPORT_RETENTION)
            tasks = [
                (batch, lo, hi)
                for lo, hi in split(begin, stop, span)
                for batch in batches(pollable_imeis(), settings.IMEI_BATCH)
            ]
            for _, tables in run_concurrently(tasks, recorded, max_workers):
                yield from (table for table in tables if table.num_rows)
            if state is not None:
                state["polled_until"] = window.advance(cursor, stop)

        return rows

    trips = dlt.resource(
        windowed("trips", settings.TRACK_MILEAGE, settings.MILEAGE_SPAN, partial(_trips, client, mileage_distance_unit)),
        name="trips", primary_key=KEYS["trips"], write_disposition=MERGE,
    )  # fmt: skip
    parking = dlt.resource(
        windowed("parking", settings.PARKING, settings.PARKING_SPAN, partial(fetchers.parking, client, account, dialect=parking_dialect)),
        name="parking", primary_key=KEYS["parking"], write_disposition=MERGE,
    )  # fmt: skip
    alarms = dlt.resource(
        windowed("alarms", settings.ALARM_LIST, settings.ALARM_SPAN, partial(fetchers.alarms, client)),
        name="alarms", primary_key=KEYS["alarms"], write_disposition=MERGE,
    )  # fmt: skip
    obd_readings = dlt.resource(
        windowed("obd_readings", settings.OBD_LIST, settings.OBD_SPAN, partial(fetchers.obd, client, settings.OBD_LIST, account)),
        name="obd_readings", primary_key=KEYS["obd_readings"], write_disposition=MERGE,
    )  # fmt: skip
    obd_faults = dlt.resource(
        windowed("obd_faults", settings.OBD_FAULT, settings.OBD_SPAN, partial(fetchers.obd, client, settings.OBD_FAULT, account)),
        name="obd_faults", primary_key=KEYS["obd_faults"], write_disposition=MERGE,
    )  # fmt: skip

    extra = extra_resources(
        SourceContext(client, account, run_window, device_list, pollable_imeis, lookback, run_concurrently,
                      max_workers, media_models, tag_models)
    )  # fmt: skip
    return (
        devices, device_groups, live_locations, track_points, trips, parking, alarms, obd_readings, obd_faults,
        *extra,
    )  # fmt: skip


def _trips(client: JimiClient, distance_unit: str, imeis: list[str], begin: datetime, end: datetime):
    return fetchers.trips(client, imeis, begin, end, distance_unit)

