"""Dagster definitions of push: the asset that loads a claimed batch of landing files, its job, and the
sensor that claims the files.

The sensor's tick (`plan_push_runs`, a plain function) claims every waiting file into batches — an atomic
move into `claimed/<batch>/`, so a file belongs to one batch whatever the sensor sees later — and requests a
run of `load_push_landing` for every claimed batch that has no run in flight. It claims nothing while a batch
is still waiting for its run, so runs never queue up behind each other. The run key is the batch id (unique:
time + random), with `#<attempt>` for automatic retries of a batch whose runs all failed, so run keys never
collide and Dagster drops a request it has already launched. After `MAX_AUTOMATIC_ATTEMPTS` failures a batch
waits for a person: the tick names it, and re-executing its last run loads it. The load itself is
`engine/push_loading.py`. (No `from __future__ import annotations` here: Dagster reads the config class from
the asset's annotations at import.)
"""

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    Config,
    DagsterRunStatus,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    RunConfig,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    define_asset_job,
    in_process_executor,
    multi_asset,
    sensor,
)

from orchestration.engine.push_loading import load_batch, load_pending
from orchestration.settings import current
from sources.jimi_push import settings
from sources.jimi_push.batches import batch_files, claim_new_batches, claimed_batches, tidy_landing

from .runs import FINISHED, PUSH_PIPELINE, pipeline_tags

BATCH_TAG = "jimi_push/batch"
OP_NAME = "jimi_push"
CHECK_NAME = "landing_files_readable"
TABLE_DESCRIPTIONS = {
    "gps_fixes": "GPS fixes pushed to /pushgps, merged on IMEI + fix time.",
    "alarms": "Alarms pushed to /pushalarm (raised and cleared), merged on IMEI + time + type + cleared.",
    "obd_readings": "OBD data pushed to /pushobd: the whole obdJson and scalars with units.",
    "fault_codes": "OBD fault codes pushed to /pushfaultinfo, one row per DTC.",
    "trip_reports": "Trip start/end reports pushed to /pushtripreport.",
    "heartbeats": "Heartbeats pushed to /pushhb.",
    "device_events": "Login/logout events pushed to /pushevent.",
    "fuel_readings": "Fuel sensor readings pushed to /pushoil (value / 100, unit labelled).",
    "temperature_readings": "Temperature and humidity pushed to /pushtem.",
    "lbs_readings": "Cell-tower (LBS/Wi-Fi) data pushed to /pushlbs.",
    "other_pushes": "Every other push item, raw, and items without a readable natural key (with the reason).",
    "landing_files": "Ledger of landing files: each loaded or quarantined file once, with the reason.",
}


class PushBatchConfig(Config):
    """Which claimed batch to load; empty claims and loads everything waiting (e.g. in `refresh_all`)."""

    batch: str = ""


@multi_asset(
    name=OP_NAME,
    specs=[
        AssetSpec(
            AssetKey(["jimi_push", table]),
            description=TABLE_DESCRIPTIONS[table],
            group_name="push",
            kinds={"dlt", "duckdb"},
        )
        for table in settings.TABLES
    ],
    check_specs=[
        AssetCheckSpec(
            CHECK_NAME,
            asset=AssetKey(["jimi_push", settings.FILES_TABLE]),
            description="Every landing file of the run could be read; quarantined files are listed with their reason.",
        )
    ],
)
def jimi_push_assets(context: AssetExecutionContext, config: PushBatchConfig):
    """Load one claimed batch of push landing files (or everything waiting) into `jimi_push_raw`."""
    run_id = context.run.run_id
    summary = load_batch(config.batch, run_id=run_id) if config.batch else load_pending(run_id=run_id)
    for name, reason in summary.quarantined.items():
        context.log.warning(f"quarantined {name}: {reason}")
    for table in settings.TABLES:
        metadata: dict[str, int | list[str] | MetadataValue] = {
            "rows_loaded": summary.rows_by_table.get(table, 0),
            "batches": summary.batches,
            "load_ids": summary.load_ids,
        }
        if table == settings.FILES_TABLE:
            metadata |= {
                "files_loaded": summary.files_loaded,
                "files_already_loaded": summary.files_skipped,
                "files_quarantined": len(summary.quarantined),
                "quarantined": MetadataValue.json(summary.quarantined),
                "items": summary.items,
                "items_to_other_pushes": summary.items_routed,
            }
        yield MaterializeResult(asset_key=AssetKey(["jimi_push", table]), metadata=metadata)
    yield AssetCheckResult(
        check_name=CHECK_NAME,
        asset_key=AssetKey(["jimi_push", settings.FILES_TABLE]),
        passed=not summary.quarantined,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "files_quarantined": len(summary.quarantined),
            "quarantined": MetadataValue.json(summary.quarantined),
        },
    )


push_load_job = define_asset_job(
    "load_push_landing",
    selection=AssetSelection.assets(jimi_push_assets),
    description="Load a batch of push landing files claimed by the push sensor.",
    # Queued runs of this job wait for each other rather than for the pipeline lock.
    tags=pipeline_tags([PUSH_PIPELINE]),
    # One op: running it in the run's own process saves a process start (seconds) on every push batch.
    executor_def=in_process_executor,
)


def batch_run_request(batch: str, attempt: int = 0) -> RunRequest:
    return RunRequest(
        run_key=batch if attempt == 0 else f"{batch}#{attempt}",
        run_config=RunConfig(ops={OP_NAME: PushBatchConfig(batch=batch)}),
        tags={BATCH_TAG: batch},
    )


def plan_push_runs(
    landing: Path,
    runs_of_batch: Callable[[str], Sequence[DagsterRunStatus]],
    max_files: int = settings.BATCH_MAX_FILES,
) -> tuple[list[RunRequest], list[str]]:
    """Runs to request and batches that wait for a person.

    New files are claimed only when no batch is waiting for its run: while a run is queued or loading,
    files keep landing and the next batch takes them all, so a steady stream of pushes under slow runs
    makes bigger batches rather than an ever longer queue of runs.
    """
    tidy_landing(landing)
    requests, stuck, busy = [], [], False
    for batch in claimed_batches(landing):
        if not batch_files(landing, batch):
            # A run finished its files but not its folder: nothing left to load.
            shutil.rmtree(landing / settings.CLAIMED_DIR / batch, ignore_errors=True)
            continue
        statuses = list(runs_of_batch(batch))
        if any(status not in FINISHED for status in statuses):
            busy = True
        elif len(statuses) >= settings.MAX_AUTOMATIC_ATTEMPTS:
            stuck.append(batch)
        else:
            requests.append(batch_run_request(batch, len(statuses)))
            busy = True
    if not busy:
        requests += [batch_run_request(batch) for batch in claim_new_batches(landing, max_files)]
    return requests, stuck


@sensor(
    name="push_landing_sensor",
    job=push_load_job,
    minimum_interval_seconds=settings.SENSOR_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description="Claims pushed files from the landing folder in batches and loads each batch once.",
)
def push_landing_sensor(context: SensorEvaluationContext) -> SensorResult:
    def runs_of_batch(batch: str) -> list[DagsterRunStatus]:
        return [run.status for run in context.instance.get_runs(filters=RunsFilter(tags={BATCH_TAG: batch}))]

    requests, stuck = plan_push_runs(current().landing_dir, runs_of_batch, current().push_batch_files)
    for batch in stuck:
        context.log.warning(
            f"push batch {batch} failed {settings.MAX_AUTOMATIC_ATTEMPTS} times; re-execute its run"
        )
    if not requests:
        return SensorResult(skip_reason="no push files waiting")
    return SensorResult(run_requests=requests)
