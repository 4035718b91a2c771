"""`make warehouse-upgrade`: a warehouse written by DuckDB 2.0 comes over to DuckDB 1.5.5 with every row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.launch import upgrade
from sources import duckdb_setup

# The same statements build the 2.0 file (under DuckDB 2.0) and the reference (here, under 1.5.5).
SCHEMA_SQL = """
set timezone = 'UTC';
create schema jimi_raw; create schema jimi_raw_staging; create schema jimi_push_raw; create schema staging;
create schema marts;
create table jimi_raw._dlt_pipeline_state (version bigint, engine_version bigint, pipeline_name varchar,
  state varchar, created_at timestamptz, version_hash varchar, _dlt_load_id varchar, _dlt_id varchar);
insert into jimi_raw._dlt_pipeline_state values
  (1, 4, 'jimi_track', 'eNrtWW1v2zYQ/isGPzuGLMt+ydCnqpYh2JasxbIgyBoMA0VRElfsLUkk7SIQ/vdSpGnHdpuk3Yu3DgBsmT7y7rl7jkfqC3gDGKiZmjlT1KAb',
   '2026-11-30 23:59:59.123456+00', 'hash1', '1764547200.1', 'a1'),
  (2, 4, 'jimi_push', '{"sources": {"jimi_push": {"landed_until": "2026-12-01T00:00:00Z"}}}',
   '2026-12-01 00:00:00+00', 'hash2', '1764547300.2', 'a2');
create table jimi_raw._dlt_loads (load_id varchar not null, schema_name varchar, status bigint not null,
  inserted_at timestamptz not null, schema_version_hash varchar);
insert into jimi_raw._dlt_loads select 'load-' || i, 'jimi', 0, timestamptz '2026-09-01 00:00:00+00' + i * interval 1 hour,
  'h' || i from range(300) t(i);
create table jimi_raw.track_points (imei varchar not null, gps_time timestamptz not null, lat double, lng double,
  speed_kmh double, direction bigint, altitude_m decimal(10, 2), tags varchar[], extra struct(a int, b varchar),
  moving boolean, raw blob, _dlt_load_id varchar not null, _dlt_id varchar not null);
