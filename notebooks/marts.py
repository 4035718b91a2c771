"""The analysts' way in: a DuckDB connection over the published marts, never the live warehouse.

    from marts import connect, scope, query
    db = connect()
    window = scope(db)  # the whole published range, every device
    query(db, "select * from fct_device_days where {where}", window, date_column="activity_date")

The published file is a copy the pipeline swaps in atomically after each build, so queries here never take
the warehouse's lock and a running query keeps reading the copy it opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.settings import current
from sources import duckdb_setup


def connect(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the marts attached read-only and in scope by their names.

    Only the published copy (or `path`) is opened, so the live warehouse and its lock are never touched.
    """
    target = Path(path) if path else current().published_path
    if not target.exists():
        raise FileNotFoundError(f"no published marts at {target}: run `make demo` (or `make run`) first")
    connection = duckdb_setup.connect()
    connection.execute("set timezone = 'UTC'")  # timestamps come back in UTC, as the marts store them
    connection.execute(f"attach '{target}' as marts (read_only)")
    connection.execute("use marts")
    return connection


def tables(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The published tables as a query names them: the marts bare (`fct_trips`), the ingestion-health models
    with their schema (`health.fct_api_usage`)."""
    rows = connection.execute(
        "select case when schema_name = 'main' then table_name else schema_name || '.' || table_name end "
        "from duckdb_tables() where database_name = 'marts' order by schema_name <> 'main', 1"
    ).fetchall()
    return [row[0] for row in rows]


def columns(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of one published table (named as `tables()` names it), in order; empty when not published."""
    schema, _, name = table.rpartition(".")
    rows = connection.execute(
        "select column_name from duckdb_columns() where database_name = 'marts' and schema_name = ? "
        "and table_name = ? order by column_index",
        [schema or "main", name],
    ).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class Scope:
    """A date range (inclusive, UTC days) and a set of devices (IMEIs; empty = every device)."""

    start: date
    end: date
    devices: tuple[str, ...] = ()

    def where(self, date_column: str | None = None, imei_column: str = "imei") -> str:
        """A SQL condition keeping this scope's rows (only its devices when `date_column` is None); its
        parameters are `params`."""
        devices = f"list_contains($devices::varchar[], {imei_column})" if self.devices else "true"
        return f"{date_column} between $start and $end and {devices}" if date_column else devices

    @property
    def params(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "devices": list(self.devices)}

    def __str__(self) -> str:
        who = f"{len(self.devices)} device(s)" if self.devices else "all devices"
        return f"{self.start} to {self.end}, {who}"


def published_range(connection: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """First and last day with data in the published marts (today twice when they are empty)."""
    first, last = connection.execute(
        "select min(activity_date), max(activity_date) from fct_device_days"
    ).fetchone()
    today = date.today()
    return (first or today, last or today)


def scope(
    connection: duckdb.DuckDBPyConnection,
    start: date | str | None = None,
    end: date | str | None = None,
    devices: Iterable[str] = (),
) -> Scope:
    """The analysis window: `start`/`end` default to the published range; `devices` takes IMEIs or device
    names (unknown ones raise, so a typo does not silently empty every chart)."""
    first, last = published_range(connection)
    wanted = [str(device) for device in devices]
    imeis: list[str] = []
    if wanted:
        known = connection.execute("select imei, device_name from dim_devices").fetchall()
        by_name = {name: imei for imei, name in known} | {imei: imei for imei, _ in known}
        unknown = [device for device in wanted if device not in by_name]
        if unknown:
            raise ValueError(f"unknown devices {unknown}; see `select imei, device_name from dim_devices`")
        imeis = sorted({by_name[device] for device in wanted})
    return Scope(_day(start) or first, _day(end) or last, tuple(imeis))


def query(
    connection: duckdb.DuckDBPyConnection,
    sql: str,
    window: Scope | None = None,
    date_column: str | None = None,
    imei_column: str = "imei",
    **params: object,
) -> pd.DataFrame:
    """Run `sql` and return a DataFrame. `{where}` in the SQL becomes the window's condition (its dates on
    `date_column` when given, its devices on `imei_column`); `$name` parameters come from the window and
    `params`, only those the SQL uses."""
    values: dict[str, object] = dict(params)
    if window is not None:
        sql = sql.replace("{where}", window.where(date_column, imei_column))
        values = window.params | values
    elif "{where}" in sql:
        raise ValueError("`{where}` needs a window")
    used = set(re.findall(r"\$(\w+)", sql))
    return connection.execute(sql, {name: value for name, value in values.items() if name in used}).df()


def _day(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(value)


def day_axis(ax, days: int | None = None) -> None:
    """Readable UTC dates on a matplotlib x axis: one tick per day for short ranges, weekday and date."""
    import matplotlib.dates as mdates

    interval = max(1, (days or 14) // 14)
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=interval))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
