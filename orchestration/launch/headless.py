"""Materialising every asset once, in-process, without the Dagster UI: `make demo` and the end-to-end tests
go through here, so they run exactly what the schedule runs. (`make run` launches the same assets as the
`first_history` job of its own Dagster instance, so the user sees that run.)"""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import DagsterInstance, materialize

from ..defs.dbt import dbt_definitions, dbt_resource
from ..defs.polling import polling_assets
from ..defs.runs import MODE_TAG
from ..settings import current

# Dagster's console logger speaks at DEBUG by default; a headless run only needs warnings.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def materialize_all(quiet: bool = True) -> bool:
    """Every polled resource from its cursor (as the schedules do), then dbt and the published marts."""
    # An instance of our own, entered, so this run never inherits the definitions-state storage of an
    # instance someone else created and disposed earlier in the process (Dagster keeps it in a ContextVar).
    settings = current()
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [*polling_assets(settings), *dbt_definitions(settings)[0]],
            resources={"dbt": dbt_resource()},
            instance=instance,
            partition_key=datetime.now(UTC).strftime("%Y-%m-%d"),
            tags={MODE_TAG: "incremental"},
            run_config=QUIET if quiet else None,
            raise_on_error=False,
        )
    return result.success
