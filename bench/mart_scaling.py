"""Incremental vs full build of the marts on about 10 million fixes.

Raw track points for 90 days are generated quickly, not through HTTP: the simulator's own point generator
(`Fleet.points`, no late or duplicate fixes) makes `--base` devices' trails, which are cloned (new IMEIs,
shifted a little) into `jimi_raw.track_points` via Arrow and DuckDB; the device list is loaded by the real
pipeline from the simulator, plus rows for the clones. Then:

1. full build (`dbt run --full-refresh`) on 90 days;
2. one new day of fixes arrives; incremental `dbt run` (timed);
3. the same warehouse copied and built with `--full-refresh` (timed): the full build of the same data.

The figure is incremental / full (target <= 0.1). The marts of 2 and 3 are also compared (they must be
identical).

    python bench/mart_scaling.py [--base 6] [--clones 25] [--days 90]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from sources import duckdb_setup

LAST_DAY = datetime(2026, 11, 15, tzinfo=UTC)  # the new day is [LAST_DAY, LAST_DAY + 1 day)
RAW_COLUMNS = """
    imei varchar, gps_time timestamptz, lat double, lng double, speed_kmh double, direction_deg double,
    pos_type smallint, satellites smallint, acc_on boolean, ignition_on boolean, altitude_m double
"""


def trails(fleet, imeis: list[str], start: datetime, end: datetime) -> pa.Table:
    columns: dict[str, list] = {
        name: []
        for name in (
            "imei",
            "gps_time",
            "lat",
            "lng",
            "speed_kmh",
            "direction_deg",
            "pos_type",
            "satellites",
            "acc_on",
        )
    }
    for imei in imeis:
        for p in fleet.points(imei, start, end):
            columns["imei"].append(imei)
            columns["gps_time"].append(p.gps_time)
            columns["lat"].append(p.lat)
            columns["lng"].append(p.lng)
            columns["speed_kmh"].append(p.speed_kmh)
            columns["direction_deg"].append(float(p.direction))
            columns["pos_type"].append(p.pos_type)
            columns["satellites"].append(p.satellites)
            columns["acc_on"].append(p.acc)
    return pa.table(columns)


def insert_clones(connection: duckdb.DuckDBPyConnection, base: pa.Table, clones: int) -> int:
    """Every base fix once per clone: the IMEI's last two digits replaced, the trail shifted ~1 km per clone."""
    connection.register("base_fixes", base)
    connection.execute(
        f"""
        insert into jimi_raw.track_points
        select substr(imei, 1, 13) || lpad(cast(clone as varchar), 2, '0'), gps_time, lat + clone * 0.009, lng,
               speed_kmh, direction_deg, cast(pos_type as smallint), cast(satellites as smallint), acc_on,
               null, null
        from base_fixes, range({clones}) as clones(clone)
        order by gps_time
        """
    )
    connection.unregister("base_fixes")
    return base.num_rows * clones


def timed_dbt(warehouse: Path, *args: str) -> float:
    from marts_support import run_dbt

    started = time.perf_counter()
    run_dbt(warehouse, *args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=6, help="simulated devices")
    parser.add_argument("--clones", type=int, default=25, help="copies of each")
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mart-scaling-"))
    os.environ["JIMI_DATA_DIR"] = str(work / "data")
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    now = LAST_DAY + timedelta(days=1, hours=1)
    start = LAST_DAY - timedelta(days=args.days)

    from marts_support import mart_differences

    from orchestration.engine.polling import load_jimi
    from orchestration.settings import current
    from sources.jimi_sim.account import source_args
    from sources.jimi_sim.api.server import running_simulator
    from sources.jimi_sim.settings import EXACT, SimSettings
    from sources.jimi_sim.world.fleet import Fleet

    settings = SimSettings(devices=25, now=now, **EXACT)
    with running_simulator(settings) as url:
        load_jimi(["devices"], now=now, **source_args(url, settings))
    fleet = Fleet(settings)
    imeis = [device.imei for device in fleet.devices if device.habits.reporting][: args.base]
    warehouse = current().warehouse_path

    generated = time.perf_counter()
    history = trails(fleet, imeis, start, LAST_DAY)
    new_day = trails(fleet, imeis, LAST_DAY, LAST_DAY + timedelta(days=1))
    connection = duckdb_setup.connect(str(warehouse))
    try:
        connection.execute(f"create table jimi_raw.track_points ({RAW_COLUMNS})")
        points = insert_clones(connection, history, args.clones)
        # The clones' device rows, so dim_devices names them.
        connection.execute(
            f"""
            insert into jimi_raw.devices
            select devices.* replace (substr(imei, 1, 13) || lpad(cast(clone as varchar), 2, '0') as imei,
                              device_name || ' #' || clone as device_name, _dlt_id || clone as _dlt_id)
            from jimi_raw.devices, range({args.clones}) as clones(clone)
            where imei in (select unnest(?::varchar[]))
              and substr(imei, 1, 13) || lpad(cast(clone as varchar), 2, '0') <> imei
            """,
            [imeis],
        )
    finally:
        connection.close()
    print(
        f"generated {points:,} fixes ({len(imeis)} x {args.clones} devices, {args.days} days) "
        f"in {time.perf_counter() - generated:.0f}s",
        flush=True,
    )

    first = timed_dbt(warehouse, "run", "--full-refresh")
    print(f"full build, {args.days} days: {first:.1f}s", flush=True)

    connection = duckdb_setup.connect(str(warehouse))
    try:
        added = insert_clones(connection, new_day, args.clones)
        total = connection.execute("select count(*) from jimi_raw.track_points").fetchone()[0]
    finally:
        connection.close()
    incremental = timed_dbt(warehouse, "run")
    print(
        f"incremental run after one new day ({added:,} fixes, {total:,} in all): {incremental:.1f}s",
        flush=True,
    )

    full_copy = work / "full.duckdb"
    shutil.copy(warehouse, full_copy)
    full = timed_dbt(full_copy, "run", "--full-refresh")
    print(f"full build, {args.days + 1} days: {full:.1f}s", flush=True)

    differences = mart_differences(warehouse, full_copy)
    unequal = {table: diff for table, diff in differences.items() if diff[1] or diff[2]}
    print(
        f"marts after the incremental run vs the full build: {'identical' if not unequal else unequal} "
        f"({', '.join(f'{table} {rows:,}' for table, (rows, _, _) in differences.items())} rows)"
    )
    shutil.rmtree(work, ignore_errors=True)
    print(f"mart_scaling: {incremental / full:.3f} (target <= 0.1)")


if __name__ == "__main__":
    main()
