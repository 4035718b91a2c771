"""The analysts' way in: a DuckDB connection over the published marts, never the live warehouse.

    from marts import connect
    db = connect()
    db.sql("select * from fct_device_days").df()

The published file is a copy the pipeline swaps in atomically after each build, so queries here never take
the warehouse's lock and a running query keeps reading the copy it opened.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.config import published_path


def connect(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the marts attached read-only and in scope by their names."""
    target = Path(path) if path else published_path()
    if not target.exists():
        raise FileNotFoundError(f"no published marts at {target}: run `make demo` (or `make run`) first")
    connection = duckdb.connect()
    connection.execute(f"attach '{target}' as marts (read_only)")
    connection.execute("use marts")
    return connection


def tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The mart tables available by name."""
    return [row[0] for row in connection.execute("select table_name from duckdb_tables() where database_name = 'marts' order by 1").fetchall()]