insert into jimi_raw.track_points select '86' || lpad((i % 7)::varchar, 13, '0'),
  timestamptz '2026-09-01 00:00:00+00' + i * interval 30 second, -1.2 + i / 1e6, 36.8 + i / 1e5,
  case when i % 11 = 0 then null else (i % 97) * 1.25 end, i % 360, (i % 1000) / 4, ['a', 'b' || (i % 3)],
  {'a': i, 'b': 'x' || i}, i % 2 = 0, ('\\x' || lpad(to_hex(i % 256), 2, '0'))::blob, 'load-' || (i // 100), 'id-' || i
  from range(5000) t(i);
create table jimi_raw_staging.track_points as select * from jimi_raw.track_points limit 0;
create table jimi_push_raw.gps_pushes (imei varchar, received_at timestamp, doc json);
insert into jimi_push_raw.gps_pushes select 'p' || i, timestamp '2026-12-01 00:00:00' + i * interval 1 minute,
  json_object('i', i, 'nested', json_object('v', i * 2)) from range(250) t(i);
create table marts.fct_device_days (imei varchar, activity_date date, distance_km double);
insert into marts.fct_device_days select imei, gps_time::date, sum(speed_kmh) / 120 from jimi_raw.track_points
  group by all;
create view staging.stg_track_points as select imei, gps_time, speed_kmh from "warehouse".jimi_raw.track_points
  where speed_kmh is not null;
"""

WRITE_2_0 = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
connection.execute(open(sys.argv[2]).read())
print(connection.execute("select tags['storage_version'] from duckdb_databases() where database_name = 'warehouse'").fetchone()[0])
connection.close()
"""


def write_under_duckdb2(path: Path, tmp_path: Path) -> None:
    script, sql = tmp_path / "write20.py", tmp_path / "schema.sql"
    script.write_text(WRITE_2_0)
    sql.write_text(SCHEMA_SQL)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert upgrade.run_under(upgrade.DEFAULT_DUCKDB, str(script), str(path), str(sql)).split() == ["v2.0.0+"]


def reference() -> duckdb.DuckDBPyConnection:
    connection = duckdb_setup.connect()
    connection.execute("attach ':memory:' as warehouse")
    connection.execute("use warehouse")
    connection.execute(SCHEMA_SQL)
    return connection


def test_a_duckdb_2_file_comes_over_with_every_row_of_every_table_and_its_views(
    data_dir: Path, tmp_path: Path
):
    path = data_dir / "warehouse.duckdb"
    write_under_duckdb2(path, tmp_path)
    with pytest.raises(duckdb.IOException, match="version number"):
        duckdb_setup.connect(path, read_only=True)

    assert upgrade.main([]) == 0  # the configured warehouse (the published copy does not exist yet)

    expected = reference()
    expected.execute(f"attach '{path}' as upgraded (read_only)")
    tables = expected.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'warehouse' order by 1, 2"
    ).fetchall()
    upgraded_tables = expected.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'upgraded' order by 1, 2"
    ).fetchall()
    assert upgraded_tables == tables and len(tables) == 6
    columns = "select table_name, column_name, data_type, is_nullable from duckdb_columns() where database_name = ? order by all"
    assert (
        expected.execute(columns, ["upgraded"]).fetchall()
        == expected.execute(columns, ["warehouse"]).fetchall()
    )
    counts = {}
    for schema, table in tables:
        for left, right in (("warehouse", "upgraded"), ("upgraded", "warehouse")):
            missing = expected.execute(
                f'select count(*) from (from {left}."{schema}"."{table}" except all from {right}."{schema}"."{table}")'
            ).fetchone()[0]
            assert missing == 0, f"{schema}.{table}: {missing} rows of {left} are not in {right}"
        counts[f"{schema}.{table}"] = expected.execute(
            f'select count(*) from upgraded."{schema}"."{table}"'
        ).fetchone()[0]
    device_days = expected.execute("select count(*) from warehouse.marts.fct_device_days").fetchone()[0]
    assert counts == {
        "jimi_push_raw.gps_pushes": 250,
        "jimi_raw._dlt_loads": 300,
        "jimi_raw._dlt_pipeline_state": 2,
        "jimi_raw.track_points": 5000,
        "jimi_raw_staging.track_points": 0,
        "marts.fct_device_days": device_days,
    }
    assert device_days > 7
    expected.close()

    # Opened as the project opens it, the dbt-style view still binds.
    connection = duckdb_setup.connect(path, read_only=True)
    assert connection.execute("select count(*) from staging.stg_track_points").fetchone()[0] == 5000 - 455
    connection.close()
    backup = upgrade.backup_path(path)
    with pytest.raises(duckdb.IOException, match="version number"):
        duckdb_setup.connect(backup, read_only=True)
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "warehouse.duckdb",
        "warehouse.duckdb.duckdb2.bak",
    ]


def test_upgrade_refuses_a_file_that_already_opens_a_missing_file_and_a_backup_in_the_way(tmp_path: Path):
    current = tmp_path / "current.duckdb"
    duckdb_setup.connect(current).execute("create table t as select 1 as x").close()
    with pytest.raises(upgrade.UpgradeRefused, match="already opens under DuckDB 1.5.5: nothing to do"):
        upgrade.upgrade(current)
    with pytest.raises(upgrade.UpgradeRefused, match="there is no warehouse at .*missing.duckdb"):
        upgrade.upgrade(tmp_path / "missing.duckdb")
    upgrade.backup_path(current).write_bytes(b"an earlier backup")
    with pytest.raises(
        upgrade.UpgradeRefused, match=r"current.duckdb.duckdb2.bak exists .*move it away first"
    ):
        upgrade.upgrade(current)
    assert upgrade.backup_path(current).read_bytes() == b"an earlier backup"
    assert duckdb_setup.connect(current, read_only=True).execute("from t").fetchall() == [(1,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.duckdb", "current.duckdb.duckdb2.bak"]


def test_the_command_exits_non_zero_naming_the_warehouse_when_there_is_none(data_dir: Path, capsys):
    assert upgrade.main([]) == 1
    assert (
        capsys.readouterr().err
        == f"nothing to upgrade: there is no warehouse at {data_dir / 'warehouse.duckdb'}\n"
    )
