"""Schedules that never pile up runs: a tick is skipped while its job still has a run queued or in progress."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import (
    DagsterRunStatus,
    DefaultScheduleStatus,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from sources.jimi import KEYS

# How a run of the history assets reads: `incremental` or `catch_up` (a schedule's), else its partitions' window.
MODE_TAG = "jimi/mode"

# One run at a time per dlt pipeline: a job tags its runs with the pipelines it uses, and the run queue admits
# one run per tag (dagster.yaml's `run_queue.tag_concurrency_limits`, from `run_queue_limits`).
PIPELINE_TAG = "jimi.pipeline/{}"
PUSH_PIPELINE = "push"
# The job `make run` launches once the UI is up (`first_history_job`).
FIRST_HISTORY_JOB = "first_history"
IN_PROGRESS = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


def pipeline_tags(pipelines: Sequence[str]) -> dict[str, str]:
    return {PIPELINE_TAG.format(name): "1" for name in pipelines}


def run_queue_limits() -> list[dict]:
    """The run queue's `tag_concurrency_limits`: one run at a time per Jimi polling resource and for push."""
    return [{"key": PIPELINE_TAG.format(name), "limit": 1} for name in (*KEYS, PUSH_PIPELINE)]


def job_is_busy(context: ScheduleEvaluationContext, job_name: str) -> bool:
    """True while `job_name` has a run queued or in progress: its schedule skips the tick instead of piling up."""
    records = context.instance.get_run_records(RunsFilter(job_name=job_name, statuses=IN_PROGRESS), limit=1)
    return bool(records)


def busy_reason(context: ScheduleEvaluationContext, job_name: str) -> str | None:
    """Why a tick of `job_name` must not start a run now, if it must not: its own run is still going, or the
    first history is (it polls every resource; the run queue would hold the tick's run until it ends, and the
    schedule's next tick reads from the cursors it leaves anyway)."""
    if job_is_busy(context, job_name):
        return f"{job_name} still has a run queued or in progress; skipping this tick"
    if job_is_busy(context, FIRST_HISTORY_JOB):
        return f"{FIRST_HISTORY_JOB} (the first history) is still loading; skipping this tick"
    return None


def cron_schedule(
    job: UnresolvedAssetJobDefinition, cron: str, name: str, mode: str | None
) -> ScheduleDefinition:
    @schedule(
        name=f"{name}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def tick(context: ScheduleEvaluationContext):
        reason = busy_reason(context, job.name)
        if reason:
            return SkipReason(reason)
        if mode is None:
            return RunRequest()
        today = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return RunRequest(partition_key=today, tags={MODE_TAG: mode})

    return tick
