"""Asset checks on ingestion health, evaluated on the published marts after every publish.

- `devices_not_silent`: fails when a device that reported yesterday (UTC) or later — by fix, push or
  heartbeat (`fct_device_freshness.last_contact_at`) — has been silent for longer than
  `JIMI_HEALTH_SILENT_AFTER_MINUTES` (default 60, the mart's own `device_silent_after_minutes`), measured
  when the check runs, not when the mart was built. Expired and disabled devices are left out.
- `endpoint_error_share`: fails when, over the last `JIMI_HEALTH_ERROR_WINDOW_HOURS` (default 24), an API
  method's errors / calls crosses `JIMI_HEALTH_MAX_ERROR_SHARE` (default 0.2), for methods with at least
  `JIMI_HEALTH_MIN_CALLS` calls (default 20; a handful of calls says little).

Both read the published copy (`data/published/marts.duckdb`), never the warehouse, so they take no lock
and never block a writer; they are attached to `published_marts` and so run right after each publish (the
`transform` job selects them with the asset). Thresholds are read when a check runs, not at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from sources import duckdb_setup

from . import config

PUBLISHED = "published_marts"


@dataclass(frozen=True)
class Thresholds:
    silent_after_minutes: float = 60.0
    max_error_share: float = 0.2
    error_window_hours: float = 24.0
    min_calls: int = 20

    @classmethod
    def from_env(cls) -> Thresholds:
        env = os.environ
        return cls(
            silent_after_minutes=float(env.get("JIMI_HEALTH_SILENT_AFTER_MINUTES", cls.silent_after_minutes)),
            max_error_share=float(env.get("JIMI_HEALTH_MAX_ERROR_SHARE", cls.max_error_share)),
            error_window_hours=float(env.get("JIMI_HEALTH_ERROR_WINDOW_HOURS", cls.error_window_hours)),
            min_calls=int(env.get("JIMI_HEALTH_MIN_CALLS", cls.min_calls)),
        )


def _published(path: Path | None = None) -> duckdb.DuckDBPyConnection | None:
    target = path or config.published_path()
    if not target.exists():
        return None
    return duckdb_setup.connect(str(target), read_only=True)


def _has_table(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(connection.execute("select 1 from duckdb_tables() where table_name = ?", [table]).fetchall())


def _missing(table: str) -> AssetCheckResult:
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description=f"`{table}` is not in the published marts yet: nothing to check.",
    )


def silent_devices(connection: duckdb.DuckDBPyConnection, now: datetime, silent_after_minutes: float) -> list[dict]:
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
            out.append({"imei": imei, "last_contact_at": last_contact.astimezone(UTC).isoformat(), "silent_minutes": round(silent_minutes, 1)})
    return out


def error_shares(connection: duckdb.DuckDBPyConnection, now: datetime, window_hours: float) -> list[dict]:
    """Per method over the last `window_hours`: calls, errors and their share (windows by start time)."""
    rows = connection.execute(
        """
        select method, sum(calls) as calls, sum(errors) as errors
        from fct_ingest_windows
        where started_at >= ?
        group by method
        order by method
        """,
        [now - timedelta(hours=window_hours)],
    ).fetchall()
    return [
        {"method": method, "calls": int(calls), "errors": int(errors), "error_share": round(errors / calls, 4) if calls else 0.0}
        for method, calls, errors in rows
    ]


def _read_published(path: Path | None, table: str, read):
    """`read(connection)` on the published copy, or None when there is none or it lacks the mart `table`."""
    connection = _published(path)
    if connection is None:
        return None
    try:
        return read(connection) if _has_table(connection, table) else None
    finally:
        connection.close()


def silence_result(now: datetime, thresholds: Thresholds, path: Path | None = None) -> AssetCheckResult:
    silent = _read_published(path, "fct_device_freshness", lambda db: silent_devices(db, now, thresholds.silent_after_minutes))
    if silent is None:
        return _missing("fct_device_freshness")
    limit = thresholds.silent_after_minutes
    return AssetCheckResult(
        passed=not silent,
        severity=AssetCheckSeverity.ERROR,
        description=(
            f"{len(silent)} device(s) that reported since yesterday silent for more than {limit:g} min: "
            + ", ".join(row["imei"] for row in silent)
            if silent
            else f"every device that reported since yesterday was heard from within {limit:g} min"
        ),
        metadata={
            "silent_devices": MetadataValue.json(silent),
            "silent_count": len(silent),
            "silent_after_minutes": limit,
            "evaluated_at": now.isoformat(),
        },
    )


def error_share_result(now: datetime, thresholds: Thresholds, path: Path | None = None) -> AssetCheckResult:
    shares = _read_published(path, "fct_ingest_windows", lambda db: error_shares(db, now, thresholds.error_window_hours))
    if shares is None:
        return _missing("fct_ingest_windows")
    failing = [
        row for row in shares if row["calls"] >= thresholds.min_calls and row["error_share"] > thresholds.max_error_share
    ]
    return AssetCheckResult(
        passed=not failing,
        severity=AssetCheckSeverity.ERROR,
        description=(
            "; ".join(f"{row['method']}: {row['errors']} of {row['calls']} calls failed ({row['error_share']:.1%})" for row in failing)
            + f" — above {thresholds.max_error_share:.0%} over the last {thresholds.error_window_hours:g} h"
            if failing
            else f"no endpoint above {thresholds.max_error_share:.0%} errors over the last {thresholds.error_window_hours:g} h"
        ),
        metadata={
            "failing_methods": MetadataValue.json(failing),
            "error_shares": MetadataValue.json(shares),
            "max_error_share": thresholds.max_error_share,
            "window_hours": thresholds.error_window_hours,
            "min_calls": thresholds.min_calls,
        },
    )


@asset_check(
    asset=PUBLISHED,
    name="devices_not_silent",
    description="Fails when a device that reported since yesterday has been silent longer than "
    "JIMI_HEALTH_SILENT_AFTER_MINUTES (default 60); expired and disabled devices are left out.",
)
def devices_not_silent() -> AssetCheckResult:
    return silence_result(datetime.now(UTC), Thresholds.from_env())


@asset_check(
    asset=PUBLISHED,
    name="endpoint_error_share",
    description="Fails when an API method's errors / calls over the last JIMI_HEALTH_ERROR_WINDOW_HOURS (24) "
    "exceed JIMI_HEALTH_MAX_ERROR_SHARE (0.2), for methods with at least JIMI_HEALTH_MIN_CALLS (20) calls.",
)
def endpoint_error_share() -> AssetCheckResult:
    return error_share_result(datetime.now(UTC), Thresholds.from_env())


health_checks = [devices_not_silent, endpoint_error_share]
