"""Schedules: when the pipeline runs without anyone clicking."""

from __future__ import annotations

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

refresh_job = define_asset_job(
    "refresh_all",
    selection=AssetSelection.all(),
    description="Poll every Jimi resource from its cursor, rebuild the marts and publish them.",
)

refresh_schedule = ScheduleDefinition(
    name="refresh_every_30_minutes",
    job=refresh_job,
    cron_schedule="*/30 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
)
