"""Dagster assets: the Jimi API resources (dlt), the dbt models, and the marts published for readers.

Asset keys: `jimi/<resource>` for raw tables (the same keys the dbt sources resolve to, so the UI shows one
graph from API to mart), `<schema>/<model>` for dbt models, and `published_marts` for the readers' copy.
Each body calls a plain function that tests call directly.

History-bearing resources are daily-partitioned. How a run reads is chosen by its `jimi/mode` tag: the
schedules send `incremental` (continue from the stored cursors) or `catch_up` (re-read the trailing days);
anything else — a backfill, a partition launched by hand — reads exactly its partitions' time window.
"""

from datetime import UTC, datetime

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from sources.jimi import jimi_source
from sources.jimi.settings import CATCH_UP_DAYS

from .dbt_project import dbt_project, ensure_dbt_env, ensure_manifest
from .loading import LoadSummary, jimi_pipeline, load_jimi
from .partitions import backfill_policy, history_partitions
from .warehouse import publish_marts, writer_lock

MODE_TAG = "jimi/mode"
SNAPSHOT_RESOURCES = ("devices", "device_groups", "live_locations") + (
    "platform_geofences", "geofence_devices", "tag_locations", "command_results", "command_templates",
)  # fmt: skip
HISTORY_RESOURCES = ("track_points", "trips", "parking", "alarms", "obd_readings", "obd_faults") + (
    "media_files", "event_media",
)  # fmt: skip
RESOURCE_DESCRIPTIONS = {
    "devices": "The account's devices (`user.device.list` + `track.device.detail`), merged on IMEI.",
    "device_groups": "Device groups (`device.group.list`), merged on group id.",
    "live_locations": "Every fleet sweep's fixes (`user.device.location.list`), kept once per device and fix time.",
    "track_points": "GPS fixes (`device.track.list`), incremental per device, one row per device and fix time.",
    "trips": "Trips of the mileage report (`device.track.mileage`), one row per device and start time.",
    "parking": "Parking and idling stops (`open.platform.report.parking`), one row per device and start time.",
    "alarms": "Alarms (`device.alarm.list`), one row per device, time and type; capped windows are split.",
    "obd_readings": "OBD readings (`device.obd.list`), one row per device and report time.",
    "obd_faults": "OBD fault codes (`device.obd.fault`), one row per device, time and code.",
    "media_files": "Dashcam photos and videos (`device.jimi.media.URL`), one row per file; URLs as given.",
    "event_media": "Files attached to alarm events (`device.media.event.URL`), one row per event file.",
    "platform_geofences": "Platform geofences (`open.platform.fence.list`), replaced on every load.",
    "geofence_devices": "Devices bound to each platform geofence (the fences' `imeis`), replaced on every load.",
    "tag_locations": "Newest fixes of TAG/beacon devices (`device.location.getTagMsg`), kept once per fix.",
    "command_results": "Commands sent to devices and their outcome (`open.instruction.result`).",
    "command_templates": "Command templates each device supports (`open.instruction.list`), replaced.",
}


class JimiDltTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData):
        name = data.resource.name
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(key=AssetKey(["jimi", name]), deps=[], description=RESOURCE_DESCRIPTIONS[name])
        )


class JimiDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props):
        return "transform"


def _results(context: AssetExecutionContext, summary: LoadSummary):
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


def _selected(context: AssetExecutionContext) -> list[str]:
    return sorted(key.path[-1] for key in context.selected_asset_keys)


def run_history(resources: list[str], mode: str | None, window: tuple[datetime, datetime] | None) -> LoadSummary:
    """Load history resources the way a run's mode asks (see the module docstring)."""
    if mode == "incremental":
        return load_jimi(resources)
    if mode == "catch_up":
        return load_jimi(resources, catch_up_days=CATCH_UP_DAYS)
    if window is None:
        raise ValueError("a history run needs a partition (or the jimi/mode tag of a schedule)")
    start, end = window
    return load_jimi(resources, start=start, end=min(end, datetime.now(UTC).replace(microsecond=0)))


@dlt_assets(
    dlt_source=jimi_source().with_resources(*SNAPSHOT_RESOURCES),
    dlt_pipeline=jimi_pipeline(),
    name="jimi_snapshots",
    group_name="polling",
    dagster_dlt_translator=JimiDltTranslator(),
)
def jimi_snapshot_assets(context: AssetExecutionContext):
    """The device list and the fleet sweep: what the account looks like now."""
    yield from _results(context, load_jimi(_selected(context)))


@dlt_assets(
    dlt_source=jimi_source().with_resources(*HISTORY_RESOURCES),
    dlt_pipeline=jimi_pipeline(),
    name="jimi_history",
    group_name="polling",
    dagster_dlt_translator=JimiDltTranslator(),
    partitions_def=history_partitions,
    backfill_policy=backfill_policy,
)
def jimi_history_assets(context: AssetExecutionContext):
    """Tracks, trips, stops, alarms and OBD, incremental on a schedule or by partition window."""
    window = None
    if context.has_partition_key or context.has_partition_key_range:
        time_window = context.partition_time_window
        window = (time_window.start, time_window.end)
    summary = run_history(_selected(context), context.run.tags.get(MODE_TAG), window)
    yield from _results(context, summary)


@dbt_assets(manifest=ensure_manifest(), project=dbt_project, dagster_dbt_translator=JimiDbtTranslator())
def jimi_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` (models, tests, unit tests) while holding the warehouse."""
    ensure_dbt_env()
    with writer_lock():
        yield from dbt.cli(["build"], context=context).stream()


@asset(
    key="published_marts",
    # Every mart dbt builds; the publisher copies the whole mart schema.
    deps=[key for key in jimi_dbt_assets.keys if key.path[0] == "marts"],
    group_name="transform",
    kinds={"duckdb"},
    description="A read-only copy of the marts for notebooks and other readers, swapped in atomically.",
)
def published_marts() -> MaterializeResult:
    with writer_lock():
        counts = publish_marts()
    return MaterializeResult(metadata={f"rows_{table}": rows for table, rows in counts.items()})
