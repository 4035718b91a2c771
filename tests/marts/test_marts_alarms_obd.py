"""The alarm, OBD and device marts on the demo data (6 devices, 3 days, polled and pushed), checked exactly
against the raw tables, the seeds and the simulator's own records of what happened.

The comparison window: polling started `initial_days` (3) before its run and ran after the pushes were
replayed and loaded, so every alarm from (last polling load - 3 days) to the push load is in at least one
path (platform fence alarms are only ever polled; device alarms are polled and pushed). The simulator is
deterministic for its seed and fleet size, so `export_truth` over that window lists the same alarms.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sources import duckdb_setup

ROOT = Path(__file__).resolve().parents[2]
TRANSFORM = ROOT / "transform"
SEEDS = TRANSFORM / "seeds"
DBT = Path(sys.executable).with_name("dbt")
POLL_DAYS = 3


def _seed(name: str, key: str) -> dict[str, dict[str, str]]:
    with (SEEDS / name).open(newline="", encoding="utf-8") as handle:
        return {row[key]: row for row in csv.DictReader(handle)}


def _type_key(raw: str) -> str:
    return str(int(float(raw))) if raw.replace(".", "", 1).isdigit() else raw


@pytest.fixture(scope="module")
def warehouse(demo_data):
    connection = duckdb_setup.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def window(warehouse) -> tuple[datetime, datetime]:
    last_poll_load = warehouse.execute("select max(inserted_at) from jimi_raw._dlt_loads").fetchall()[0][0]
    push_load = warehouse.execute("select min(inserted_at) from jimi_push_raw._dlt_loads").fetchall()[0][0]
    start = (last_poll_load.astimezone(UTC) - timedelta(days=POLL_DAYS)).replace(microsecond=0) + timedelta(
        seconds=1
    )
    end = push_load.astimezone(UTC).replace(microsecond=0)
    assert end - start > timedelta(days=2, hours=23)
    return start, end


@pytest.fixture(scope="module")
def fleet():
    from sources.jimi_sim.settings import SimSettings
    from sources.jimi_sim.world.fleet import Fleet

    return Fleet(SimSettings(devices=6))


def test_fct_alarm_types_equal_raw_poll_and_push_types_mapped_through_the_seed(warehouse):
    seed = _seed("alarm_types.csv", "alarm_type_id")
    raw = {
        _type_key(type_id)
        for (type_id,) in warehouse.execute(
            "select alarm_type_id from jimi_raw.alarms union "
            "select alarm_type_id from jimi_push_raw.alarms where not alarm_cleared and coalesce(record_type, 'DEVICE') = 'DEVICE'"
        ).fetchall()
    }
    mart = set(
        warehouse.execute(
            "select distinct alarm_type_id, alarm_name, category, severity from marts.fct_alarms"
        ).fetchall()
    )
    assert raw <= set(seed)
    assert mart == {
        (key, seed[key]["alarm_name"], seed[key]["category"], seed[key]["severity"]) for key in raw
    }
    # What the simulator emits: device alarms, DVR ids for the dashcam, platform fence alarms.
    assert {"6", "in", "out"} <= raw


def test_every_polled_and_pushed_alarm_is_in_exactly_one_fct_row(warehouse):
    polled = warehouse.execute("select count(*) from jimi_raw.alarms").fetchall()[0][0]
    pushed = warehouse.execute(
        "select count(*) from jimi_push_raw.alarms where not alarm_cleared and coalesce(record_type, 'DEVICE') = 'DEVICE'"
    ).fetchall()[0][0]
    rows, ids, events, with_poll, with_push, both = warehouse.execute(
        "select count(*), count(distinct alarm_id), count(distinct (imei, alarm_type_id, alarm_at)), "
        "count(poll_alarm_at), count(push_alarm_at), count(*) filter (where source = 'both') from marts.fct_alarms"
    ).fetchall()[0]
    assert rows == ids == events
    assert with_poll == polled
    assert with_push == pushed
    assert rows == polled + pushed - both
    # Both copies of a matched alarm carry the simulator's one alertTime (gateTime is sent as the alertTime).
    assert (
        warehouse.execute(
            "select count(*) from marts.fct_alarms where source = 'both' and poll_alarm_at <> push_alarm_at"
        ).fetchall()[0][0]
        == 0
    )


def test_fct_alarms_equal_the_simulators_ground_truth_in_the_window(warehouse, window, fleet, tmp_path):
    from sources.jimi_sim.truth import export_truth

    start, end = window
    export_truth(fleet, start, end, tmp_path)
    with (tmp_path / "alarms.csv").open(newline="", encoding="utf-8") as handle:
        truth = [(row["imei"], row["alarm_time"], row["alarm_type"]) for row in csv.DictReader(handle)]
    rows = warehouse.execute(
        "select imei, strftime(timezone('UTC', alarm_at), '%Y-%m-%d %H:%M:%S'), alarm_type_id, source "
        "from marts.fct_alarms where alarm_at >= ? and alarm_at < ?",
        [start, end],
    ).fetchall()
    mart = [(imei, at, type_id) for imei, at, type_id, _ in rows]
    assert len(truth) > 50
    assert sorted(mart) == sorted(truth)
    last_push = warehouse.execute("select max(gate_time) from jimi_push_raw.alarms").fetchall()[0][0]
    # Device alarms up to the last push reached both paths; fence alarms are platform alarms, only polled.
    sources = {
        (type_id.isdigit(), source)
        for imei, at, type_id, source in rows
        if at <= f"{last_push:%Y-%m-%d %H:%M:%S}"
    }
    assert sources == {(True, "both"), (False, "poll")}


def test_fct_obd_readings_and_fault_codes_equal_the_simulators_records(warehouse, window, fleet):
    start, end = window
    # Readings after the replayed pushes' end can only have been polled: compare up to the last pushed one.
    last_pushed = warehouse.execute("select max(event_time) from jimi_push_raw.obd_readings").fetchall()[0][0]
    end = min(end, last_pushed.astimezone(UTC) + timedelta(seconds=1))
    readings = {
        (imei, int(at.timestamp()), battery, rpm, source)
        for imei, at, battery, rpm, source in warehouse.execute(
            "select imei, reading_at, battery_voltage_v, engine_rpm, source from marts.fct_obd_readings "
            "where reading_at >= ? and reading_at < ?",
            [start, end],
        ).fetchall()
    }
    expected = {
        (device.imei, r.epoch, round(r.battery_dv / 10, 3), float(r.rpm), "both")
        for device in fleet.devices
        for r in fleet.records.obd(device.imei, start, end)
    }
    assert len(expected) > 100
    # Polled in 0.1 V ("139"), pushed in millivolts (PID 66 = 13900): both decode to the same volts.
    assert readings == expected
    faults = (
        set(
            warehouse.execute(
                "select imei, fault_at, fault_code, description, source from marts.fct_fault_codes "
                "where fault_at >= ? and fault_at < ?",
                [start, end],
            ).fetchall()
        )
        if _has_faults(warehouse)
        else set()
    )
    truth = {
        (device.imei, datetime.fromtimestamp(f.epoch, UTC), f.code, f.detail, "both")
        for device in fleet.devices
        for f in fleet.records.dtcs(device.imei, start, end)
    }
    assert {
        (imei, at.astimezone(UTC), code, text, source) for imei, at, code, text, source in faults
    } == truth


def _has_faults(warehouse) -> bool:
    return warehouse.execute("select count(*) from marts.fct_fault_codes").fetchall()[0][0] > 0


def test_dim_devices_has_current_attributes_and_group_names(warehouse):
    rows = warehouse.execute(
        "select d.imei, d.group_name, g.group_name, d.driver_name, r.driver_name from marts.dim_devices d "
        "join jimi_raw.devices r using (imei) left join jimi_raw.device_groups g on g.group_id = d.group_id"
    ).fetchall()
    assert len(rows) == 6
    assert all(group == listed for _, group, listed, _, _ in rows if listed is not None)
    assert all(driver == raw for _, _, _, driver, raw in rows)


def _dbt(folder: Path, *args: str) -> None:
    env = {**os.environ, **duckdb_setup.dbt_env(), "JIMI_WAREHOUSE_PATH": str(folder / "warehouse.duckdb")}
    command = [
        str(DBT),
        *args,
        "--profiles-dir",
        ".",
        "--target-path",
        str(folder / "target"),
        "--log-path",
        str(folder / "logs"),
    ]
    result = subprocess.run(
        command, check=False, cwd=TRANSFORM, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_snapshot_versions_device_changes_and_incremental_facts_equal_a_full_rebuild(demo_data, tmp_path):
    """One copy of the demo warehouse: the device list changes (a new driver, a new group) while alarms and
    OBD readings are missing from the raw tables (a push-only alarm whose poll comes later, a polled one
    whose push comes later, a day of readings late on both paths); the facts are rebuilt from scratch, the
    missing rows then land, and an incremental run must give exactly the marts built from everything."""
    shutil.copy(demo_data / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    db = duckdb_setup.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        versions = db.execute(
            "select count(*), count(*) filter (where dbt_valid_to is null) from snapshots.snap_jimi__devices"
        ).fetchall()[0]
        assert versions == (6, 6)  # the dbt asset's `dbt build` took the first snapshot
        first, second = [
            imei
            for (imei,) in db.execute("select imei from jimi_raw.devices order by imei limit 2").fetchall()
        ]
        db.execute("update jimi_raw.devices set driver_name = 'New Driver' where imei = ?", [first])
        db.execute(
            "update jimi_raw.devices set group_id = 'g-new', group_name = 'New group' where imei = ?",
            [second],
        )
        db.execute("create schema held_back")
        cut = db.execute("select quantile_disc(alarm_time, 0.5) from jimi_raw.alarms").fetchall()[0][0]
        for table, condition in (
            ("jimi_raw.alarms", "alarm_time >= ?"),
            ("jimi_push_raw.alarms", "gate_time < ?"),
            ("jimi_raw.obd_readings", "report_time >= ? - interval 1 day"),
            ("jimi_push_raw.obd_readings", "event_time >= ? - interval 1 day"),
        ):
            name = table.replace(".", "__")
            db.execute(f"create table held_back.{name} as select * from {table} where {condition}", [cut])
            db.execute(f"delete from {table} where {condition}", [cut])
        expected = {
            table: db.execute(f"select * from marts.{table} order by all").fetchall()
            for table in ("fct_alarms", "fct_obd_readings")
        }
    finally:
        db.close()

    _dbt(
        tmp_path,
        "build",
        "--full-refresh",
        "--select",
        "snap_jimi__devices",
        "fct_alarms",
        "fct_obd_readings",
    )
    db = duckdb_setup.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        partial = db.execute(
            "select count(*), count(*) filter (where source = 'both') from marts.fct_alarms"
        ).fetchall()[0]
        for table in (
            "jimi_raw.alarms",
            "jimi_push_raw.alarms",
            "jimi_raw.obd_readings",
            "jimi_push_raw.obd_readings",
        ):
            db.execute(f"insert into {table} by name select * from held_back.{table.replace('.', '__')}")
    finally:
        db.close()
    assert partial[0] > len(expected["fct_alarms"]) // 2 and partial[1] < len(expected["fct_alarms"]) // 2

    _dbt(tmp_path, "run", "--select", "fct_alarms", "fct_obd_readings")
    db = duckdb_setup.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        for table, rows in expected.items():
            assert db.execute(f"select * from marts.{table} order by all").fetchall() == rows, table
        history = db.execute(
            "select imei, driver_name, group_name, dbt_valid_to is null from snapshots.snap_jimi__devices "
            "where imei in (?, ?) order by imei, dbt_valid_from",
            [first, second],
        ).fetchall()
        total = db.execute(
            "select count(*), count(*) filter (where dbt_valid_to is null) from snapshots.snap_jimi__devices"
        ).fetchall()[0]
    finally:
        db.close()
    assert total == (8, 6)
    assert [(imei, current) for imei, _, _, current in history] == [
        (first, False),
        (first, True),
        (second, False),
        (second, True),
    ]
    assert history[1][1] == "New Driver" and history[0][1] != "New Driver"
    assert history[3][2] == "New group" and history[2][2] != "New group"


def test_fct_device_days_count_each_alarm_of_a_day_with_fixes_once_by_category(warehouse):
    by_day = warehouse.execute(
        """
        select imei, activity_date, alarm_count, geofence_alarm_count, driving_behaviour_alarm_count
        from marts.fct_device_days where alarm_count > 0 order by all
        """
    ).fetchall()
    expected = warehouse.execute(
        """
        select alarms.imei, alarms.alarm_date, count(*),
               count(*) filter (where category = 'geofence'), count(*) filter (where category = 'driving_behaviour')
        from marts.fct_alarms as alarms
        join marts.fct_device_days as days on alarms.imei = days.imei and alarms.alarm_date = days.activity_date
        group by all order by all
        """
    ).fetchall()
    assert by_day == expected
    assert sum(row[2] for row in by_day) > 0
