"""The Dagster code location: the definitions of each integration, merged (nothing else here).

Built when Dagster loads the code location, not at import, from the settings of that moment
(`orchestration/settings.py`): partitions, cron overrides and whether polling runs at all.
"""

from __future__ import annotations

import dagster as dg

from .defs.dbt import dbt_definitions, dbt_resource
from .defs.health import health_checks
from .defs.polling import first_history_job, polling_assets, polling_jobs, polling_schedules
from .defs.push import jimi_push_assets, push_landing_sensor, push_load_job
from .settings import current


@dg.definitions
def defs() -> dg.Definitions:
    settings = current()
    jobs = polling_jobs()
    dbt_assets, dbt_jobs, dbt_schedules = dbt_definitions(settings)
    return dg.Definitions(
        assets=[*polling_assets(settings), *dbt_assets, jimi_push_assets],
        asset_checks=health_checks,
        jobs=[*jobs.values(), *dbt_jobs, first_history_job(dbt_assets), push_load_job],
        schedules=[*polling_schedules(settings, jobs), *dbt_schedules],
        sensors=[push_landing_sensor],
        resources={"dbt": dbt_resource()},
    )
