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
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.common.destination import Destination, DestinationCapabilitiesContext

from sources import duckdb_setup
from sources.jimi.client import CallStats

from . import config, dedup, ingest_log
from .batching import load_in_batches
from .warehouse import load_locked, writer_lock

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


def pipeline(name: str, dataset: str = config.RAW_DATASET, throwaway: bool = False) -> dlt.Pipeline:
    """A pipeline into the configured warehouse, its working folder under the data folder.

    A `throwaway` pipeline (one batch of a bounded window, removed once loaded) has no cursor, so it neither
    restores nor stores state in the warehouse, and keeps no runtime trace (its folder is deleted anyway):
    each of those is a round of dlt bookkeeping per batch that nothing reads.
    """
    created = dlt.pipeline(
        pipeline_name=name,
        destination=memoize_capabilities(dlt.destinations.duckdb(credentials=duckdb_setup.dlt_credentials(config.warehouse_path()))),
        dataset_name=dataset,
        pipelines_dir=str(config.pipelines_dir()),
    )
    if throwaway:
        # Read at each step, and `dlt.pipeline` takes no arguments for them (config would, for every pipeline).
        created.config.restore_from_destination = False
        created.config.enable_runtime_trace = False
    return created


def memoize_capabilities(destination: Destination) -> Destination:
    """The destination, computing its capabilities once.

    dlt asks for them about 20 times per extract, normalize and load, and each time resolves the
    destination's whole configuration (~3.5 ms); within a pipeline's life they cannot change. Calls with a
    resolved configuration or a case-sensitive naming convention (which adjust them) still compute.
    """
    compute = destination.capabilities
    memo: list[DestinationCapabilitiesContext] = []

    def capabilities(config=None, naming=None) -> DestinationCapabilitiesContext:
        if config is not None or (naming is not None and naming.is_case_sensitive):
            return compute(config, naming)
        if not memo:
            memo.append(compute())
        return memo[0].copy()  # callers may adjust what they are given

    destination.capabilities = capabilities  # type: ignore[method-assign]
    return destination


def jimi_pipeline() -> dlt.Pipeline:
    """The pipeline Dagster's dlt integration describes the Jimi assets with (it never runs it)."""
    return pipeline(config.PIPELINE_NAME)


# Bounded windows (backfills) of these resources load in batches while the API is still being read.
WINDOWED = {"track_points", "trips", "parking", "alarms", "obd_readings", "obd_faults"}
# A batch's load holds a few times its rows in memory (dlt's files, DuckDB's merge), so the batch size sets
# the backfill's peak: 500k rows peaked at ~690 MiB, 200k at ~530 MiB (the fetching side alone ~400 MiB).
# Smaller batches cost ~0.6 s of load overhead each, off the API's critical path.
LOAD_BATCH_ROWS = 200_000
# DuckDB's row group size: a parquet row group of it becomes one of the table's, copied on a thread of its own.
DUCKDB_ROW_GROUP_ROWS = 122_880
# What fetched answers may hold while they wait for a load (a week of one device's fixes is ~0.5 MB).
BUFFER_BYTES = 64 * 2**20


def run_source(
    pipeline: dlt.Pipeline,
    source: dlt.sources.DltSource | dlt.sources.DltResource,
    resources: Sequence[str] | None = None,
    warehouse: Path | None = None,
    schema: dlt.Schema | None = None,
) -> LoadSummary:
    """Extract (into `schema` when given) and normalize without the warehouse, then load under the writer
    lock (on one connection to `warehouse` when given: the file the pipeline's destination names)."""
    if resources:
        source = source.with_resources(*resources)
    if pipeline.first_run and not pipeline.has_pending_data and pipeline.config.restore_from_destination:
        # A fresh working folder knows no cursors: restore them from the warehouse before extracting.
        with writer_lock():
            pipeline.sync_destination()
    if pipeline.has_pending_data:
        # A load that failed earlier (the warehouse was busy, the process was killed): finish it first.
        drop_committed_extracts(pipeline)
        pipeline.normalize()
        load_locked(pipeline, warehouse)
    pipeline.extract(source, schema=schema)
    normalized = pipeline.normalize()
    summary = LoadSummary()
    for table, rows in ((normalized.row_counts if normalized else None) or {}).items():
        if not table.startswith("_dlt"):
            summary.rows_by_table[table] = rows
    info = load_locked(pipeline, warehouse)
    info.raise_on_failed_jobs()
    summary.load_ids = list(info.loads_ids)
    return summary


