"""Every asset materialised against the simulator: raw tables, marts and the published copy."""

from __future__ import annotations

from sources import duckdb_setup


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
    finally:
        warehouse.close()
    assert devices == 6
    assert dim == 6
    assert points > 1000
    assert duplicates == 0
    assert 1 <= point_devices <= 6
    assert mart[0] >= point_devices and mart[1] == point_devices and mart[2] > 10


def test_published_marts_equal_warehouse_marts_when_published(demo_data):
    published = duckdb_setup.connect(str(demo_data / "published" / "marts.duckdb"), read_only=True)
    try:
        tables = {row[0] for row in published.execute("select table_name from duckdb_tables()").fetchall()}
        published_rows = published.execute("select * from fct_device_days order by device_day_id").fetchall()
    finally:
        published.close()
    warehouse = duckdb_setup.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    try:
        warehouse_rows = warehouse.execute("select * from marts.fct_device_days order by device_day_id").fetchall()
    finally:
        warehouse.close()
    assert tables == {
        "dim_devices", "fct_device_days", "fct_trips", "fct_stops", "device_latest_status", "fct_device_freshness",
        "fct_alarms", "fct_obd_readings", "fct_fault_codes", "dim_geofences", "fct_geofence_visits", "fct_alarm_media",
        "fct_ingest_windows", "fct_api_usage", "fct_push_batches",
    }  # fmt: skip
    assert published_rows == warehouse_rows
