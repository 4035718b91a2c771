"""Taking turns on the DuckDB warehouse, and publishing the marts (and ingestion health) for readers.

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

from .. import settings as project
from .dlt_workarounds import load_on_connection


class WarehouseBusy(RuntimeError):
    """Another writer held the warehouse for longer than this writer was willing to wait."""


@contextmanager
def writer_lock(wait_s: float | None = None) -> Iterator[None]:
    """Hold the warehouse for writing, waiting at most `wait_s` (`JIMI_WAREHOUSE_WAIT_S`) for another writer."""
    current = project.current()
    wait_s = current.warehouse_wait_s if wait_s is None else wait_s
    path = current.lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        raise WarehouseBusy(
            f"the warehouse stayed busy for {wait_s:.0f}s ({path} is held by another writer)"
        ) from None
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
        return load_on_connection(pipeline, warehouse)


def schema_tables(connection: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "order by table_name",
        [catalog, schema],
    ).fetchall()
    return [name for (name,) in rows]


def publish_marts(warehouse: Path | None = None, published: Path | None = None) -> dict[str, int]:
    """Copy every table of the published schemas (the marts, ingestion health) into a fresh file and swap it
    in; returns rows per table as readers name it (`fct_trips`, `health.fct_api_usage`).

    The caller holds the writer lock, so no load is writing while the warehouse is read.
    """
    current = project.current()
    warehouse = warehouse or current.warehouse_path
    published = published or current.published_path
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.stem}-{uuid.uuid4().hex}.duckdb")
    counts: dict[str, int] = {}
    connection = duckdb_setup.connect()
    try:
        connection.execute(f"attach '{warehouse}' as wh (read_only)")
        connection.execute(f"attach '{staging}' as pub")
        for schema, target in project.PUBLISHED_SCHEMAS.items():
            connection.execute(f'create schema if not exists pub."{target}"')
            for table in schema_tables(connection, "wh", schema):
                connection.execute(
                    f'create table pub."{target}"."{table}" as select * from wh."{schema}"."{table}"'
                )
                name = table if target == "main" else f"{target}.{table}"
                counts[name] = connection.execute(
                    f'select count(*) from pub."{target}"."{table}"'
                ).fetchall()[0][0]
        connection.execute("detach pub")
        connection.execute("detach wh")
    except BaseException:
        connection.close()
        staging.unlink(missing_ok=True)
        raise
    connection.close()
    os.replace(staging, published)
    return counts
