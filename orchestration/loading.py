"""Running the dlt sources so that slow API work never holds the warehouse.

`extract` and `normalize` touch only dlt's working folder (kept under the data folder, so cursors and
pending packages survive); only `load` needs the warehouse, and it runs under the writer lock. A load that
fails leaves its package pending and the next run of the same pipeline completes it first, so nothing
extracted is lost and the cursors (committed with the package) never skip data.

Each Jimi resource runs in a dlt pipeline of its own (`jimi_<resource>`), so the minute sweep, a long
track poll and an alarm poll can run at the same time without sharing a working folder; a bounded window
(a backfill chunk) gets a pipeline named after its range, since it stores no cursor.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import dlt
from dlt.common.pipeline import LoadInfo

from sources.jimi import settings as jimi_settings
from sources.jimi.client import CallStats
from sources.jimi.windows import split

from . import config
from .warehouse import writer_lock

log = logging.getLogger(__name__)


@dataclass
class LoadSummary:
    rows_by_table: dict[str, int] = field(default_factory=dict)
    load_ids: list[str] = field(default_factory=list)
    api_calls: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    window: str = "incremental"

    def add(self, other: LoadSummary) -> None:
        for table, rows in other.rows_by_table.items():
            self.rows_by_table[table] = self.rows_by_table.get(table, 0) + rows
        self.load_ids += other.load_ids


def pipeline(name: str, dataset: str = config.RAW_DATASET) -> dlt.Pipeline:
    """A pipeline into the configured warehouse, its working folder under the data folder."""
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(credentials=str(config.warehouse_path())),
        dataset_name=dataset,
        pipelines_dir=str(config.pipelines_dir()),
    )


def jimi_pipeline() -> dlt.Pipeline:
    """The pipeline Dagster's dlt integration describes the Jimi assets with (it never runs it)."""
    return pipeline(config.PIPELINE_NAME)


# A bounded window is loaded in chunks of what one call per device covers, one chunk fetched ahead.
CHUNK = {
    "track_points": jimi_settings.TRACK_MAX_SPAN,
    "trips": jimi_settings.MILEAGE_SPAN,
    "parking": jimi_settings.PARKING_SPAN,
    "alarms": jimi_settings.ALARM_SPAN,
    "obd_readings": jimi_settings.OBD_SPAN,
    "obd_faults": jimi_settings.OBD_SPAN,
}


def run_source(
    pipeline: dlt.Pipeline, source: dlt.sources.DltSource | dlt.sources.DltResource, resources: Sequence[str] | None = None
) -> LoadSummary:
    """Extract and normalize without the warehouse, then load under the writer lock."""
    if resources:
        source = source.with_resources(*resources)
    if pipeline.first_run and not pipeline.has_pending_data:
        # A fresh working folder knows no cursors: restore them from the warehouse before extracting.
        with writer_lock():
            pipeline.sync_destination()
    if pipeline.has_pending_data:
        # A load that failed earlier (the warehouse was busy, the process was killed): finish it first.
        pipeline.normalize()
        with writer_lock():
            pipeline.load()
    pipeline.extract(source)
    pipeline.normalize()
    summary = LoadSummary()
    for table, rows in (pipeline.last_trace.last_normalize_info.row_counts or {}).items():
        if not table.startswith("_dlt"):
            summary.rows_by_table[table] = rows
    with writer_lock():
        info: LoadInfo = pipeline.load()
    info.raise_on_failed_jobs()
    summary.load_ids = list(info.loads_ids)
    return summary


def load_jimi(
    resources: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
    catch_up_days: int | None = None,
    **source_args: object,
) -> LoadSummary:
    """Load Jimi resources, each in its own pipeline: incremental from the cursors by default, exactly
    [start, end) when given (cursors untouched), or the trailing `catch_up_days`."""
    from sources.jimi import jimi_source

    total = LoadSummary()
    stats = CallStats()
    for resource in resources:
        if start is not None and end is not None and resource in CHUNK:
            total.window = f"{start.isoformat()} to {end.isoformat()}"
            total.add(load_window(resource, start, end, stats, **source_args))
            continue
        total.window = f"catch-up {catch_up_days} days" if catch_up_days else "incremental"
        source = jimi_source(start=start, end=end, catch_up_days=catch_up_days, stats=stats, **source_args)
        total.add(run_source(pipeline(f"jimi_{resource}"), source, [resource]))
    total.api_calls = stats.calls
    total.retries = dict(stats.retries)
    return total


def load_window(resource: str, start: datetime, end: datetime, stats: CallStats, **source_args: object) -> LoadSummary:
    """Load one resource over [start, end) in chunks, fetching the next chunk while the current one loads.

    The API is the slow side of a backfill; overlapping it with the load keeps the wall time near the
    API-bound ideal, and holding at most two chunks keeps memory flat however many days are asked for. A
    bounded window stores no cursor, so each chunk's pipeline (named after its range) is removed once loaded.
    """
    from sources.jimi import KEYS, MERGE, jimi_source

    chunks = split(start, end, CHUNK.get(resource, timedelta(days=7)))
    fetched: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch_ahead() -> None:
        try:
            for lo, hi in chunks:
                source = jimi_source(start=lo, end=hi, stats=stats, **source_args).with_resources(resource)
                tables = list(source.resources[resource])
                while not stop.is_set():
                    try:
                        fetched.put((lo, hi, tables), timeout=1)
                        break
                    except queue.Full:
                        continue
            fetched.put(None)
        except BaseException as exc:  # noqa: BLE001 — handed to the loading thread, which raises it
            fetched.put(exc)

    producer = threading.Thread(target=fetch_ahead, name=f"fetch-{resource}", daemon=True)
    producer.start()
    total = LoadSummary()
    try:
        while (item := fetched.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            lo, hi, tables = item
            chunk = dlt.resource(
                tables,
                name=resource,
                primary_key=KEYS[resource],
                write_disposition=MERGE,
            )
            run = pipeline(f"jimi_{resource}_{lo:%Y%m%d%H%M}_{hi:%Y%m%d%H%M}")
            total.add(run_source(run, chunk))
            shutil.rmtree(run.working_dir, ignore_errors=True)
    finally:
        stop.set()
    return total
