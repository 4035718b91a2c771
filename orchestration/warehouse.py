"""Taking turns on the DuckDB warehouse, and publishing the marts for readers.

DuckDB admits one writing process per file and refuses other openers while it writes, immediately. So every
writer (a dlt load, a dbt build, a publish) holds `writer_lock()` — a file lock that waits its turn for a
bounded time — only for the part that touches the file. Readers never open the warehouse: they open the
published copy, which `publish_marts` rebuilds beside the old one and swaps in with an atomic rename, so a
query that is running keeps reading the file it opened.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dlt
import duckdb
from dlt.common.pipeline import LoadInfo
from filelock import FileLock, Timeout

from sources import duckdb_setup

from . import config

WRITER_WAIT_S = float(os.environ.get("JIMI_WAREHOUSE_WAIT_S", "1800"))


class WarehouseBusy(RuntimeError):
    """Another writer held the warehouse for longer than this writer was willing to wait."""


@contextmanager
def writer_lock(wait_s: float = WRITER_WAIT_S) -> Iterator[None]:
    path = config.lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        raise WarehouseBusy(f"the warehouse stayed busy for {wait_s:.0f}s ({path} is held by another writer)") from None
    try:
        yield
    finally:
        lock.release()


def load_locked(pipeline: dlt.Pipeline, warehouse: Path | None = None) -> LoadInfo:
    """`pipeline.load()` under the writer lock; on one connection to `warehouse` (the file the pipeline's
    destination names) when given."""
    with writer_lock():
        if warehouse is None:
            return pipeline.load()
        # Given a path, dlt opens the DuckDB file for each client it makes and closes it (a checkpoint) when
        # that client is done, several times a package (~0.1 s of a batch); given an open connection it
        # takes cursors of it, and the one checkpoint comes when it is closed here, still under the lock.
        connection = duckdb_setup.connect(str(warehouse))
        # The checkpoint at close would merge this load's last, partly filled row group with the earlier
        # load's: a rewrite of a whole batch every other batch (0.11 s of a week of 45 devices' fixes, a
        # tenth of its load). Left unmerged, a table has one partly filled row group per batch; fully
        # deleted row groups (a window loaded again) are still dropped.
        connection.execute("set max_vacuum_tasks = 0")
        try:
            return pipeline.load(credentials=connection)
        finally:
            connection.close()
            # dlt keeps the credentials it was given: back to the path, not a closed connection.
            pipeline.destination.config_params["credentials"] = duckdb_setup.dlt_credentials(warehouse)


def mart_tables(connection: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "order by table_name",
        [catalog, config.MART_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def publish_marts(warehouse: Path | None = None, published: Path | None = None) -> dict[str, int]:
    """Copy every table of the mart schema into a fresh file and swap it in; returns rows per table.

    The caller holds the writer lock, so no load is writing while the warehouse is read.
    """
    warehouse = warehouse or config.warehouse_path()
    published = published or config.published_path()
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.stem}-{uuid.uuid4().hex}.duckdb")
    counts: dict[str, int] = {}
    connection = duckdb_setup.connect()
    try:
        connection.execute(f"attach '{warehouse}' as wh (read_only)")
        connection.execute(f"attach '{staging}' as pub")
        for table in mart_tables(connection, "wh"):
            connection.execute(f'create table pub.main."{table}" as select * from wh.{config.MART_SCHEMA}."{table}"')
            counts[table] = connection.execute(f'select count(*) from pub.main."{table}"').fetchall()[0][0]
        connection.execute("detach pub")
        connection.execute("detach wh")
    except BaseException:
        connection.close()
        staging.unlink(missing_ok=True)
        raise
    connection.close()
    os.replace(staging, published)
    return counts
