"""The polling source when the API misbehaves: injected faults, a killed load, racing logins, late fixes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dlt
import pytest

from orchestration.engine.pipelines import run_source
from orchestration.engine.polling import load_jimi
from orchestration.engine.warehouse import writer_lock
from sources import duckdb_setup
from sources.jimi import KEYS, jimi_source
from sources.jimi_sim.account import source_args, source_env
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.faults import parse_faults
from sources.jimi_sim.settings import EXACT, SimSettings

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FAULTS = "rate_limit=0.03,busy=0.05,http_5xx=0.05,truncated=0.05,reset=0.03,token_revoked=0.01,hang=0.01"


def snapshot(path: Path) -> dict[str, list[tuple]]:
    connection = duckdb_setup.connect(str(path), read_only=True)
    try:
        out = {}
        for name, key in KEYS.items():
            columns = [
                column
                for (column,) in connection.execute(
                    "select column_name from information_schema.columns where table_schema = 'jimi_raw' "
                    # source_account names each side's simulator URL (a port of its own).
                    "and table_name = ? and not starts_with(column_name, '_dlt') and column_name <> 'source_account' "
                    "order by column_name",
                    [name],
                ).fetchall()
            ]
            if not columns:
                continue  # no rows of this kind in the window: dlt creates no table
            out[name] = connection.execute(
                f"select {', '.join(columns)} from jimi_raw.{name} order by {', '.join(key)}"
            ).fetchall()
    finally:
        connection.close()
    return out


def load_all(settings: SimSettings, folder: Path, **options):
    app = create_app(settings)
    with running_simulator(settings, app=app) as url:
        pipeline = dlt.pipeline(
            pipeline_name="faults",
            destination=dlt.destinations.duckdb(
                credentials=duckdb_setup.dlt_credentials(folder / "warehouse.duckdb")
            ),
            dataset_name="jimi_raw",
            pipelines_dir=str(folder / "dlt"),
        )
        source = jimi_source(
            **source_args(url), now=NOW, initial_days=3, token_dir=str(folder / "tokens"), **options
        )
        run_source(pipeline, source)
    return snapshot(folder / "warehouse.duckdb")


def test_source_loads_exactly_the_fault_free_rows_when_faults_injected(tmp_path):
    base = SimSettings(devices=6, now=NOW, token_get_min_interval_s=0, **EXACT)
    clean = load_all(base, tmp_path / "clean")
    faulty_settings = SimSettings(
        devices=6, now=NOW, token_get_min_interval_s=0, faults=parse_faults(FAULTS), hang_s=3.0, **EXACT
    )
    faulty = load_all(faulty_settings, tmp_path / "faulty", max_attempts=12, backoff_s=0.01, timeout_s=1.0)
    assert {name: len(rows) for name, rows in faulty.items()} == {
        name: len(rows) for name, rows in clean.items()
    }
    assert faulty == clean


def test_load_loses_and_duplicates_nothing_when_killed_mid_load_and_rerun(data_dir, monkeypatch):
    settings = SimSettings(devices=4, **EXACT)
    app = create_app(settings)
    with running_simulator(settings, app=app) as url:
        for name, value in source_env(url).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SOURCES__JIMI__INITIAL_DAYS", "1")
        started = datetime.now(UTC).replace(microsecond=0)
        load_jimi(["track_points"])
        pending = data_dir / "dlt" / "jimi_track_points" / "load" / "normalized"
        with writer_lock():
            # The writer lock is ours, so the child extracts and normalizes, then waits to load: kill it there.
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from orchestration.engine.polling import load_jimi; load_jimi(['track_points'])",
                ],
                cwd=ROOT,
                env=dict(os.environ),
            )
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(pending.glob("*")):
                time.sleep(0.1)
            assert any(pending.glob("*")), "the child never got as far as a normalized package"
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        rerun_at = datetime.now(UTC)  # fixes recorded after the rerun read the API cannot be in the warehouse
        load_jimi(["track_points"])
        assert not any(pending.glob("*"))
        finished = datetime.now(UTC)
        fleet = app.state.sim.fleet
        expected = set()
        for device in fleet.devices:
            expected |= {
                (device.imei, p.gps_time)
                for p in fleet.points(device.imei, started - timedelta(days=1), finished)
            }
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rows = warehouse.execute("select imei, gps_time from jimi_raw.track_points").fetchall()
    finally:
        warehouse.close()
    loaded = [(imei, moment.astimezone(UTC)) for imei, moment in rows]
    assert len(loaded) == len(set(loaded))
    # The first run reads its clock a little after `started` (slower on a busy machine): leave a margin.
    first_start = started - timedelta(days=1) + timedelta(minutes=5)
    assert {point for point in expected if first_start <= point[1] < rerun_at} <= set(loaded)
    assert set(loaded) <= expected


def test_concurrent_runs_log_in_once_when_token_cache_shared(tmp_path):
    settings = SimSettings(devices=3, **EXACT)
    app = create_app(settings)
    issued = []
    original = app.state.sim.tokens.issue

    def counting_issue(*args, **kwargs):
        issued.append(time.monotonic())
        return original(*args, **kwargs)

    app.state.sim.tokens.issue = counting_issue
    code = (
        "import sys; from sources.jimi import jimi_source; from sources.jimi_sim.account import source_args\n"
        "source = jimi_source(**source_args(sys.argv[1]), token_dir=sys.argv[2]).with_resources('devices')\n"
        "rows = list(source)\n"
        "assert len(rows) == 3, rows"
    )
    with running_simulator(settings, app=app) as url:
        children = [
            subprocess.Popen(
                [sys.executable, "-c", code, url, str(tmp_path / "tokens")], cwd=ROOT, stderr=subprocess.PIPE
            )
            for _ in range(3)
        ]
        results = [(child.wait(timeout=120), child.stderr.read().decode()) for child in children]
    assert [code for code, _ in results] == [0, 0, 0], results
    assert len(issued) == 1


@pytest.mark.parametrize("catch_up", [False, True])
def test_catch_up_picks_up_late_fixes_when_incremental_missed_them(tmp_path, catch_up):
    settings = SimSettings(
        devices=4,
        now=NOW,
        token_get_min_interval_s=0,
        late_share=0.3,
        late_median_s=4 * 3600,
        late_max_s=86400,
        duplicate_share=0.0,
        disorder_share=0.0,
    )
    app = create_app(settings)
    clock = app.state.sim.clock
    pipeline = dlt.pipeline(
        pipeline_name="late",
        destination=dlt.destinations.duckdb(
            credentials=duckdb_setup.dlt_credentials(tmp_path / "warehouse.duckdb")
        ),
        dataset_name="jimi_raw",
        pipelines_dir=str(tmp_path / "dlt"),
    )
    with running_simulator(settings, app=app) as url:

        def run(moment: datetime, **args):
            source = jimi_source(
                **source_args(url), now=moment, initial_days=1, token_dir=str(tmp_path / "tokens"), **args
            )
            run_source(pipeline, source.with_resources("track_points"))

        run(NOW)
        later = clock.advance(2 * 86400)
        run(later)
        if catch_up:
            run(later, catch_up_days=7)
        fleet = app.state.sim.fleet
        window = (NOW - timedelta(days=1), NOW)
        expected = set()
        for device in fleet.devices:
            expected |= {(device.imei, p.gps_time) for p in fleet.points(device.imei, *window)}
    connection = duckdb_setup.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        rows = connection.execute("select imei, gps_time from jimi_raw.track_points").fetchall()
    finally:
        connection.close()
    loaded = {(imei, moment.astimezone(UTC)) for imei, moment in rows if window[0] <= moment < window[1]}
    if catch_up:
        assert loaded == expected
    else:
        # Without the catch-up, the fixes that arrived after the first poll stay missing.
        assert len(expected - loaded) > 100
