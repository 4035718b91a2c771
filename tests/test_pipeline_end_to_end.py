"""Every asset materialised against the simulator: raw tables, marts, the published copy, the schedule."""

from __future__ import annotations

import duckdb
from dagster import AssetKey, DefaultScheduleStatus

from orchestration.definitions import defs


def test_definitions_have_exact_asset_keys_when_loaded():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {
        "jimi/devices",
        "jimi/track_points",
        "staging/stg_jimi__devices",
        "staging/stg_jimi__track_points",
        "marts/dim_devices",
        "marts/fct_device_days",
        "published_marts",
    }


def test_definitions_join_lineage_when_dbt_sources_resolve_to_dlt_assets():
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey(["staging", "stg_jimi__track_points"])).parent_keys == {AssetKey(["jimi", "track_points"])}
    assert graph.get(AssetKey(["staging", "stg_jimi__devices"])).parent_keys == {AssetKey(["jimi", "devices"])}
    assert graph.get(AssetKey("published_marts")).parent_keys == {
        AssetKey(["marts", "dim_devices"]),
        AssetKey(["marts", "fct_device_days"]),
    }


def test_schedule_runs_every_asset_when_started():
    schedule = defs.get_schedule_def("refresh_every_30_minutes")
    assert schedule.cron_schedule == "*/30 * * * *"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    job = defs.resolve_job_def("refresh_all")
    assert len(job.asset_layer.selected_asset_keys) == 7


def test_materialisation_fills_raw_tables_and_marts_when_run_end_to_end(demo_data):
    warehouse = duckdb.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    try:
        devices = warehouse.execute("select count(*) from jimi_raw.devices").fetchall()[0][0]
        points, point_devices = warehouse.execute(
            "select count(*), count(distinct imei) from jimi_raw.track_points"
        ).fetchall()[0]
        duplicates = warehouse.execute(
            "select count(*) from (select imei, gps_time from jimi_raw.track_points group by all having count(*) > 1)"
        ).fetchall()[0][0]
        mart = warehouse.execute(
            "select count(*), count(distinct imei), sum(distance_km) from marts.fct_device_days"
        ).fetchall()[0]
        dim = warehouse.execute("select count(*) from marts.dim_devices").fetchall()[0][0]
    finally:
        warehouse.close()
    assert devices == 6
    assert dim == 6
    assert points > 1000
    assert duplicates == 0
    assert 1 <= point_devices <= 6
    assert mart[0] >= point_devices and mart[1] == point_devices and mart[2] > 10


def test_published_marts_equal_warehouse_marts_when_published(demo_data):
    published = duckdb.connect(str(demo_data / "published" / "marts.duckdb"), read_only=True)
    try:
        tables = {row[0] for row in published.execute("select table_name from duckdb_tables()").fetchall()}
        published_rows = published.execute("select * from fct_device_days order by device_day_id").fetchall()
    finally:
        published.close()
    warehouse = duckdb.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    try:
        warehouse_rows = warehouse.execute("select * from marts.fct_device_days order by device_day_id").fetchall()
    finally:
        warehouse.close()
    assert tables == {"dim_devices", "fct_device_days"}
    assert published_rows == warehouse_rows
