"""The position, trip and stop marts: exact invariants on the demo data, reconciliation on a crafted case,
accuracy against the simulator's ground truth, and a real bus trace."""

from __future__ import annotations

import csv
import itertools
import math
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from marts_support import run_dbt

from bench.martscore import score_marts
from sources import duckdb_setup
from sources.jimi_sim.account import source_args

TRACE = Path("/work/shared/data/real-traces/liverpool_route14.csv")
TRACE_RUNS = TRACE.with_name("liverpool_route14_runs.csv")
# A parked car's GPS drift: ignition off, 0-4 km/h, 20 m wander for 12 hours (tests/traces/make_parked_drift.py).
DRIFT_TRACE = Path(__file__).resolve().parents[1] / "traces" / "parked_drift.csv"
DRIFT_IMEI = "359000000000007"


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


DAYS_VS_TRIPS = """
with trips as (
    select imei, start_date, cast(distance_km as decimal(18, 3)) as km, driving_s,
           cast(timezone('UTC', ended_at - interval 1 second) as date) > start_date as crosses
    from marts.fct_trips
),
by_start as (
    select imei, start_date as activity_date, sum(km) as km, sum(driving_s) as driving, count(*) as trips
    from trips group by all
),
crossed as (
    -- The days a trip over midnight touches: there the days split it, so only the total can agree.
    select distinct imei, start_date + cast(d as integer) as activity_date from trips, range(0, 2) as r(d) where crosses
),
days as (
    select imei, activity_date, cast(distance_km as decimal(18, 3)) as km, driving_seconds as driving,
           trip_count as trips
    from marts.fct_device_days
)
select imei, activity_date, days.km, coalesce(by_start.km, 0), days.driving, coalesce(by_start.driving, 0),
       days.trips, coalesce(by_start.trips, 0), crossed.imei is not null
from days
full join by_start using (imei, activity_date)
left join crossed using (imei, activity_date)
order by imei, activity_date
"""


def test_device_days_equal_the_sums_of_fct_trips_per_device_and_day_when_built_on_demo_data(warehouse):
    """Distance (to the metre, as decimals), driving seconds and trip count of every device and day are
    fct_trips' own sums by start day; a day a trip over midnight touches shares it, so there only the
    device's totals are compared, and those exactly too."""
    rows = warehouse.execute(DAYS_VS_TRIPS).fetchall()
    assert len(rows) >= 30 and len({row[0] for row in rows}) == 6
    differing = [row for row in rows if not row[8] and row[2:8:2] != row[3:8:2]]
    assert differing == []
    # Driving days with trips, not just empty ones, were compared.
    assert sum(1 for row in rows if not row[8] and row[6] > 0) >= 15
    totals = warehouse.execute(
        """
        select imei, d.km, coalesce(t.km, 0), d.driving, coalesce(t.driving, 0), d.trips, coalesce(t.trips, 0)
        from (select imei, sum(cast(distance_km as decimal(18, 3))) as km, sum(driving_seconds) as driving,
                     sum(trip_count) as trips
              from marts.fct_device_days group by imei) d
        left join (select imei, sum(cast(distance_km as decimal(18, 3))) as km, sum(driving_s) as driving,
                          count(*) as trips
                   from marts.fct_trips group by imei) t using (imei)
        """
    ).fetchall()
    assert len(totals) == 6
    assert [row for row in totals if row[1:7:2] != row[2:7:2]] == []
    assert (
        sum(row[5] for row in totals)
        == warehouse.execute("select count(*) from marts.fct_trips").fetchone()[0]
    )


def test_device_day_seconds_fit_in_the_day_when_built_on_demo_data(warehouse):
    seconds = warehouse.execute(
        "select max(driving_seconds + idle_seconds + parked_seconds), max(data_coverage_share) from marts.fct_device_days"
    ).fetchone()
    assert seconds[0] <= 86400 and seconds[1] <= 1.0


def test_every_device_has_one_status_and_freshness_row_when_built_on_demo_data(warehouse):
    devices = {row[0] for row in warehouse.execute("select imei from marts.dim_devices").fetchall()}
    status = warehouse.execute(
        "select imei, last_fixed_at, motion_state from marts.device_latest_status"
    ).fetchall()
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
            row[0]
            for row in connection.execute(
                "select trip_id from marts.fct_trips where is_distance_mismatch"
            ).fetchall()
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
            row[0]
            for row in connection.execute(
                "select trip_id from marts.fct_trips where is_distance_mismatch"
            ).fetchall()
        }
    finally:
        connection.close()
    assert flags == {picked[0][0]: (True, True), picked[1][0]: (True, False)}
    assert flagged_after == flagged_before | {picked[0][0], picked[1][0]}