def drop_committed_extracts(pipeline: dlt.Pipeline) -> None:
    """Delete extracted packages whose normalized package was already committed.

    dlt's normalize commits a package by renaming it into `load/normalized/` (atomic) and then deletes the
    extracted copy: a process killed between the two (dlt logs "do not kill this process" there) leaves
    both, and every later normalize fails renaming onto the committed one. That copy is complete, so the
    leftover goes, as the dead process was about to do.
    """
    extracted = Path(pipeline.working_dir, "normalize", "extracted")
    load = Path(pipeline.working_dir, "load")
    for package in sorted(extracted.iterdir()) if extracted.is_dir() else []:
        if any((load / stage / package.name).is_dir() for stage in ("normalized", "loaded")):
            log.warning("pipeline %s: dropping the extract of package %s, already normalized", pipeline.pipeline_name, package.name)
            shutil.rmtree(package)


def load_jimi(
    resources: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
    catch_up_days: int | None = None,
    run_id: str | None = None,
    **source_args: object,
) -> LoadSummary:
    """Load Jimi resources, each in its own pipeline: incremental from the cursors by default, exactly
    [start, end) when given (cursors untouched), or the trailing `catch_up_days`. Every resource's run is
    recorded in `jimi_ingest` (ingest_log.py) under `run_id`, whether it succeeded or failed."""
    from sources.jimi import jimi_source

    run_id = run_id or ingest_log.new_run_id()
    total = LoadSummary()
    records: dict[str, list[dict]] = {}
    try:
        for resource in resources:
            stats = CallStats(resource)
            started = datetime.now(UTC)
            part = LoadSummary()
            try:
                if start is not None and end is not None and resource in WINDOWED:
                    total.window = f"{start.isoformat()} to {end.isoformat()}"
                    part = load_window(resource, start, end, stats, **source_args)
                else:
                    total.window = f"catch-up {catch_up_days} days" if catch_up_days else "incremental"
                    source = jimi_source(start=start, end=end, catch_up_days=catch_up_days, stats=stats, **source_args)
                    part = run_source(pipeline(f"jimi_{resource}"), source, [resource])
            except BaseException as exc:
                _merge(records, ingest_log.polling_records(run_id, resource, total.window, stats, started, None, [], exc))
                raise
            finally:
                total.api_calls += stats.calls
                for cause, count in stats.retries.items():
                    total.retries[cause] = total.retries.get(cause, 0) + count
            _merge(records, ingest_log.polling_records(
                run_id, resource, total.window, stats, started, part.rows_by_table, part.load_ids, None
            ))  # fmt: skip
            total.add(part)
    finally:
        if records:
            ingest_log.record(records)
    return total


def _merge(records: dict[str, list[dict]], more: dict[str, list[dict]]) -> None:
    for table, rows in more.items():
        records.setdefault(table, []).extend(rows)


