"""Point-derived stop detection (the dbt model int_motion_events) beside MovingPandas' TrajectoryStopDetector.

Both get the same fixes: `--devices` simulated devices over `--days` days (exact trails from the simulator's
point generator, written to the raw track points; the device list loaded by the real pipeline), after the
real dbt models have built `int_positions` (the usable fixes: precise, not GPS jumps). Timed:

- SQL: the compiled full-refresh query of `int_motion_events` run on DuckDB (best of 3);
- MovingPandas: `TrajectoryStopDetector(collection).get_stop_time_ranges(max_diameter, min_duration)` with
  max_diameter = 2 x stop_radius_m and min_duration = stop_min_duration_s (best of 3; building the
  TrajectoryCollection is reported apart).

Agreement: stop precision and recall of each against `jimi-sim truth` (a match overlaps in time), and of
MovingPandas against the SQL stops. The last line is the speed ratio MovingPandas time / SQL time.

    python bench/stop_detection_movingpandas.py [--devices 10] [--days 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from sources import duckdb_setup

END = datetime(2026, 11, 16, tzinfo=UTC)


def best_of(runs: int, action) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=UserWarning)
    import geopandas as gpd
    import movingpandas as mpd
    import pandas as pd
    from marts_support import run_dbt

    from bench.mart_scaling import RAW_COLUMNS, trails
    from bench.martscore import load_truth, score_tables
    from orchestration.engine.polling import load_jimi
    from orchestration.settings import current
    from sources.jimi_sim.account import source_args
    from sources.jimi_sim.api.server import running_simulator
    from sources.jimi_sim.settings import EXACT, SimSettings
    from sources.jimi_sim.truth import export_truth
    from sources.jimi_sim.world.fleet import Fleet

    work = Path(tempfile.mkdtemp(prefix="stop-detection-"))
    os.environ["JIMI_DATA_DIR"] = str(work / "data")
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    start, now = END - timedelta(days=args.days), END + timedelta(hours=1)
    settings = SimSettings(devices=25, now=now, **EXACT)
    with running_simulator(settings) as url:
        load_jimi(["devices"], now=now, **source_args(url, settings))
    fleet = Fleet(settings)
    imeis = [device.imei for device in fleet.devices if device.habits.reporting][: args.devices]
    warehouse = current().warehouse_path
    connection = duckdb_setup.connect(str(warehouse))
    try:
        connection.execute(f"create table jimi_raw.track_points ({RAW_COLUMNS})")
        connection.register("fixes", trails(fleet, imeis, start, END))
        connection.execute(
            "insert into jimi_raw.track_points select imei, gps_time, lat, lng, speed_kmh, direction_deg, "
            "pos_type, satellites, acc_on, null, null from fixes order by gps_time"
        )
    finally:
        connection.close()
    run_dbt(warehouse, "run", work=work)
    run_dbt(warehouse, "compile", "-s", "int_motion_events", "--full-refresh", work=work)
    compiled = next((work / "target" / "compiled").rglob("int_motion_events.sql")).read_text()
    project_vars = yaml.safe_load((ROOT / "transform" / "dbt_project.yml").read_text())["vars"]
    radius_m, min_duration_s = project_vars["stop_radius_m"], project_vars["stop_min_duration_s"]

    truth_dir = work / "truth"
    export_truth(fleet, start - timedelta(days=1), END + timedelta(days=1), truth_dir)

    connection = duckdb_setup.connect(str(warehouse))
    try:
        fixes = connection.execute(
            "select imei, fixed_at, lat, lng from intermediate.int_positions where is_precise and not is_gps_jump"
        ).df()
        sql_s, _ = best_of(
            3, lambda: connection.execute(f"create or replace temp table sql_events as {compiled}")
        )
        connection.execute(
            f"""
            create temp table sql_stops as
            select distinct imei, started_at, ended_at,
                   started_at >= timestamptz '{start.isoformat()}' and started_at < timestamptz '{END.isoformat()}'
                       as in_window
            from sql_events where event_type = 'stop'
            """
        )

        fixes["fixed_at"] = pd.to_datetime(fixes["fixed_at"], utc=True).dt.tz_localize(None)
        frame = gpd.GeoDataFrame(
            fixes, geometry=gpd.points_from_xy(fixes["lng"], fixes["lat"]), crs="EPSG:4326"
        )
        build_s, collection = best_of(
            1, lambda: mpd.TrajectoryCollection(frame, traj_id_col="imei", t="fixed_at")
        )
        mp_s, ranges = best_of(
            3,
            lambda: mpd.TrajectoryStopDetector(collection).get_stop_time_ranges(
                max_diameter=2 * radius_m, min_duration=timedelta(seconds=min_duration_s)
            ),
        )
        rows = [(str(r.traj_id), r.t_0.to_pydatetime(), r.t_n.to_pydatetime()) for r in ranges]
        connection.execute(
            "create temp table mp_raw (imei varchar, started_at timestamp, ended_at timestamp)"
        )
        connection.executemany("insert into mp_raw values (?, ?, ?)", rows)
        connection.execute(
            f"""
            create temp table mp_stops as
            select imei, started_at at time zone 'UTC' as started_at, ended_at at time zone 'UTC' as ended_at,
                   (started_at at time zone 'UTC') >= timestamptz '{start.isoformat()}'
                   and (started_at at time zone 'UTC') < timestamptz '{END.isoformat()}' as in_window
            from mp_raw
            """
        )
        load_truth(connection, truth_dir, start, END)
        connection.execute("delete from truth_stops where imei not in (select unnest(?::varchar[]))", [imeis])
        sql_truth = score_tables(connection, "sql_stops", "truth_stops")
        mp_truth = score_tables(connection, "mp_stops", "truth_stops")
        mp_sql = score_tables(connection, "mp_stops", "sql_stops")
    finally:
        connection.close()

    print(f"fixes: {len(fixes):,} usable ({args.devices} devices, {args.days} days)")
    print(f"SQL (int_motion_events, all trips and stops): {sql_s:.2f}s")
    print(
        f"MovingPandas TrajectoryStopDetector (max_diameter {2 * radius_m} m, min_duration {min_duration_s} s): "
        f"{mp_s:.2f}s (+ {build_s:.2f}s building the TrajectoryCollection)"
    )
    print(sql_truth.text("SQL stops vs truth"))
    print(mp_truth.text("MovingPandas stops vs truth"))
    print(mp_sql.text("MovingPandas stops vs SQL stops"))
    print(f"stop_detection_movingpandas: {mp_s / sql_s:.1f} (target >= 1)")


if __name__ == "__main__":
    main()