def test_marts_match_the_ground_truth_when_scored_on_demo_data(demo_data: Path, tmp_path: Path):
    from sources.jimi_sim.settings import SimSettings
    from sources.jimi_sim.truth import export_truth
    from sources.jimi_sim.world.fleet import Fleet

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
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.mark.skipif(not TRACE.exists(), reason="real traces not available")
def test_real_bus_trace_yields_one_trip_per_run_when_loaded_through_the_pipeline(data_dir: Path):
    from orchestration.engine.polling import load_jimi
    from sources.jimi_sim.api.server import running_simulator
    from sources.jimi_sim.settings import SimSettings

    now = datetime(2026, 1, 27, tzinfo=UTC)
    settings = SimSettings(devices=1, now=now, traces=(str(TRACE),))
    with running_simulator(settings) as url:
        load_jimi(
            ["devices", "track_points"], start=now - timedelta(days=1), end=now, **source_args(url), now=now
        )
    warehouse = data_dir / "warehouse.duckdb"
    run_dbt(warehouse, "run")

    with TRACE_RUNS.open() as handle:
        runs = [
            (
                row["imei"],
                datetime.fromisoformat(row["first_fix"]).replace(tzinfo=UTC),
                datetime.fromisoformat(row["last_fix"]).replace(tzinfo=UTC),
            )
            for row in csv.DictReader(handle)
        ]
    with TRACE.open() as handle:
        points = [
            (
                row["imei"],
                datetime.fromisoformat(row["gps_time"]).replace(tzinfo=UTC),
                float(row["lat"]),
                float(row["lng"]),
            )
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
        stop_kinds = {
            row[0]
            for row in connection.execute(
                "select distinct stop_kind from marts.fct_stops where imei like '8681203%'"
            ).fetchall()
        }
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


def _drift_report_trips_standing(warehouse: Path, reported) -> set[str]:
    """The report trips the device's loaded fixes do not show parked: some fix missing within 600 s of the
    start or end, a gap over 600 s, or a fix more than 100 m from the fixes' mean (the rule, independently)."""
    connection = duckdb_setup.connect(str(warehouse), read_only=True)
    try:
        fixes = connection.execute(
            "select distinct gps_time, lat, lng from jimi_raw.track_points where imei = ? order by gps_time",
            [DRIFT_IMEI],
        ).fetchall()
    finally:
        connection.close()
    standing = set()
    for trip in reported:
        before = [f for f in fixes if trip.start_time - timedelta(seconds=600) <= f[0] <= trip.start_time]
        after = [f for f in fixes if trip.end_time <= f[0] <= trip.end_time + timedelta(seconds=600)]
        span = [f for f in fixes if before and after and before[-1][0] <= f[0] <= after[0][0]]
        lat, lng = (sum(f[i] for f in span) / len(span) for i in (1, 2)) if span else (0.0, 0.0)
        if (
            not span
            or any((b[0] - a[0]).total_seconds() > 600 for a, b in itertools.pairwise(span))
            or any(_haversine_km(lat, lng, f[1], f[2]) * 1000 > 100 for f in span)
        ):
            standing.add(f"{DRIFT_IMEI}_a_{int(trip.start_time.timestamp())}")
    return standing


def _drift_marts(warehouse: Path) -> dict[str, object]:
    connection = duckdb_setup.connect(str(warehouse), read_only=True)
    try:
        return {
            "api_trips": connection.execute(
                "select count(*) from jimi_raw.trips where imei = ?", [DRIFT_IMEI]
            ).fetchone()[0],
            "trips": {
                row[0]: row[1:]
                for row in connection.execute(
                    "select trip_id, source, distance_km, driving_s from marts.fct_trips where imei = ?",
                    [DRIFT_IMEI],
                ).fetchall()
            },
            "rejected": {
                row[0]: row[1:]
                for row in connection.execute(
                    "select trip_id, started_at, ended_at, distance_km, source, rejection_reason, max_fix_gap_s, spread_m "
                    "from marts.fct_rejected_report_trips where imei = ?",
                    [DRIFT_IMEI],
                ).fetchall()
            },
            "days": connection.execute(
                "select activity_date, distance_km, driving_seconds, idle_seconds, parked_seconds, trip_count, "
                "stop_count from marts.fct_device_days where imei = ? order by activity_date",
                [DRIFT_IMEI],
            ).fetchall(),
            "stops": connection.execute(
                "select started_at, ended_at, stop_kind from marts.fct_stops where imei = ? and source = 'derived'",
                [DRIFT_IMEI],
            ).fetchall(),
        }
    finally:
        connection.close()


def test_parked_drift_trace_yields_no_trip_once_its_fixes_are_in_when_loaded_through_the_pipeline(
    data_dir: Path,
):
    """The simulator's mileage report counts the drift as short trips (as real platforms do). While some of
    the device's fixes are still late, the report trips over those gaps stand; once every fix is in, the
    fixes cover each report trip densely in one place, so none is a trip, and the days agree with that."""
    from orchestration.engine.polling import load_jimi
    from sources.jimi_sim.api.app import create_app
    from sources.jimi_sim.api.server import running_simulator
    from sources.jimi_sim.settings import SimSettings
    from sources.jimi_sim.world.trace import load_traces

    start, end = datetime(2026, 1, 20, tzinfo=UTC), datetime(2026, 1, 22, tzinfo=UTC)
    warehouse = data_dir / "warehouse.duckdb"
    reported = load_traces([str(DRIFT_TRACE)])[DRIFT_IMEI].trips
    report_ids = {f"{DRIFT_IMEI}_a_{int(trip.start_time.timestamp())}" for trip in reported}
    # The report has the drift as 76 short trips, 2.17 km in all.
    assert len(reported) == 76 and round(sum(trip.distance_km for trip in reported), 2) == 2.17

    # Right after the night some blocks of fixes are still late (they arrive up to 7 days late).
    # One simulator (one account) throughout; its clock moves on a week for the second load.
    settings = SimSettings(devices=1, now=end, traces=(str(DRIFT_TRACE),))
    app = create_app(settings)
    with running_simulator(settings, app=app) as url:
        load_jimi(
            ["devices", "track_points", "trips", "parking"], start=start, end=end, **source_args(url), now=end
        )
        run_dbt(warehouse, "run")
        early = _drift_marts(warehouse)
        standing = _drift_report_trips_standing(warehouse, reported)
        assert early["api_trips"] == 76 and 0 < len(standing) < 76
        assert set(early["trips"]) == standing and set(early["rejected"]) == report_ids - standing
        assert {row[0] for row in early["trips"].values()} == {"api_mileage"}
        # The days count exactly the trips that stand (driving inside the one derived stop is not parking).
        assert sum(day[2] for day in early["days"]) == sum(row[2] for row in early["trips"].values())
        assert sum(day[5] for day in early["days"]) == len(standing)
        assert round(sum(day[1] for day in early["days"]), 3) == round(
            sum(row[1] for row in early["trips"].values()), 3
        )

        # A week later every fix has arrived; the window is loaded again and the marts built incrementally.
        now = app.state.sim.clock.advance(8 * 86400)
        load_jimi(["track_points", "trips", "parking"], start=start, end=end, **source_args(url), now=now)
    run_dbt(warehouse, "run")
    marts = _drift_marts(warehouse)

    assert _drift_report_trips_standing(warehouse, reported) == set()
    assert marts["api_trips"] == 76 and marts["trips"] == {}
    assert set(marts["rejected"]) == report_ids
    assert {row[:3] for row in marts["rejected"].values()} == {
        (trip.start_time, trip.end_time, round(trip.distance_km, 3)) for trip in reported
    }
    assert {row[3:5] for row in marts["rejected"].values()} == {("api_mileage", "stationary_fixes")}
    assert max(row[5] for row in marts["rejected"].values()) == 60
    assert max(row[6] for row in marts["rejected"].values()) <= 25
    # The fixes make one parking stop over the 12 hours; the two days have no distance and no driving.
    assert marts["stops"] == [
        (datetime(2026, 1, 20, 18, tzinfo=UTC), datetime(2026, 1, 21, 6, tzinfo=UTC), "parking")
    ]
    assert marts["days"] == [
        (date(2026, 1, 20), 0.0, 0, 0, 21600, 0, 1),
        (date(2026, 1, 21), 0.0, 0, 0, 21600, 0, 0),
    ]
    # The incremental build equals a full one.
    full = data_dir / "full.duckdb"
    shutil.copy(warehouse, full)
    run_dbt(full, "run", "--full-refresh")
    assert _drift_marts(full) == marts
