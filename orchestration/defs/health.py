"""Asset checks on ingestion health, evaluated on the published marts after every publish.

- `devices_not_silent`: fails when a device that reported yesterday (UTC) or later — by fix, push or
  heartbeat (`fct_device_freshness.last_contact_at`) — has been silent for longer than
  `JIMI_HEALTH_SILENT_AFTER_MINUTES` (default 60, the mart's own `device_silent_after_minutes`), measured
  when the check runs, not when the mart was built. Expired and disabled devices are left out.
- `endpoint_error_share`: fails when, over the last `JIMI_HEALTH_ERROR_WINDOW_HOURS` (default 24), an API
  method's errors / calls crosses `JIMI_HEALTH_MAX_ERROR_SHARE` (default 0.2), for methods with at least
  `JIMI_HEALTH_MIN_CALLS` calls (default 20; a handful of calls says little).

Both read the published copy through `engine/health.py`, never the warehouse, so they take no lock and never
block a writer; they are attached to `published_marts` and so run right after each publish (the `transform`
job selects them with the asset). Thresholds are read when a check runs, not at import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from orchestration.engine.health import error_shares, read_published, silent_devices
from orchestration.settings import HEALTH_SCHEMA, HealthThresholds, current

PUBLISHED = "published_marts"
# The health model the error-share check reads, as the published copy names it.
WINDOWS = f"{HEALTH_SCHEMA}.fct_ingest_windows"


def _missing(table: str) -> AssetCheckResult:
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description=f"`{table}` is not in the published marts yet: nothing to check.",
    )


def silence_result(now: datetime, thresholds: HealthThresholds, path: Path | None = None) -> AssetCheckResult:
    silent = read_published(
        path, "fct_device_freshness", lambda db: silent_devices(db, now, thresholds.silent_after_minutes)
    )
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


def error_share_result(
    now: datetime, thresholds: HealthThresholds, path: Path | None = None
) -> AssetCheckResult:
    shares = read_published(path, WINDOWS, lambda db: error_shares(db, now, thresholds.error_window_hours))
    if shares is None:
        return _missing(WINDOWS)
    failing = [
        row
        for row in shares
        if row["calls"] >= thresholds.min_calls and row["error_share"] > thresholds.max_error_share
    ]
    return AssetCheckResult(
        passed=not failing,
        severity=AssetCheckSeverity.ERROR,
        description=(
            "; ".join(
                f"{row['method']}: {row['errors']} of {row['calls']} calls failed ({row['error_share']:.1%})"
                for row in failing
            )
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
    return silence_result(datetime.now(UTC), current().health)


@asset_check(
    asset=PUBLISHED,
    name="endpoint_error_share",
    description="Fails when an API method's errors / calls over the last JIMI_HEALTH_ERROR_WINDOW_HOURS (24) "
    "exceed JIMI_HEALTH_MAX_ERROR_SHARE (0.2), for methods with at least JIMI_HEALTH_MIN_CALLS (20) calls.",
)
def endpoint_error_share() -> AssetCheckResult:
    return error_share_result(datetime.now(UTC), current().health)


health_checks = [devices_not_silent, endpoint_error_share]
