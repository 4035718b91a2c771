"""The Dagster code location: assets, jobs, schedules and resources, wired together (nothing else here)."""

from __future__ import annotations

from dagster import Definitions

from .assets import jimi_dbt_assets, jimi_history_assets, jimi_snapshot_assets, published_marts
from .checks import health_checks
from .dbt_project import dbt_resource
from .push_assets import jimi_push_assets, push_load_job
from .schedules import jobs, schedules
from .sensors import push_landing_sensor

defs = Definitions(
    assets=[jimi_snapshot_assets, jimi_history_assets, jimi_dbt_assets, published_marts, jimi_push_assets],
    asset_checks=health_checks,
    jobs=[*jobs, push_load_job],
    schedules=schedules,
    sensors=[push_landing_sensor],
    resources={"dbt": dbt_resource()},
)
