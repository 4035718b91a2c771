"""The Dagster code location: assets, jobs, schedules and resources, wired together (nothing else here)."""

from __future__ import annotations

from dagster import Definitions

from .assets import jimi_dbt_assets, jimi_history_assets, jimi_snapshot_assets, published_marts
from .dbt_project import dbt_resource
from .schedules import jobs, schedules

defs = Definitions(
    assets=[jimi_snapshot_assets, jimi_history_assets, jimi_dbt_assets, published_marts],
    jobs=jobs,
    schedules=schedules,
    resources={"dbt": dbt_resource()},
)
