"""Sensors: the push sensor, which turns files in the landing folder into runs that load them.

Each tick (`plan_push_runs`, a plain function) claims every waiting file into batches — an atomic move into
`claimed/<batch>/`, so a file belongs to one batch whatever the sensor sees later — and requests a run of
`load_push_landing` for every claimed batch that has no run in flight. It claims nothing while a batch is
still waiting for its run, so runs never queue up behind each other. The run key is the batch id (unique:
time + random), with `#<attempt>` for automatic retries of a batch whose runs all failed, so run keys never
collide and Dagster drops a request it has already launched. After `MAX_AUTOMATIC_ATTEMPTS` failures a batch
waits for a person: the tick names it, and re-executing its last run loads it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from sources.jimi_push import settings
from sources.jimi_push.batches import batch_files, claim_new_batches, claimed_batches, tidy_landing

from . import config
from .push_assets import BATCH_TAG, OP_NAME, PushBatchConfig, push_load_job

FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


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

    requests, stuck = plan_push_runs(config.landing_dir(), runs_of_batch)
    for batch in stuck:
        context.log.warning(f"push batch {batch} failed {settings.MAX_AUTOMATIC_ATTEMPTS} times; re-execute its run")
    if not requests:
        return SensorResult(skip_reason="no push files waiting")
    return SensorResult(run_requests=requests)
