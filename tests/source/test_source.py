"""The dlt source against a live simulator: exact rows, incremental runs, bounded windows, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dlt
import pytest

from orchestration.engine.pipelines import run_source
from sources import duckdb_setup
from sources.jimi import jimi_source
from sources.jimi_sim.account import source_args
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.settings import EXACT, SimSettings

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# No late, duplicate or reordered fixes: every fix is served as soon as it exists.
SETTINGS = SimSettings(devices=4, now=NOW, **EXACT)


@pytest.fixture
def sim():
    app = create_app(SETTINGS)
    with running_simulator(SETTINGS, app=app) as url:
        yield url, app.state.sim


@pytest.fixture
def pipeline(data_dir):
    return dlt.pipeline(
        pipeline_name="jimi_test",
        destination=dlt.destinations.duckdb(
            credentials=duckdb_setup.dlt_credentials(data_dir / "warehouse.duckdb")
        ),
        dataset_name="jimi_raw",
        pipelines_dir=str(data_dir / "dlt"),
    )


def source(url: str, now: datetime, **kwargs):
    return jimi_source(**source_args(url), now=now, initial_days=1, **kwargs).with_resources("track_points")


def loaded_points(pipeline) -> list[tuple[str, datetime]]:
    with pipeline.sql_client() as client:
        rows = client.execute_sql("select imei, gps_time from jimi_raw.track_points order by imei, gps_time")
    return [(imei, moment.astimezone(UTC)) for imei, moment in rows]


def truth(fleet, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """The simulator's fixes with start <= time <= end, as the API's inclusive window returns them."""
    points = []
    for device in fleet.devices:
        points += [
            (device.imei, p.gps_time) for p in fleet.points(device.imei, start, end + timedelta(seconds=1))
        ]
    return sorted(set(points))


def test_source_loads_exactly_the_simulated_fixes_when_first_run(sim, pipeline):
    url, state = sim
    run_source(pipeline, source(url, NOW))
    expected = truth(state.fleet, NOW - timedelta(days=1), NOW)
    assert len(expected) > 500
    assert loaded_points(pipeline) == expected


def test_source_loads_only_new_points_when_run_again_later(sim, pipeline):
    url, state = sim
    run_source(pipeline, source(url, NOW))
    later = state.clock.advance(3600)
    summary = run_source(pipeline, source(url, later))
    expected = truth(state.fleet, NOW - timedelta(days=1), later)
    assert loaded_points(pipeline) == expected
    # The second run re-read only the last hour plus the 35-minute lookback.
    reread = truth(state.fleet, NOW - timedelta(minutes=35), later)
    assert summary.rows_by_table["track_points"] == len(reread)
    cursors = pipeline.state["sources"]["jimi"]["resources"]["track_points"]["polled_until"]
    assert set(cursors.values()) == {later.isoformat()}


def test_source_adds_no_duplicates_when_window_rerun(sim, pipeline):
    url, state = sim
    start, end = NOW - timedelta(days=9), NOW - timedelta(days=1)
    run_source(pipeline, source(url, NOW, start=start, end=end))
    first = loaded_points(pipeline)
    run_source(pipeline, source(url, NOW, start=start, end=end))
    assert loaded_points(pipeline) == first == truth(state.fleet, start, end)


def test_source_leaves_cursors_untouched_when_window_bounded(sim, pipeline):
    url, _ = sim
    run_source(pipeline, source(url, NOW))
    before = pipeline.state["sources"]["jimi"]["resources"]["track_points"]["polled_until"]
    run_source(pipeline, source(url, NOW, start=NOW - timedelta(days=5), end=NOW - timedelta(days=4)))
    after = pipeline.state["sources"]["jimi"]["resources"]["track_points"]["polled_until"]
    assert after == before == {imei: NOW.isoformat() for imei in before}
    assert len(before) == 4


def test_source_merges_devices_on_imei_when_run_twice(sim, pipeline):
    url, state = sim
    devices_only = jimi_source(**source_args(url), now=NOW).with_resources("devices")
    run_source(pipeline, devices_only)
    run_source(pipeline, jimi_source(**source_args(url), now=NOW).with_resources("devices"))
    with pipeline.sql_client() as client:
        rows = client.execute_sql("select imei, device_name, enabled from jimi_raw.devices order by imei")
    assert rows == sorted((d.imei, d.device_name, d.enabled) for d in state.fleet.devices)


def test_source_types_columns_when_loaded(sim, pipeline):
    url, _ = sim
    run_source(pipeline, source(url, NOW))
    path = pipeline.destination_client().config.credentials.database
    pipeline_types = duckdb_setup.connect(path, read_only=True)
    try:
        types = dict(
            pipeline_types.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'jimi_raw' and table_name = 'track_points' and column_name not like '_dlt%'"
            ).fetchall()
        )
    finally:
        pipeline_types.close()
    assert types == {
        "imei": "VARCHAR",
        "gps_time": "TIMESTAMP WITH TIME ZONE",
        "lat": "DOUBLE",
        "lng": "DOUBLE",
        "speed_kmh": "DOUBLE",
        "direction_deg": "DOUBLE",
        "pos_type": "SMALLINT",
        "satellites": "SMALLINT",
        "acc_on": "BOOLEAN",
        "ignition_on": "BOOLEAN",
        "altitude_m": "DOUBLE",
    }


def test_load_jimi_loads_exact_window_when_backfilling(sim, data_dir):
    from orchestration.engine.polling import load_jimi

    url, state = sim
    start, end = NOW - timedelta(days=20), NOW - timedelta(days=2)
    summary = load_jimi(["track_points"], start=start, end=end, **source_args(url), now=NOW)
    expected = truth(state.fleet, start, end)
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rows = warehouse.execute("select imei, gps_time from jimi_raw.track_points order by 1, 2").fetchall()
    finally:
        warehouse.close()
    assert [(imei, moment.astimezone(UTC)) for imei, moment in rows] == expected
    # 18 days in 7-day windows: 3 track.list calls for each of 4 devices, a device list and one login.
    assert summary.api_calls == 3 * 4 + 1 + 1
    assert sorted(path.name for path in (data_dir / "dlt").iterdir()) == []