def load_window(resource: str, start: datetime, end: datetime, stats: CallStats, **source_args: object) -> LoadSummary:
    """Load one resource over [start, end), loading batches of answers while the API is still being read.

    The API is the slow side of a backfill: the source's worker pool walks the whole window on a producer
    thread, and this thread loads every `LOAD_BATCH_ROWS` rows as they arrive, through a buffer bounded by
    `BUFFER_BYTES` (batching.py), so the wall time stays near the API-bound ideal and memory stays flat
    however many days are asked for. A bounded window stores no cursor, so each batch's pipeline (named
    after the range and the batch) is removed once loaded.
    """
    from sources.jimi import jimi_source

    def tables() -> Iterator[pa.Table]:
        source = jimi_source(start=start, end=end, stats=stats, **source_args).with_resources(resource)
        yield from source.resources[resource]

    def load(batch: list[pa.Table], number: int) -> LoadSummary:
        return load_batch(resource, batch, f"jimi_{resource}_{start:%Y%m%d%H%M}_{end:%Y%m%d%H%M}_{number}")

    total = LoadSummary()
    for part in load_in_batches(tables(), load, LOAD_BATCH_ROWS, BUFFER_BYTES):
        total.add(part)
    return total


def load_batch(resource: str, tables: Iterable[pa.Table], name: str) -> LoadSummary:
    """Load one batch of decoded answers of a resource, merged on its natural key, in a throwaway pipeline.

    What every batch of a backfill goes through (and `bench/ingest_ratio.py` measures). The answers reach
    dlt as one table already unique on the key (`dedup.py`), so dlt is told the staged data is
    deduplicated and its merge only deletes the keys it replaces and inserts. The pipeline, named `name`,
    stores no cursor, so its working folder is removed once the batch is loaded.
    """
    from sources.jimi import KEYS, MERGE

    keys = KEYS[resource]

    run = pipeline(name, throwaway=True)

    def unique_rows() -> Iterator[object]:
        # Drawn by dlt's extract, after its set-up: answers still decoding on worker threads overlap it.
        table = dedup.combine(tables)
        if table is not None:
            # A fresh name: dlt hard-links the file into the package, and writing over a name a pending
            # package still links would change that package's data.
            path = Path(run.working_dir, f"{resource}.{uuid.uuid4().hex}.parquet")
            yield import_parquet(dedup.unique_on(table, keys), path)

    resumed = run.has_pending_data
    chunk = dlt.resource(unique_rows(), name=resource, primary_key=keys, write_disposition={**MERGE, "deduplicated": True})
    # One schema name for every batch of a resource (by default it is the pipeline's, new each batch): the
    # warehouse then knows its version and dlt neither compares its columns nor stores it again per batch.
    schema = dlt.Schema(f"jimi_batch_{resource}")
    summary = run_source(run, chunk, warehouse=config.warehouse_path(), schema=schema)
    if resumed:
        # An earlier attempt of this batch was killed mid-load and run_source finished it first. dlt replays
        # a copy into staging that committed but was not yet marked done, and a merge of data declared
        # deduplicated would then insert those rows twice: collapse any key the table holds twice (a scan
        # of the table, paid on this rare path only).
        with writer_lock():
            dedup.collapse_duplicates(run, resource, keys)
    shutil.rmtree(run.working_dir, ignore_errors=True)
    return summary


def import_parquet(table: pa.Table, path: Path) -> object:
    """`table` written to `path` as the parquet file dlt imports into the load package as it is.

    Handed the table, dlt writes the file itself with dictionary-encoded columns in one row group. Measured
    on a week of 45 devices' fixes (293k rows): that write took 0.07-0.09 s, this one 0.04 s; and DuckDB
    copies a file into a table one row group per thread, so row groups of DuckDB's own size (122,880 rows)
    halve the copy into the staging table (0.14 s to 0.07-0.09 s on two cores). The file is read once, from
    the local disk, so it is neither compressed nor dictionary encoded. dlt takes the columns from the
    table's schema, as it does when handed the table.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="none", use_dictionary=False, row_group_size=DUCKDB_ROW_GROUP_ROWS)
    # The schema as an empty slice: `Schema.empty_table()` imports pandas (a second, once per process).
    return dlt.mark.with_file_import(str(path), "parquet", table.num_rows, hints=table.slice(0, 0))
