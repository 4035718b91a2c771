"""Dagster definitions: the asset graph, every schedule's tick, and the skip when a job is still running."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dagster import (
    AssetKey,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    build_schedule_context,
    instance_for_test,
)

from orchestration.definitions import defs as load_definitions
from orchestration.defs.runs import MODE_TAG
from orchestration.settings import current
from sources import duckdb_setup

defs = load_definitions()

TICK = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLLING_KEYS = {
    f"jimi/{name}"
    for name in (
        [
            "devices",
            "device_groups",
            "live_locations",
            "track_points",
            "trips",
            "parking",
            "alarms",
            "obd_readings",
            "obd_faults",
        ]
        + ["media_files", "event_media", "platform_geofences", "geofence_devices", "tag_locations"]
        + ["command_results", "command_templates"]
    )
}
DBT_KEYS = {
    *(
        f"staging/stg_jimi__{name}"
        for name in (
            "devices",
            "device_groups",
            "track_points",
            "live_locations",
            "trips",
            "parking",
            "alarms",
        )
        + (
            "obd_readings",
            "obd_faults",
            "media_files",
            "event_media",
            "platform_geofences",
            "geofence_devices",
        )
        + ("tag_locations", "command_results", "command_templates")
    ),
    *(
        f"staging/stg_jimi_push__{name}"
        for name in ("gps_fixes", "trip_reports", "heartbeats", "alarms", "obd_readings", "fault_codes")
    ),
    *(
        f"marts/{name}"
        for name in ("dim_devices", "fct_device_days", "fct_trips", "fct_rejected_report_trips", "fct_stops")
        + (
            "device_latest_status",
            "fct_device_freshness",
            "fct_alarms",
            "fct_obd_readings",
            "fct_fault_codes",
        )
        + ("dim_geofences", "fct_geofence_visits", "fct_alarm_media")
    ),
}
# Ingestion health (issue 10).
DBT_KEYS |= {
    "staging/stg_jimi_ingest__api_windows",
    "staging/stg_jimi_ingest__api_runs",
    "staging/stg_jimi_ingest__push_batches",
    "health/fct_ingest_windows",
    "health/fct_api_usage",
    "health/fct_push_batches",
}
# Seeds and snapshots are dbt assets too, so `dbt build` under the dbt asset loads and snapshots them.
DBT_SEED_AND_SNAPSHOT_KEYS = {
    "seeds/alarm_types",
    "seeds/dtc_codes",
    "seeds/api_method_limits",
    "snapshots/snap_jimi__devices",
}


def test_definitions_have_exact_polling_and_transform_asset_keys_when_loaded():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert POLLING_KEYS | DBT_KEYS | DBT_SEED_AND_SNAPSHOT_KEYS | {"published_marts"} <= keys
    assert {
        key for key in keys if key.startswith(("jimi/", "staging/stg_jimi", "marts/", "health/"))
    } == POLLING_KEYS | DBT_KEYS


def test_published_marts_follow_every_mart_and_health_model_when_loaded():
    parents = {
        key.to_user_string()
        for key in defs.resolve_asset_graph().get(AssetKey("published_marts")).parent_keys
    }
    assert parents == {key for key in DBT_KEYS if key.startswith(("marts/", "health/"))}


def test_definitions_join_lineage_when_dbt_sources_resolve_to_dlt_assets():
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey(["staging", "stg_jimi__track_points"])).parent_keys == {
        AssetKey(["jimi", "track_points"])
    }
    assert graph.get(AssetKey(["staging", "stg_jimi__devices"])).parent_keys == {
        AssetKey(["jimi", "devices"])
    }
    assert graph.get(AssetKey(["jimi", "track_points"])).partitions_def is not None
    assert graph.get(AssetKey(["jimi", "live_locations"])).partitions_def is None
    # A raw table read through source_or_empty (absent until a device reports a DTC) still joins the graph.
    assert graph.get(AssetKey(["staging", "stg_jimi__obd_faults"])).parent_keys == {
        AssetKey(["jimi", "obd_faults"])
    }
    assert graph.get(AssetKey(["snapshots", "snap_jimi__devices"])).parent_keys == {
        AssetKey(["staging", "stg_jimi__devices"])
    }
    assert AssetKey(["seeds", "alarm_types"]) in graph.get(AssetKey(["marts", "fct_alarms"])).parent_keys


EXPECTED_TICKS = {
    "sweep_schedule": ("* * * * *", None, None),
    "track_points_schedule": ("*/30 * * * *", "2026-11-20", "incremental"),
    "trips_and_parking_schedule": ("*/15 * * * *", "2026-11-20", "incremental"),
    "alarms_schedule": ("*/5 * * * *", "2026-11-20", "incremental"),
    "obd_schedule": ("0 * * * *", "2026-11-20", "incremental"),
    "devices_schedule": ("0 3 * * *", None, None),
    "catch_up_schedule": ("30 2 * * *", "2026-11-20", "catch_up"),
    "media_schedule": ("*/15 * * * *", "2026-11-20", "incremental"),
    "geofences_schedule": ("5 * * * *", None, None),
    "tags_schedule": ("*/5 * * * *", None, None),
    "commands_schedule": ("20 * * * *", None, None),
    "command_templates_schedule": ("15 3 * * *", None, None),
    "transform_schedule": ("*/15 * * * *", None, None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_TICKS))
def test_schedule_requests_expected_run_when_ticking(name):
    cron, partition, mode = EXPECTED_TICKS[name]
    schedule = defs.get_schedule_def(name)
    assert schedule.cron_schedule == cron
    with instance_for_test() as instance:
        context = build_schedule_context(
            instance=instance, scheduled_execution_time=TICK, repository_def=defs.get_repository_def()
        )
        result = schedule.evaluate_tick(context)
    assert len(result.run_requests) == 1
    request: RunRequest = result.run_requests[0]
    assert request.partition_key == partition
    assert request.tags.get(MODE_TAG) == mode


def test_schedule_skips_visibly_when_its_job_is_still_running():
    schedule = defs.get_schedule_def("track_points_schedule")
    with instance_for_test() as instance:
        instance.add_run(
            DagsterRun(job_name="poll_track_points", run_id="run-1", status=DagsterRunStatus.STARTED)
        )
        result = schedule.evaluate_tick(
            build_schedule_context(
                instance=instance, scheduled_execution_time=TICK, repository_def=defs.get_repository_def()
            )
        )
    assert result.run_requests == [] or result.run_requests is None
    assert (
        result.skip_message == "poll_track_points still has a run queued or in progress; skipping this tick"
    )


def test_schedules_cover_every_polled_resource_when_listed():
    polled = set()
    for job_name in [job.name for job in defs.jobs if job.name.startswith("poll_")]:
        polled |= {
            key.to_user_string() for key in defs.resolve_job_def(job_name).asset_layer.selected_asset_keys
        }
    assert polled == POLLING_KEYS


def test_partition_run_loads_exactly_its_day_when_backfilled(data_dir, monkeypatch):
    from datetime import timedelta

    from dagster import materialize

    from orchestration.defs.polling import polling_assets
    from sources.jimi_sim.account import source_env
    from sources.jimi_sim.api.app import create_app
    from sources.jimi_sim.api.server import running_simulator
    from sources.jimi_sim.settings import EXACT, SimSettings

    settings = SimSettings(devices=3, **EXACT)
    app = create_app(settings)
    day = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    with running_simulator(settings, app=app) as url, instance_for_test() as instance:
        for name, value in source_env(url).items():
            monkeypatch.setenv(name, value)
        result = materialize(
            polling_assets(current())[1:],
            partition_key=day.strftime("%Y-%m-%d"),
            selection=[AssetKey(["jimi", "track_points"])],
            tags={"dagster/backfill": "test"},
            instance=instance,
        )
        assert result.success
        fleet = app.state.sim.fleet
        # track.list windows include their end, so the fix at the next midnight (if any) belongs to both days.
        expected = {
            (device.imei, point.gps_time)
            for device in fleet.devices
            for point in fleet.points(device.imei, day, day + timedelta(days=1, seconds=1))
        }
    materialization = result.asset_materializations_for_node("jimi_history")[0]
    assert (
        materialization.metadata["window"].value
        == f"{day.isoformat()} to {(day + timedelta(days=1)).isoformat()}"
    )
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rows = warehouse.execute("select imei, gps_time from jimi_raw.track_points").fetchall()
    finally:
        warehouse.close()
    assert {(imei, moment.astimezone(UTC)) for imei, moment in rows} == expected
    assert len(rows) == len(expected) > 100


def test_ensure_manifest_reparses_when_a_model_is_newer_than_the_manifest():
    import os

    from orchestration.defs.dbt import dbt_project, ensure_manifest, manifest_is_stale

    ensure_manifest(current())
    assert not manifest_is_stale()
    manifest = dbt_project.manifest_path
    older = min(path.stat().st_mtime for path in (manifest.parents[1] / "models").rglob("*.sql")) - 60
    os.utime(manifest, (older, older))  # as if a pull had brought newer models
    assert manifest_is_stale()
    ensure_manifest(current())
    assert not manifest_is_stale()
    assert manifest.stat().st_mtime > older + 60
