"""Incremental marts equal a full refresh: build, load more data (a new half day, and fixes landing late in
an earlier day), run incrementally, then compare every mart table with a --full-refresh build."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from marts_support import mart_differences, mart_tables, run_dbt

from sources import duckdb_setup

# What "arrives later": everything from 12 hours before the newest fix, and a two-hour block of fixes of
# half the devices on the first full day (late uploads, days after the fact).
HELD_BACK = {
    "jimi_raw.track_points": "gps_time",
    "jimi_push_raw.gps_fixes": "gps_time",
    "jimi_raw.live_locations": "gps_time",
    "jimi_raw.trips": "start_time",
    "jimi_raw.parking": "start_time",
    "jimi_push_raw.trip_reports": "begin_time",
    "jimi_push_raw.heartbeats": "gate_time",
}
LATE_BLOCK = {"jimi_raw.track_points", "jimi_push_raw.gps_fixes"}


def _hold_back(warehouse: Path) -> dict[str, int]:
    connection = duckdb_setup.connect(str(warehouse))
    held: dict[str, int] = {}
    try:
        newest, first_day, late_devices = connection.execute(
            """
            select max(gps_time), min(date_trunc('day', gps_time at time zone 'UTC')) + interval 1 day,
                   (select list(imei) from (select distinct imei from jimi_raw.track_points order by imei)
                    using sample 50 percent (reservoir, 7))
            from jimi_raw.track_points
            """
        ).fetchone()
        cut = f"timestamptz '{newest.isoformat()}' - interval 12 hour"
        late_from = f"(timestamp '{first_day}' at time zone 'UTC') + interval 9 hour"
        imeis = ", ".join(f"'{imei}'" for imei in late_devices)
        for table, column in HELD_BACK.items():
            condition = f"{column} >= {cut}"
            if table in LATE_BLOCK:
                condition += (
                    f" or ({column} >= {late_from} and {column} < {late_from} + interval 2 hour and imei in ({imeis}))"
                )
            name = table.replace(".", "__")
            connection.execute(f"create table main.{name} as select * from {table} where {condition}")
            connection.execute(f"delete from {table} where {condition}")
            held[table] = connection.execute(f"select count(*) from main.{name}").fetchone()[0]
    finally:
        connection.close()
    return held


def _deliver(warehouse: Path) -> None:
    connection = duckdb_setup.connect(str(warehouse))
    try:
        for table in HELD_BACK:
            name = table.replace(".", "__")
            connection.execute(f"insert into {table} select * from main.{name}")
            connection.execute(f"drop table main.{name}")
    finally:
        connection.close()


def test_incremental_run_equals_full_refresh_when_late_and_new_data_arrive(demo_data: Path, tmp_path: Path):
    incremental = tmp_path / "incremental.duckdb"
    shutil.copy(demo_data / "warehouse.duckdb", incremental)
    held = _hold_back(incremental)
    assert held["jimi_raw.track_points"] > 500 and held["jimi_push_raw.gps_fixes"] > 500
    run_dbt(incremental, "run", "--full-refresh")
    before = duckdb_setup.connect(str(incremental), read_only=True)
    try:
        positions_before = before.execute("select count(*) from intermediate.int_positions").fetchone()[0]
        trips_before = before.execute("select count(*) from marts.fct_trips").fetchone()[0]
    finally:
        before.close()

    _deliver(incremental)
    run_dbt(incremental, "run")
    full = tmp_path / "full.duckdb"
    shutil.copy(incremental, full)
    run_dbt(full, "run", "--full-refresh")

    after = duckdb_setup.connect(str(incremental), read_only=True)
    try:
        positions, rederived, batches = after.execute(
            "select count(*), count(*) filter (where batch_at = (select max(batch_at) from intermediate.int_positions)), "
            "count(distinct batch_at) from intermediate.int_positions"
        ).fetchone()
        trips_after = after.execute("select count(*) from marts.fct_trips").fetchone()[0]
    finally:
        after.close()
    # The incremental run took the new fixes in, re-deriving only the devices' tails.
    assert positions > positions_before and trips_after > trips_before
    assert batches == 2 and 0 < rederived < positions

    tables = mart_tables(incremental)
    assert {"fct_trips", "fct_stops", "fct_device_days", "device_latest_status", "fct_device_freshness"} <= set(tables)
    assert {"fct_alarms", "dim_geofences", "fct_geofence_visits", "fct_alarm_media"} <= set(tables)
    assert mart_tables(full) == tables
    differences = mart_differences(incremental, full)
    assert {table: (only_left, only_right) for table, (_, only_left, only_right) in differences.items()} == {
        table: (0, 0) for table in tables
    }
    # The six demo devices include no dashcam, so no alarm has media (test_marts_geofences.py covers that).
    assert all(rows > 0 for table, (rows, _, _) in differences.items() if table not in {"fct_alarm_media", "fct_fault_codes"})
