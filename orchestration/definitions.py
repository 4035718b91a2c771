"""The Dagster code location: assets, jobs, schedules and resources, wired together (nothing else here)."""

from __future__ import annotations

from dagster import Definitions

from .assets import jimi_dbt_assets, jimi_polling_assets, published_marts
from .dbt_project import dbt_resource
from .schedules import refresh_job, refresh_schedule

defs = Definitions(
    assets=[jimi_polling_assets, jimi_dbt_assets, published_marts],
    jobs=[refresh_job],
    schedules=[refresh_schedule],
    resources={"dbt": dbt_resource()},
)
