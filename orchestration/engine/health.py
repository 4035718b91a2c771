"""Reading ingestion health from the published copy: silent devices and error shares per API method.

Plain functions over the published copy (`data/published/marts.duckdb`: the marts by name, the health models
as `health.<model>`), never the warehouse, so they take no lock and never block a writer; the asset checks in
`defs/health.py` call them after every publish.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import duckdb

from sources import duckdb_setup

from .. import settings as project

T = TypeVar("T")


def _published(path: Path | None = None) -> duckdb.DuckDBPyConnection | None:
    target = path or project.current().published_path
    if not target.exists():
        return None
    return duckdb_setup.connect(str(target), read_only=True)


def _has_table(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the published copy has `table`, named as readers name it (`fct_x`, or `health.fct_x`)."""
    schema, _, name = table.rpartition(".")
    return bool(
        connection.execute(
            "select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [schema or "main", name]
        ).fetchall()
    )


def silent_devices(
    connection: duckdb.DuckDBPyConnection, now: datetime, silent_after_minutes: float
) -> list[dict]:
    """Devices heard from (fix, push or heartbeat) since the start of yesterday (UTC) but not for
    `silent_after_minutes` before `now`."""
    yesterday = datetime.combine(now.astimezone(UTC).date() - timedelta(days=1), datetime.min.time(), UTC)
    rows = connection.execute(
        """
        select imei, last_contact_at
        from fct_device_freshness
        where last_contact_at >= ? and not coalesce(is_expired, false) and not coalesce(is_disabled, false)
        order by imei
        """,
        [yesterday],
    ).fetchall()
    out = []
    for imei, last_contact in rows:
        silent_minutes = (now - last_contact.astimezone(UTC)).total_seconds() / 60.0
        if silent_minutes > silent_after_minutes:
            out.append(
                {
                    "imei": imei,
                    "last_contact_at": last_contact.astimezone(UTC).isoformat(),
                    "silent_minutes": round(silent_minutes, 1),
                }
            )
    return out


def error_shares(connection: duckdb.DuckDBPyConnection, now: datetime, window_hours: float) -> list[dict]:
    """Per method over the last `window_hours`: calls, errors and their share (windows by start time)."""
    rows = connection.execute(
        """
        select method, sum(calls) as calls, sum(errors) as errors
        from health.fct_ingest_windows
        where started_at >= ?
        group by method
        order by method
        """,
        [now - timedelta(hours=window_hours)],
    ).fetchall()
    return [
        {
            "method": method,
            "calls": int(calls),
            "errors": int(errors),
            "error_share": round(errors / calls, 4) if calls else 0.0,
        }
        for method, calls, errors in rows
    ]


def read_published(path: Path | None, table: str, read: Callable[[duckdb.DuckDBPyConnection], T]) -> T | None:
    """`read(connection)` on the published copy, or None when there is none or it lacks `table`."""
    connection = _published(path)
    if connection is None:
        return None
    try:
        return read(connection) if _has_table(connection, table) else None
    finally:
        connection.close()
