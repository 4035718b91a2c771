"""Jobs and schedules: when each part of the pipeline runs without anyone clicking.

Defaults follow how the earlier production system ran; every cron can be overridden with an environment
variable `JIMI_SCHEDULE_<NAME>` (for example `JIMI_SCHEDULE_SWEEP="*/2 * * * *"`). A tick whose job still
has a run queued or in progress is skipped, with the reason shown on the tick in the UI, so runs of one job
never overlap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    in_process_executor,
    schedule,
)

from .assets import MODE_TAG, jimi_dbt_assets

IN_PROGRESS = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


@dataclass(frozen=True)
class Cadence:
    name: str
    resources: tuple[str, ...]
    cron: str
    description: str
    mode: str | None = None  # set for history resources: how the run reads (see assets.py)
    job_name: str | None = None

    @property
    def job(self) -> str:
        return self.job_name or f"poll_{self.name}"


CADENCES = (
    Cadence("sweep", ("live_locations",), "* * * * *", "The fleet sweep, every minute."),
    Cadence("track_points", ("track_points",), "*/30 * * * *", "GPS trails, every 30 minutes (35-minute lookback).", "incremental"),
    Cadence("trips_and_parking", ("trips", "parking"), "*/15 * * * *", "Mileage and parking reports, every 15 minutes.", "incremental"),
    Cadence("alarms", ("alarms",), "*/5 * * * *", "Alarms, every 5 minutes.", "incremental"),
    Cadence("obd", ("obd_readings", "obd_faults"), "0 * * * *", "OBD readings and fault codes, hourly.", "incremental"),
    Cadence("devices", ("devices", "device_groups"), "0 3 * * *", "The device list and groups, daily."),
    Cadence("media", ("media_files", "event_media"), "*/15 * * * *", "Dashcam media and alarm clips, every 15 minutes.", "incremental"),
    Cadence("geofences", ("platform_geofences", "geofence_devices"), "5 * * * *", "Platform geofences and their devices, hourly."),
    Cadence("tags", ("tag_locations",), "*/5 * * * *", "TAG/beacon locations, every 5 minutes."),
    Cadence("commands", ("command_results",), "20 * * * *", "Command history and outcomes, hourly."),
    Cadence("command_templates", ("command_templates",), "15 3 * * *", "Command templates per device, daily."),
    Cadence(
        "catch_up",
        ("track_points", "trips", "parking", "alarms", "obd_readings", "obd_faults", "media_files", "event_media"),
        "30 2 * * *",
        "Every history resource: the nightly catch-up (the trailing 7 days again, for data that reaches the "
        "API late), and the job to backfill by partition.",
        "catch_up",
        "poll_history",
    ),
)


def cron_for(name: str, default: str) -> str:
    return os.environ.get(f"JIMI_SCHEDULE_{name.upper()}", default)


def _job(cadence: Cadence):
    return define_asset_job(
        cadence.job,
        selection=AssetSelection.assets(*[AssetKey(["jimi", resource]) for resource in cadence.resources]),
        description=cadence.description,
    )


transform_job = define_asset_job(
    "transform",
    selection=AssetSelection.assets(jimi_dbt_assets) | AssetSelection.assets("published_marts"),
    description="dbt build (models and tests) and the published copy of the marts.",
)


# `make run` launches this once when the UI is up: the first history, a run the user can watch. Its steps
# run in the run's own process: a step in a process of its own first imports the definitions again (~20 s
# of CPU each, for four assets and two checks), which would delay the first history more than running
# the polling steps one after the other does.
first_history_job = define_asset_job(
    "first_history",
    selection=AssetSelection.groups("polling") | AssetSelection.assets(jimi_dbt_assets) | AssetSelection.assets("published_marts"),
    executor_def=in_process_executor,
    description="The first history `make run` loads at start-up: every polled resource from its cursor (devices "
    "without one start SOURCES__JIMI__INITIAL_DAYS back), then dbt build and the published marts.",
)


def job_is_busy(context: ScheduleEvaluationContext, job_name: str) -> bool:
    records = context.instance.get_run_records(RunsFilter(job_name=job_name, statuses=IN_PROGRESS), limit=1)
    return bool(records)


def busy_reason(context: ScheduleEvaluationContext, job_name: str) -> str | None:
    """Why a tick of `job_name` must not start a run now, if it must not: its own run is still going, or the
    first history is (it polls every resource, and one dlt pipeline never runs twice at once)."""
    if job_is_busy(context, job_name):
        return f"{job_name} still has a run queued or in progress; skipping this tick"
    if job_is_busy(context, first_history_job.name):
        return f"{first_history_job.name} (the first history) is still loading; skipping this tick"
    return None


def _schedule(job, cron: str, name: str, mode: str | None):
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


polling_jobs = [_job(cadence) for cadence in CADENCES]
schedules = [
    _schedule(job, cron_for(cadence.name, cadence.cron), cadence.name, cadence.mode)
    for job, cadence in zip(polling_jobs, CADENCES, strict=True)
] + [_schedule(transform_job, cron_for("transform", "*/15 * * * *"), "transform", None)]
jobs = [*polling_jobs, transform_job, first_history_job]
