"""Materialising every asset once, in-process, without the Dagster UI: `make demo`, `make run`'s first
history, and the end-to-end tests all go through here, so they run exactly what the schedule runs."""

from __future__ import annotations

from dagster import materialize

from .assets import jimi_dbt_assets, jimi_polling_assets, published_marts
from .dbt_project import dbt_resource

# Dagster's console logger speaks at DEBUG by default; a headless run only needs warnings.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def materialize_all(quiet: bool = True) -> bool:
    result = materialize(
        [jimi_polling_assets, jimi_dbt_assets, published_marts],
        resources={"dbt": dbt_resource()},
        run_config=QUIET if quiet else None,
        raise_on_error=False,
    )
    return result.success
