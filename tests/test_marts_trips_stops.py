"""The position, trip and stop marts: exact invariants on the demo data, reconciliation on a crafted case,
accuracy against the simulator's ground truth, and a real bus trace."""

from __future__ import annotations

import csv
import itertools
import math
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marts_support import run_dbt

from bench.martscore import score_marts
from sources import duckdb_setup
from sources.jimi_sim.account import source_args

TRACE = Path("/work/shared/data/real-traces/liverpool_route14.csv")
TRACE_RUNS = TRACE.with_name("liverpool_route14_runs.csv")


@pytest.fixture(scope="module")
def warehouse(demo_data: Path):
    connection = duckdb_setup.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()


def test_derived_trips_and_stops_never_overlap_when_built_on_demo_data(warehouse):
    events = warehouse.execute(
        """
        select count(*), count(*) filter (where next_started_at < ended_at)
        from (
            select imei, started_at, ended_at,
                   lead(started_at) over (partition by imei order by started_at) as next_started_at
            from (
                select imei, started_at, ended_at from marts.fct_trips where source = 'derived'
                union all
                select imei, started_at, ended_at from marts.fct_stops where source = 'derived'
            )
        )
        """
    ).fetchone()
    assert events[0] > 50
    assert events[1] == 0


def test_every_trip_distance_equals_the_sum_of_its_segments_when_built_on_demo_data(warehouse):
    rows = warehouse.execute(
        """
        with segments as (
            select t.trip_id, t.distance_km, sum(cast(p.segment_km as decimal(18, 6))) as segments_km, count(*) as n
            from marts.fct_trips t
            join intermediate.int_positions p
              on p.imei = t.imei and p.fixed_at > t.started_at and p.fixed_at <= t.ended_at
             and p.is_precise and not p.is_gps_jump
            where t.source = 'derived'
            group by t.trip_id, t.distance_km
        )
        select count(*), count(*) filter (where cast(round(segments_km, 3) as double) <> distance_km),
               count(*) filter (where n + 1 <> (select fix_count from marts.fct_trips f where f.trip_id = segments.trip_id))
        from segments
        """
    ).fetchone()
    derived = warehouse.execute("select count(*) from marts.fct_trips where source = 'derived'").fetchone()[0]
    assert rows[0] == derived > 20
    assert rows[1] == 0
    assert rows[2] == 0


def test_device_days_add_up_to_the_trips_when_built_on_demo_data(warehouse):
    per_device = warehouse.execute(
        """
        select d.imei, d.km, t.km, d.trips, t.trips
        from (select imei, sum(distance_km) as km, sum(trip_count) as trips from marts.fct_device_days group by imei) d
        join (select imei, sum(distance_km) as km, count(*) as trips from marts.fct_trips
              where source = 'derived' group by imei) t using (imei)
        """
    ).fetchall()
    assert per_device
    for imei, days_km, trips_km, day_trips, trips in per_device:
        assert day_trips == trips, imei
        assert abs(days_km - trips_km) < 0.002 * trips + 0.002, imei
    seconds = warehouse.execute(
        "select max(driving_seconds + idle_seconds + parked_seconds), max(data_coverage_share) from marts.fct_device_days"
    ).fetchone()
    assert seconds[0] <= 86400 and seconds[1] <= 1.0


def test_every_device_has_one_status_and_freshness_row_when_built_on_demo_data(warehouse):
    devices = {row[0] for row in warehouse.execute("select imei from marts.dim_devices").fetchall()}
    status = warehouse.execute("select imei, last_fixed_at, motion_state from marts.device_latest_status").fetchall()
    fresh = warehouse.execute(
        "select imei, is_silent, minutes_stale, last_fix_at, is_disabled, is_expired from marts.fct_device_freshness"
    ).fetchall()
    assert {row[0] for row in status} == devices == {row[0] for row in fresh}
    reporting = {row[0] for row in status if row[1] is not None}
    assert len(reporting) >= 4
    assert all(row[2] in ("moving", "stopped") for row in status if row[0] in reporting)
    # The demo was built moments ago: reporting devices are not silent; a device without any contact is.
    for imei, silent, stale, last_fix, _disabled, _expired in fresh:
        if last_fix is None and stale is None:
            assert silent, imei
        elif imei in reporting:
            assert stale is not None and stale >= 0


def test_reconciliation_flags_a_wrong_unit_and_a_wrong_distance_when_crafted(demo_data: Path, tmp_path: Path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_data / "warehouse.duckdb", copy)
    connection = duckdb_setup.connect(str(copy))
    try:
        flagged_before = {
            row[0] for row in connection.execute("select trip_id from marts.fct_trips where is_distance_mismatch").fetchall()
        }
        # Two closed derived trips that each overlap exactly one API trip and agree with it.
        picked = connection.execute(
            """
            select t.trip_id, t.imei, t.started_at, t.ended_at, t.distance_km
            from marts.fct_trips t
            where t.source = 'derived' and not t.is_open and t.api_trip_count = 1 and not t.is_distance_mismatch
              and t.distance_km > 2
            order by t.started_at desc limit 2
            """
        ).fetchall()
        assert len(picked) == 2
        for (trip_id, imei, started, ended, _km), factor in zip(picked, (1000.0, 1.5), strict=True):
            updated = connection.execute(
                """
                update jimi_raw.trips set distance_km = distance_km * ?
                where imei = ? and start_time < ? and ? < end_time
                """,
                [factor, imei, ended, started],
            ).fetchall()
            assert updated[0][0] == 1, trip_id
    finally:
        connection.close()
    run_dbt(copy, "run", "-s", "fct_trips")
    connection = duckdb_setup.connect(str(copy), read_only=True)
    try:
        flags = {
            row[0]: (row[1], row[2])
            for row in connection.execute(
                "select trip_id, is_distance_mismatch, is_distance_unit_suspect from marts.fct_trips "
                "where trip_id in (?, ?)",
                [picked[0][0], picked[1][0]],
            ).fetchall()
        }
        flagged_after = {
            row[0] for row in connection.execute("select trip_id from marts.fct_trips where is_distance_mismatch").fetchall()
        }
    finally:
        connection.close()
    assert flags == {picked[0][0]: (True, True), picked[1][0]: (True, False)}
    assert flagged_after == flagged_before | {picked[0][0], picked[1][0]}


