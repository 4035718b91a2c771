"""Backfills: one resource over a bounded window, loaded in batches while the API is still being read.

A backfill window stores no cursor, so its batches go through throwaway pipelines (named after the window and
the batch, removed once loaded). `load_batch` is also what `bench/ingest_ratio.py` measures: the production
batch path from decoded answers to merged rows.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Unpack

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.common.schema.typing import TDeleteInsertStrategyDict

from sources.jimi import JimiCredentials, SourceOptions, endpoint, jimi_source
from sources.jimi.callstats import CallStats

from .. import settings as project
from . import dedup
from .batching import load_in_batches
from .pipelines import LoadSummary, pipeline, pipeline_lock, run_source
from .warehouse import writer_lock

# A batch's load holds a few times its rows in memory (dlt's files, DuckDB's merge), so the batch size sets
# the backfill's peak: 500k rows peaked at ~690 MiB, 200k at ~530 MiB (the fetching side alone ~400 MiB).
# Smaller batches cost ~0.6 s of load overhead each, off the API's critical path.
LOAD_BATCH_ROWS = 200_000
# DuckDB's row group size: a parquet row group of it becomes one of the table's, copied on a thread of its own.
DUCKDB_ROW_GROUP_ROWS = 122_880
# What fetched answers may hold while they wait for a load (a week of one device's fixes is ~0.5 MB).
BUFFER_BYTES = 64 * 2**20


class WindowSourceArgs(SourceOptions, total=False):
    """The `jimi_source` keywords a window load passes on: the source's options and the account."""

    credentials: JimiCredentials | None


def load_window(
    resource: str, start: datetime, end: datetime, stats: CallStats, **source_args: Unpack[WindowSourceArgs]
) -> LoadSummary:
    """Load one resource over [start, end), loading batches of answers while the API is still being read.

    The API is the slow side of a backfill: the source's worker pool walks the whole window on a producer
    thread, and this thread loads every `LOAD_BATCH_ROWS` rows as they arrive, through a buffer bounded by
    `BUFFER_BYTES` (batching.py), so the wall time stays near the API-bound ideal and memory stays flat
    however many days are asked for. A bounded window stores no cursor, so each batch's pipeline (named
    after the range and the batch) is removed once loaded.
    """

    def tables() -> Iterator[pa.Table]:
        source = jimi_source(start=start, end=end, stats=stats, **source_args).with_resources(resource)
        yield from source.resources[resource]

    name = f"jimi_{resource}_{start:%Y%m%d%H%M}_{end:%Y%m%d%H%M}"

    def load(batch: list[pa.Table], number: int) -> LoadSummary:
        return load_batch(resource, batch, f"{name}_{number}")

    total = LoadSummary()
    # Two runs of one window (a backfill started twice) would share the batch pipelines: the second waits.
    with pipeline_lock(name):
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
    entry = endpoint(resource)
    if entry.disposition != "merge":
        raise ValueError(f"a batch is merged on its key, and {resource} is replaced on every load")
    keys = entry.key
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
    # The registry's merge (delete-insert), told that the staged data is already unique on the key.
    merge: TDeleteInsertStrategyDict = {
        "disposition": "merge",
        "strategy": "delete-insert",
        "deduplicated": True,
    }
    chunk = dlt.resource(unique_rows(), name=resource, primary_key=keys, write_disposition=merge)
    # One schema name for every batch of a resource (by default it is the pipeline's, new each batch): the
    # warehouse then knows its version and dlt neither compares its columns nor stores it again per batch.
    schema = dlt.Schema(f"jimi_batch_{resource}")
    summary = run_source(run, chunk, warehouse=project.current().warehouse_path, schema=schema)
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
    pq.write_table(
        table, path, compression="none", use_dictionary=False, row_group_size=DUCKDB_ROW_GROUP_ROWS
    )
    # The schema as an empty slice: `Schema.empty_table()` imports pandas (a second, once per process).
    return dlt.mark.with_file_import(str(path), "parquet", table.num_rows, hints=table.slice(0, 0))
