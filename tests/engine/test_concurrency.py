"""The warehouse under concurrency: several writers in separate processes and a reader, all at once.

A slow track poll (every track.list answer takes seconds), repeated fleet sweeps, push loads and a dbt build
with a publish run as separate processes, as Dagster runs them, while this process keeps querying the
published marts. Nothing may fail on a DuckDB lock, the sweeps must land while the track poll is still extracting,
and the reader must never see an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from sources import duckdb_setup
from sources.jimi_sim.account import source_env
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.settings import EXACT, SimSettings

ROOT = Path(__file__).resolve().parents[2]
TRACK_LATENCY_S = 10.0

WORKERS = {
    "push": (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from push_samples import land_samples\n"
        "from orchestration.settings import current\n"
        "from orchestration.engine.push_loading import load_pending\n"
        "for _ in range(2):\n"
        "    land_samples(current().landing_dir)\n"
        "    load_pending()"
    ),
    "track": (
        "import time; from orchestration.engine.polling import load_jimi\n"
        "load_jimi(['track_points'], max_workers=1)\n"
        "print(time.time())"
    ),
    "sweep": (
        "import time, json; from orchestration.engine.polling import load_jimi\n"
        "done = []\n"
        "for _ in range(3):\n"
        "    load_jimi(['live_locations']); done.append(time.time()); time.sleep(0.5)\n"
        "print(json.dumps(done))"
    ),
    "transform": (
        "import os, subprocess, sys\n"
        "from orchestration.defs.dbt import TRANSFORM_DIR, DBT_EXECUTABLE\n"
        "from orchestration.engine.warehouse import publish_marts, writer_lock\n"
        "from orchestration.settings import current\n"
        "with writer_lock():\n"
        "    subprocess.run([str(DBT_EXECUTABLE), 'build', '--quiet', '--profiles-dir', str(TRANSFORM_DIR)],"
        " cwd=TRANSFORM_DIR, env={**os.environ, **current().dbt_env()}, check=True)\n"
        "    publish_marts()"
    ),
}


def spawn(code: str, env: dict[str, str]) -> subprocess.Popen:
    # Output goes to files, not pipes: a child writing more than a pipe's buffer (a full dbt build logs
    # ~80 KB) would block until read, and nothing reads before it exits.
    files = (tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+"))  # noqa: SIM115 (closed with the test)
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=files[0], stderr=files[1], text=True
    )
    process.output_files = files  # type: ignore[attr-defined]
    return process


def outputs_of(process: subprocess.Popen) -> tuple[str, str]:
    """(stdout, stderr) of a finished spawn()."""
    process.wait()
    texts = []
    for handle in process.output_files:  # type: ignore[attr-defined]
        handle.seek(0)
        texts.append(handle.read())
    return texts[0], texts[1]


@pytest.fixture
def slow_simulator():
    settings = SimSettings(devices=4, latency_s={"jimi.device.track.list": TRACK_LATENCY_S}, **EXACT)
    with running_simulator(settings) as url:
        yield url


def test_writers_and_reader_never_fail_when_running_at_once(slow_simulator, data_dir):
    env = {
        **os.environ,
        "JIMI_DATA_DIR": str(data_dir),
        "SOURCES__JIMI__INITIAL_DAYS": "1",
        **source_env(slow_simulator),
    }
    # A first history, so dbt has tables to build from and readers have a published copy.
    first = spawn(
        "from orchestration.engine.polling import load_jimi\n"
        "from orchestration.launch.headless import materialize_all\n"
        "assert materialize_all()",
        env,
    )
    assert first.wait(timeout=300) == 0, outputs_of(first)[1][-4000:]

    started = time.time()
    workers = {name: spawn(code, env) for name, code in WORKERS.items()}
    reads, read_errors = 0, []
    while any(worker.poll() is None for worker in workers.values()):
        try:
            connection = duckdb_setup.connect()
            connection.execute(f"attach '{data_dir / 'published' / 'marts.duckdb'}' as marts (read_only)")
            connection.execute("select count(*) from marts.fct_device_days").fetchall()
            connection.close()
            reads += 1
        except duckdb.Error as exc:
            read_errors.append(str(exc))
        time.sleep(0.2)
    finished = time.time()
    outputs = {name: outputs_of(worker) for name, worker in workers.items()}
    for name, worker in workers.items():
        assert worker.returncode == 0, f"{name} failed: {outputs[name][1][-2000:]}"
    assert read_errors == []
    assert reads >= 10
    sweeps_done = json.loads(outputs["sweep"][0].strip().splitlines()[-1])
    track_done = float(outputs["track"][0].strip().splitlines()[-1])
    # Every sweep reached the warehouse within two minutes, while the track poll was still on the API.
    assert len(sweeps_done) == 3
    assert max(sweeps_done) < track_done
    assert max(sweeps_done) - started < 120
    assert finished - started >= TRACK_LATENCY_S * 4
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        duplicates = warehouse.execute(
            "select count(*) from (select imei, gps_time from jimi_raw.track_points group by all having count(*) > 1)"
        ).fetchall()[0][0]
    finally:
        warehouse.close()
    assert duplicates == 0
    push_files = list((data_dir / "landing" / "processed").rglob("*.json"))
    assert len(push_files) == 2 * 23 and not list((data_dir / "landing" / "quarantine").rglob("*.json"))