def test_marts_match_the_ground_truth_when_scored_on_demo_data(demo_data: Path, tmp_path: Path):
    from sources.jimi_sim.fleet import Fleet
    from sources.jimi_sim.settings import SimSettings
    from sources.jimi_sim.truth import export_truth

    connection = duckdb_setup.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    try:
        newest, imeis = connection.execute(
            "select max(gps_time), list(distinct imei) from jimi_raw.track_points"
        ).fetchone()
    finally:
        connection.close()
    # Score the two days before the last 12 hours: late blocks (median 6 h) have mostly arrived there.
    end = newest.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=12)
    start = end - timedelta(hours=36)
    export_truth(Fleet(SimSettings(devices=6)), start - timedelta(days=1), end + timedelta(days=1), tmp_path)
    score = score_marts(demo_data / "warehouse.duckdb", tmp_path, start, end, imeis)
    trips, stops = score["trips"], score["stops"]
    assert trips.true >= 10 and stops.true >= 10
    assert trips.precision >= 0.95 and trips.recall >= 0.9, score
    assert stops.precision >= 0.95 and stops.recall >= 0.9, score
    assert score["distance_error"] <= 0.05, score
    assert score["stop_kind_agreement"] >= 0.95, score


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.mark.skipif(not TRACE.exists(), reason="real traces not available")
def test_real_bus_trace_yields_one_trip_per_run_when_loaded_through_the_pipeline(data_dir: Path):
    from orchestration.engine.polling import load_jimi
    from sources.jimi_sim.server import running_simulator
    from sources.jimi_sim.settings import SimSettings

    now = datetime(2026, 1, 27, tzinfo=UTC)
    settings = SimSettings(devices=1, now=now, traces=(str(TRACE),))
    with running_simulator(settings) as url:
        load_jimi(["devices", "track_points"], start=now - timedelta(days=1), end=now, **source_args(url), now=now)
    warehouse = data_dir / "warehouse.duckdb"
    run_dbt(warehouse, "run")

    with TRACE_RUNS.open() as handle:
        runs = [
            (row["imei"], datetime.fromisoformat(row["first_fix"]).replace(tzinfo=UTC),
             datetime.fromisoformat(row["last_fix"]).replace(tzinfo=UTC))
            for row in csv.DictReader(handle)
        ]
    with TRACE.open() as handle:
        points = [
            (row["imei"], datetime.fromisoformat(row["gps_time"]).replace(tzinfo=UTC), float(row["lat"]), float(row["lng"]))
            for row in csv.DictReader(handle)
        ]
    path_km = dict.fromkeys(runs, 0.0)
    for (imei, t1, lat1, lng1), (imei2, t2, lat2, lng2) in itertools.pairwise(points):
        for run in runs:
            if imei == imei2 == run[0] and run[1] <= t1 and t2 <= run[2]:
                path_km[run] += _haversine_km(lat1, lng1, lat2, lng2)
    run_km = sum(path_km.values())

    connection = duckdb_setup.connect(str(warehouse), read_only=True)
    try:
        trips = connection.execute(
            "select imei, started_at, ended_at, distance_km from marts.fct_trips "
            "where source = 'derived' and imei in (select distinct imei from jimi_raw.track_points "
            "where imei like '8681203%')"
        ).fetchall()
        stop_kinds = {row[0] for row in connection.execute(
            "select distinct stop_kind from marts.fct_stops where imei like '8681203%'"
        ).fetchall()}
    finally:
        connection.close()

    def overlapping(trip):
        return [r for r in runs if r[0] == trip[0] and r[1] < trip[2] and trip[1] < r[2]]

    # Every operator run that goes anywhere (the trip minimum: 0.5 km) is driven in at least one derived
    # trip, and no trip spans two runs.
    driven = [r for r in runs if path_km[r] >= 0.5]
    assert len(driven) >= len(runs) - 2
    assert all(any(t[0] == r[0] and r[1] < t[2] and t[1] < r[2] for t in trips) for r in driven)
    assert all(len(overlapping(t)) == 1 for t in trips)
    assert len(runs) <= len(trips) <= len(runs) + 4
    # The trips cover the routes: their distance is the runs' path length, less the halts' jitter.
    derived_km = sum(t[3] for t in trips)
    assert 0.93 * run_km <= derived_km <= run_km + 0.5, (derived_km, run_km, path_km)
    # Buses wait at the termini with the engine on.
    assert stop_kinds == {"idling"}
