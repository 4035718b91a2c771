"""Dagster definitions of Jimi polling: an asset per registry resource, the polling jobs and their schedules.

Asset keys are `jimi/<resource>` (the same keys the dbt sources resolve to, so the UI shows one graph from API
to mart). Resources with a cursor keep history: they are daily-partitioned and backfillable
(`partitions.py`). How a history run reads is chosen by its `jimi/mode` tag: the schedules send
`incremental` (continue from the stored cursors) or `catch_up` (re-read the trailing days); anything else — a
backfill, a partition launched by hand — reads exactly its partitions' time window. The bodies call the load
engine (`engine/polling.py`).

Every polling job carries a `jimi.pipeline/<resource>` tag per resource it loads, and the run queue admits
one run per tag at a time (`runs.run_queue_limits`): two runs of one dlt pipeline (the 02:30 catch-up and the
regular alarm poll, say) queue instead of overlapping, and the UI shows the second as queued. The engine's
pipeline lock backs this up for runs started any other way.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    MaterializeResult,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
    multi_asset,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration.engine.pipelines import LoadSummary
from orchestration.engine.polling import load_jimi
from orchestration.settings import Settings
from sources.jimi import ENDPOINTS, HISTORY, Endpoint
from sources.jimi.registry import CADENCES, CATCH_UP, cadence_resources
from sources.jimi.settings import CATCH_UP_DAYS

from .partitions import backfill_policy, history_partitions
from .runs import FIRST_HISTORY_JOB, MODE_TAG, cron_schedule, pipeline_tags

CATCH_UP_JOB = "poll_history"


def asset_key(resource: str) -> AssetKey:
    return AssetKey(["jimi", resource])


def _spec(endpoint: Endpoint) -> AssetSpec:
    return AssetSpec(
        asset_key(endpoint.name),
        description=endpoint.description,
        group_name="polling",
        kinds={"dlt", "duckdb"},
        metadata={
            "api_method": endpoint.method,
            "natural_key": ", ".join(endpoint.key),
            "cursor": endpoint.cursor or "none",
            "write_disposition": endpoint.disposition,
        },
        skippable=True,
    )


def _selected(context: AssetExecutionContext) -> list[str]:
    return sorted(key.path[-1] for key in context.selected_asset_keys)


def _results(context: AssetExecutionContext, summary: LoadSummary) -> Iterator[MaterializeResult]:
    for key in sorted(context.selected_asset_keys, key=lambda key: key.to_user_string()):
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "rows_loaded": summary.rows_by_table.get(key.path[-1], 0),
                "api_calls": summary.api_calls,
                "retries": summary.retries,
                "window": summary.window,
                "load_ids": summary.load_ids,
            },
        )


def run_history(
    resources: list[str],
    mode: str | None,
    window: tuple[datetime, datetime] | None,
    run_id: str | None = None,
) -> LoadSummary:
    """Load history resources the way a run's mode asks (see the module docstring)."""
    if mode == "incremental":
        return load_jimi(resources, run_id=run_id)
    if mode == "catch_up":
        return load_jimi(resources, catch_up_days=CATCH_UP_DAYS, run_id=run_id)
    if window is None:
        raise ValueError("a history run needs a partition (or the jimi/mode tag of a schedule)")
    start, end = window
    return load_jimi(
        resources, start=start, end=min(end, datetime.now(UTC).replace(microsecond=0)), run_id=run_id
    )


def polling_assets(settings: Settings) -> list[AssetsDefinition]:
    """Two multi-assets: what the account looks like now, and the history behind cursors (partitioned)."""

    @multi_asset(name="jimi_snapshots", specs=[_spec(e) for e in ENDPOINTS if not e.history], can_subset=True)
    def jimi_snapshots(context: AssetExecutionContext):
        """The device list, the fleet sweep, fences, TAGs and commands: what the account looks like now."""
        yield from _results(context, load_jimi(_selected(context), run_id=context.run.run_id))

    @multi_asset(
        name="jimi_history",
        specs=[_spec(e) for e in ENDPOINTS if e.history],
        can_subset=True,
        partitions_def=history_partitions(settings),
        backfill_policy=backfill_policy(settings),
    )
    def jimi_history(context: AssetExecutionContext):
        """Tracks, trips, stops, alarms, OBD and media, incremental on a schedule or by partition window."""
        window = None
        if context.has_partition_key or context.has_partition_key_range:
            time_window = context.partition_time_window
            window = (time_window.start, time_window.end)
        summary = run_history(_selected(context), context.run.tags.get(MODE_TAG), window, context.run.run_id)
        yield from _results(context, summary)

    return [jimi_snapshots, jimi_history]


def polling_jobs() -> dict[str, UnresolvedAssetJobDefinition]:
    """A job per cadence (`poll_<cadence>`), and `poll_history` over every resource with a cursor."""
    groups = {
        f"poll_{name}": (cadence_resources(name), cadence.description) for name, cadence in CADENCES.items()
    }
    groups[CATCH_UP_JOB] = (HISTORY, CATCH_UP.description)
    return {
        name: define_asset_job(
            name,
            selection=AssetSelection.assets(*[asset_key(resource) for resource in resources]),
            description=description,
            tags=pipeline_tags(resources),
        )
        for name, (resources, description) in groups.items()
    }


def first_history_job(transform: list[AssetsDefinition]) -> UnresolvedAssetJobDefinition:
    """The first history `make run` launches in the UI's instance: every polled resource, then `transform`.

    It carries every polling pipeline's tag, so the run queue holds it and the scheduled polls apart. Its steps
    run in the run's own process: a step in a process of its own first imports the definitions again (~20 s of
    CPU each), which delays the first history more than running the polling steps one after the other does.
    """
    return define_asset_job(
        FIRST_HISTORY_JOB,
        selection=AssetSelection.groups("polling") | AssetSelection.assets(*transform),
        executor_def=in_process_executor,
        tags=pipeline_tags([endpoint.name for endpoint in ENDPOINTS]),
        description="The first history `make run` loads at start-up: every polled resource from its cursor (devices "
        "without one start SOURCES__JIMI__INITIAL_DAYS back), then dbt build and the published marts.",
    )


def polling_schedules(
    settings: Settings, jobs: dict[str, UnresolvedAssetJobDefinition]
) -> list[ScheduleDefinition]:
    """Every polling job on its cadence (a cron per cadence, overridable); none when polling is off."""
    if not settings.polling:
        return []
    out = []
    for name, cadence in CADENCES.items():
        history = all(resource in HISTORY for resource in cadence_resources(name))
        out.append(
            cron_schedule(
                jobs[f"poll_{name}"],
                settings.cron(name, cadence.cron),
                name,
                "incremental" if history else None,
            )
        )
    out.append(
        cron_schedule(jobs[CATCH_UP_JOB], settings.cron("catch_up", CATCH_UP.cron), "catch_up", "catch_up")
    )
    return out
