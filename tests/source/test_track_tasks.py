"""How track.list work is cut into per-window tasks and when a device's cursor may move (sources/jimi/windows.py),
and what the source does with a device the API refuses mid-run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dlt
import pytest

from orchestration.engine.pipelines import run_source
from sources import duckdb_setup
from sources.jimi import jimi_source
from sources.jimi.errors import JimiDeviceError
from sources.jimi.resources import positions
from sources.jimi.windows import DeviceProgress, window_tasks
from sources.jimi_sim.account import source_args
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.settings import EXACT, SimSettings

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def test_window_tasks_deal_windows_round_robin_with_longest_first_when_ranges_differ():
    plans = {"a": (NOW - 16 * DAY, NOW), "b": (NOW - 7 * DAY, NOW), "c": (NOW - 3 * DAY, NOW)}
    assert window_tasks(plans, WEEK) == [
        ("a", NOW - 16 * DAY, NOW - 9 * DAY),
        ("b", NOW - 7 * DAY, NOW),
        ("a", NOW - 9 * DAY, NOW - 2 * DAY),
        ("c", NOW - 3 * DAY, NOW),
        ("a", NOW - 2 * DAY, NOW),
    ]


def test_window_tasks_are_empty_when_no_device_has_a_range():
    assert window_tasks({}, WEEK) == []
    assert window_tasks({"a": (NOW, NOW)}, WEEK) == []


def test_device_completes_only_after_its_last_window_is_consumed():
    progress = DeviceProgress([("a", NOW, NOW), ("b", NOW, NOW), ("a", NOW, NOW)])
    assert [progress.consumed("a"), progress.consumed("b"), progress.consumed("a")] == [False, True, True]


def test_device_never_completes_when_skipped():
    progress = DeviceProgress([("a", NOW, NOW), ("a", NOW, NOW)])
    progress.consumed("a")
    progress.skip("a")
    assert (progress.skipped("a"), progress.skipped("b"), progress.consumed("a")) == (True, False, False)


@pytest.fixture
def sim_url():
    with running_simulator(SimSettings(devices=4, now=NOW, **EXACT)) as url:
        yield url


def test_refused_device_keeps_its_cursor_and_is_not_called_again_when_others_load(
    sim_url, data_dir, monkeypatch
):
    """10 days from no cursor are a 7-day and a 3-day window per device; one worker takes them in order, so
    the refused device's second window is skipped without a call and only the others' cursors move."""
    fetch, calls = positions.fetch_track, []

    def refusing(client, imei, begin, end):
        calls.append((imei, end - begin))
        if len(calls) == 1:
            raise JimiDeviceError("jimi.device.track.list", 1002, "The device has expired", imei)
        return fetch(client, imei, begin, end)

    monkeypatch.setattr(positions, "fetch_track", refusing)
    pipeline = dlt.pipeline(
        pipeline_name="jimi_refused",
        destination=dlt.destinations.duckdb(
            credentials=duckdb_setup.dlt_credentials(data_dir / "warehouse.duckdb")
        ),
        dataset_name="jimi_raw",
        pipelines_dir=str(data_dir / "dlt"),
    )
    source = jimi_source(**source_args(sim_url), now=NOW, initial_days=10, max_workers=1).with_resources(
        "track_points"
    )
    run_source(pipeline, source)
    refused, *others = [imei for imei, _ in calls[:4]]
    assert [span for _, span in calls] == [WEEK] * 4 + [3 * DAY] * 3
    assert [imei for imei, _ in calls[4:]] == others and refused not in others
    cursors = pipeline.state["sources"]["jimi"]["resources"]["track_points"]["polled_until"]
    assert cursors == {imei: NOW.isoformat() for imei in others}
    with pipeline.sql_client() as client:
        loaded = {imei for (imei,) in client.execute_sql("select distinct imei from jimi_raw.track_points")}
    assert loaded == set(others)
