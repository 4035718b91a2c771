"""Incremental marts equal a full refresh: build, load more data (a new half day, fixes landing late in an
earlier day, among them the fixes under a mileage-report trip that was GPS drift), run incrementally, then
compare every mart table with a --full-refresh build."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
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


POSITION_TABLES = {
    "jimi_raw.track_points": "gps_time",
    "jimi_push_raw.gps_fixes": "gps_time",
    "jimi_raw.live_locations": "gps_time",
}


def _add_drift_report_trips(warehouse: Path) -> list[tuple[str, datetime]]:
    """Two 10-minute mileage-report trips where the fixes show the device parked (dense, in one place) in
    the middle of two long parking stops: GPS drift the report counted. Returns (imei, start) of each."""
    connection = duckdb_setup.connect(str(warehouse))
    try:
        picked = connection.execute(
            """
            with stops as (
                select imei, started_at + interval 2 hour as phantom_at
                from marts.fct_stops
                where source = 'derived' and stop_kind = 'parking' and not is_open and duration_s >= 4 * 3600
                  and ended_at < (select max(gps_time) from jimi_raw.track_points) - interval 1 day
            ),
            late_block as (
                -- _hold_back's late block (09:00-11:00 UTC on the first full day), kept clear.
                select min(date_trunc('day', gps_time at time zone 'UTC')) + interval 33 hour as late_from
                from jimi_raw.track_points
            ),
            checked as (
                select stops.imei, stops.phantom_at
                from stops
                join intermediate.int_positions p
                  on p.imei = stops.imei
                 and p.fixed_at between stops.phantom_at - interval 50 minute and stops.phantom_at + interval 60 minute
                where not exists (
                    select 1 from late_block
                    where stops.phantom_at between timezone('UTC', late_from) - interval 2 hour
                        and timezone('UTC', late_from) + interval 3 hour
                )
                group by all
                having max(p.segment_s) <= 300 and bool_and(p.is_precise and not p.is_gps_jump) and count(*) >= 20
            )
            select imei, phantom_at from checked order by imei, phantom_at
            """
        ).fetchall()
        drift = [picked[0], next(row for row in picked if row[0] != picked[0][0])]
        for imei, phantom_at in drift:
            connection.execute(
                """
                insert into jimi_raw.trips by name
                select ? as imei, ?::timestamptz as start_time, ?::timestamptz + interval 10 minute as end_time,
                       600 as run_seconds, 0 as idle_seconds, 0.05 as distance_raw, 'km' as distance_raw_unit,
                       0.05 as distance_km
                """,
                [imei, phantom_at, phantom_at],
            )
    finally:
        connection.close()
    return drift


def _hold_back(warehouse: Path, parked_late: tuple[str, datetime]) -> dict[str, int]:
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
        late_imei, late_at = parked_late
        for table, column in HELD_BACK.items():
            condition = f"{column} >= {cut}"
            if table in LATE_BLOCK:
                condition += f" or ({column} >= {late_from} and {column} < {late_from} + interval 2 hour and imei in ({imeis}))"
            if table in POSITION_TABLES:
                # The fixes around one drift trip arrive late: until then the report trip stands.
                condition += (
                    f" or (imei = '{late_imei}' and {column} between timestamptz '{late_at.isoformat()}'"
                    f" - interval 30 minute and timestamptz '{late_at.isoformat()}' + interval 40 minute)"
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


def _drift_sources(connection: duckdb.DuckDBPyConnection, trip_ids: list[str]) -> dict[str, str]:
    """Where each trip id is: its fct_trips source, or `rejected`."""
    rows = connection.execute(
        "select trip_id, source from marts.fct_trips where list_contains($ids, trip_id) "
        "union all select trip_id, 'rejected' from marts.fct_rejected_report_trips where list_contains($ids, trip_id)",
        {"ids": trip_ids},
    ).fetchall()
    return dict(rows)


def test_incremental_run_equals_full_refresh_when_late_and_new_data_arrive(demo_data: Path, tmp_path: Path):
    incremental = tmp_path / "incremental.duckdb"
    shutil.copy(demo_data / "warehouse.duckdb", incremental)
    drift = _add_drift_report_trips(incremental)
    drift_ids = [f"{imei}_a_{int(at.timestamp())}" for imei, at in drift]
    held = _hold_back(incremental, parked_late=drift[0])
    assert held["jimi_raw.track_points"] > 500 and held["jimi_push_raw.gps_fixes"] > 500
    run_dbt(incremental, "run", "--full-refresh")
    before = duckdb_setup.connect(str(incremental), read_only=True)
    try:
        positions_before = before.execute("select count(*) from intermediate.int_positions").fetchone()[0]
        trips_before = before.execute("select count(*) from marts.fct_trips").fetchone()[0]
        drift_before = _drift_sources(before, drift_ids)
    finally:
        before.close()
    # Without the late fixes the first drift trip is all there is for that time; the second is rejected.
    assert drift_before == {drift_ids[0]: "api_mileage", drift_ids[1]: "rejected"}

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
        drift_after = _drift_sources(after, drift_ids)
    finally:
        after.close()
    # With its fixes in, the first one is rejected too (and gone from fct_trips).
    assert drift_after == {drift_ids[0]: "rejected", drift_ids[1]: "rejected"}
    # The incremental run took the new fixes in, re-deriving only the devices' tails.
    assert positions > positions_before and trips_after > trips_before
    assert batches == 2 and 0 < rederived < positions

    tables = mart_tables(incremental)
    assert {
        "fct_trips",
        "fct_stops",
        "fct_device_days",
        "device_latest_status",
        "fct_device_freshness",
    } <= set(tables)
    assert {"fct_alarms", "dim_geofences", "fct_geofence_visits", "fct_alarm_media"} <= set(tables)
    assert mart_tables(full) == tables
    differences = mart_differences(incremental, full)
    assert {table: (only_left, only_right) for table, (_, only_left, only_right) in differences.items()} == {
        table: (0, 0) for table in tables
    }
    # The six demo devices include no dashcam, so no alarm has media (test_marts_geofences.py covers that).
    assert differences["fct_rejected_report_trips"][0] == 2
    assert all(
        rows > 0
        for table, (rows, _, _) in differences.items()
        if table not in {"fct_alarm_media", "fct_fault_codes"}
    )
