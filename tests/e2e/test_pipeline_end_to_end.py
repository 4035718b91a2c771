"""Every asset materialised against the simulator: raw tables, marts and the published copy."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from sources import duckdb_setup

STAGING = Path(__file__).resolve().parents[2] / "transform" / "models" / "staging"


def test_materialisation_fills_raw_tables_and_marts_when_run_end_to_end(demo_data):
    warehouse = duckdb_setup.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
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
        accounts = warehouse.execute(
            "select source_account, count(*) from marts.dim_devices group by all"
        ).fetchall()
        recorded = warehouse.execute("select base_url from jimi_raw.jimi_accounts").fetchall()
    finally:
        warehouse.close()
    assert devices == 6
    assert dim == 6
    # Every device names the account it was read from: the simulator's user at the URL the demo polled.
    [(base_url,)] = recorded
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/route/rest", base_url)
    assert accounts == [(f"sim_fleet@{base_url}", 6)]
    assert points > 1000
    assert duplicates == 0
    assert 1 <= point_devices <= 6
    assert mart[0] >= point_devices and mart[1] == point_devices and mart[2] > 10


def test_published_marts_equal_warehouse_marts_when_published(demo_data):
    published = duckdb_setup.connect(str(demo_data / "published" / "marts.duckdb"), read_only=True)
    try:
        tables = set(published.execute("select schema_name, table_name from duckdb_tables()").fetchall())
        published_rows = published.execute("select * from fct_device_days order by device_day_id").fetchall()
        published_usage = published.execute(
            "select * from health.fct_api_usage order by api_usage_id"
        ).fetchall()
    finally:
        published.close()
    warehouse = duckdb_setup.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    try:
        warehouse_rows = warehouse.execute(
            "select * from marts.fct_device_days order by device_day_id"
        ).fetchall()
        warehouse_usage = warehouse.execute(
            "select * from health.fct_api_usage order by api_usage_id"
        ).fetchall()
        health_in_marts = warehouse.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name like 'fct_%_usage'"
        ).fetchone()[0]
    finally:
        warehouse.close()
    # The marts in the published file's default schema, the ingestion-health models in their own.
    assert tables == {
        ("main", name)
        for name in (
            "dim_devices",
            "fct_device_days",
            "fct_trips",
            "fct_rejected_report_trips",
            "fct_stops",
            "device_latest_status",
            "fct_device_freshness",
            "fct_alarms",
            "fct_obd_readings",
            "fct_fault_codes",
            "dim_geofences",
            "fct_geofence_visits",
            "fct_alarm_media",
        )
    } | {("health", name) for name in ("fct_ingest_windows", "fct_api_usage", "fct_push_batches")}
    assert published_rows == warehouse_rows
    assert published_usage == warehouse_usage and len(warehouse_usage) > 5
    assert health_in_marts == 0


# Declared narrower than the push loader writes them (p_int gives BIGINT): staging casts them to INTEGER, as
# the marts built from them always had.
NARROWED = {
    ("jimi_push_raw", "alarms", "msg_class"),
    ("jimi_push_raw", "alarms", "alarm_level"),
    ("jimi_push_raw", "obd_readings", "car_type"),
}


def test_raw_tables_have_every_column_staging_declares_with_its_type_when_loaded(demo_data):
    """The sources' YAML declares the columns staging reads and their types (source_or_empty casts to them and
    reads a missing column as null): every declared column of a loaded raw table is there, with that type."""
    warehouse = duckdb_setup.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    try:
        compared, differing, missing = 0, set(), set()
        for path in STAGING.rglob("_sources.yml"):
            [source] = yaml.safe_load(path.read_text())["sources"]
            schema = re.search(r"'(\w+)'\)", source["schema"]).group(1)
            for table in source["tables"]:
                loaded = dict(
                    warehouse.execute(
                        "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ?",
                        [schema, table["name"]],
                    ).fetchall()
                )
                for column in table.get("columns", []) if loaded else []:
                    declared = warehouse.execute(
                        f"select typeof(cast(null as {column['data_type']}))"
                    ).fetchone()[0]
                    compared += 1
                    if column["name"] not in loaded:
                        missing.add((schema, table["name"], column["name"]))
                    elif loaded[column["name"]] != declared:
                        differing.add((schema, table["name"], column["name"]))
    finally:
        warehouse.close()
    assert compared >= 280
    assert missing == set()
    assert differing == NARROWED
