"""Push to DuckDB: seconds from a push's acknowledgement to its rows in the warehouse, with the sensor running.

Starts the real thing: `jimi-push serve` and `dagster-daemon` (the push sensor, default RUNNING, every 15 s,
launching `load_push_landing` runs as `make run` would, one at a time). A sender posts a 50-item push every
few seconds; a watcher queries the warehouse (under the writer lock, as every user must) until each push's
rows are there. Reported: p50 and max over the pushes (target p50 <= 60 s: a sensor interval, a run start,
a load — against 30 minutes for the polling schedule).

    python bench/push_latency.py [--pushes 8] [--every 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb
import httpx

from sources import duckdb_setup

TOKEN = "bench-latency-token"
START = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
DEFINITIONS = """
from dagster import Definitions
from orchestration.defs.push import jimi_push_assets, push_landing_sensor, push_load_job

defs = Definitions(assets=[jimi_push_assets], jobs=[push_load_job], sensors=[push_landing_sensor])
"""
DAGSTER_YAML = """
run_queue:
  max_concurrent_runs: 2
  tag_concurrency_limits:
    - key: dagster/concurrency_key
      value:
        applyLimitPerUniqueValue: true
      limit: 1
telemetry:
  enabled: false
"""


def items(number: int) -> str:
    first = START + timedelta(minutes=number)
    return json.dumps(
        [
            {
                "deviceImei": "869247060000000",
                "gpsTime": (first + timedelta(seconds=index)).strftime("%Y-%m-%d %H:%M:%S"),
                "lat": -1.29,
                "lng": 36.82,
                "gpsSpeed": 30,
                "direction": 90,
                "acc": 1,
                "postType": 1,
                "satelliteNum": 9,
            }
            for index in range(50)
        ]
    )


def loaded_pushes(warehouse: Path) -> set[int]:
    """Which pushes have all their rows in the warehouse (read under the writer lock)."""
    from orchestration.engine.warehouse import writer_lock

    if not warehouse.exists():
        return set()
    with writer_lock():
        connection = duckdb_setup.connect(str(warehouse), read_only=True)
        try:
            rows = connection.execute(
                "select date_diff('minute', ?::timestamptz, gps_time) as n, count(*) from jimi_push_raw.gps_fixes group by n",
                [START],
            ).fetchall()
        except duckdb.CatalogException:
            return set()
        finally:
            connection.close()
    return {number for number, count in rows if count == 50}


def session_members(session: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == session:
                    members.append(int(entry))
            except OSError:
                continue
    return members


def stop_session(process, grace_s: float = 30.0) -> None:
    """Stop a child started in its own session and everything it launched (the daemon's run workers)."""
    from orchestration.launch.processes import stop

    stop(process)
    deadline = time.monotonic() + grace_s
    while session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in session_members(process.pid):
        os.kill(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=8)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="push-latency-", ignore_cleanup_errors=True) as tmp:
        data, home = Path(tmp) / "data", Path(tmp) / "dagster"
        home.mkdir()
        (home / "dagster.yaml").write_text(textwrap.dedent(DAGSTER_YAML))
        (Path(tmp) / "definitions.py").write_text(DEFINITIONS)
        os.environ.update(
            {"JIMI_DATA_DIR": str(data), "DAGSTER_HOME": str(home), "RUNTIME__DLTHUB_TELEMETRY": "false"}
        )
        from orchestration.launch.processes import BIN, free_port, spawn, wait_until_up
        from orchestration.settings import current

        port = free_port()
        receiver = spawn(
            [
                sys.executable,
                "-m",
                "sources.jimi_push",
                "serve",
                "--port",
                str(port),
                "--landing",
                str(current().landing_dir),
            ],
            env={"JIMI_PUSH_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)},
        )
        daemon = spawn(
            [str(BIN / "dagster-daemon"), "run", "-f", str(Path(tmp) / "definitions.py"), "-d", str(ROOT)],
            env={"PYTHONPATH": str(ROOT)},
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/health", receiver)
            time.sleep(20)  # let the daemon load the code location and start ticking
            acknowledged: dict[int, float] = {}
            visible: dict[int, float] = {}
            next_push, deadline = 0, time.monotonic() + args.timeout
            last_sent = 0.0
            while len(visible) < args.pushes and time.monotonic() < deadline:
                if next_push < args.pushes and time.monotonic() - last_sent >= args.every:
                    answer = httpx.post(
                        f"http://127.0.0.1:{port}/pushgps",
                        data={"token": TOKEN, "data_list": items(next_push)},
                        timeout=10,
                    )
                    assert answer.json() == {"code": 0, "msg": "success"}, answer.text
                    acknowledged[next_push] = last_sent = time.monotonic()
                    next_push += 1
                for number in loaded_pushes(current().warehouse_path) - set(visible):
                    visible[number] = time.monotonic()
                time.sleep(0.5)
        finally:
            stop_session(daemon)
            stop_session(receiver)
    latencies = sorted(visible[number] - acknowledged[number] for number in visible)
    print(
        f"{len(visible)} of {args.pushes} pushes in DuckDB; seconds from acknowledgement: {[round(value, 1) for value in latencies]}"
    )
    if len(visible) < args.pushes:
        print("push_to_duckdb_p50_s: inf (target <= 60)")
        return
    print(f"p50 {statistics.median(latencies):.1f} s, max {latencies[-1]:.1f} s")
    print(f"push_to_duckdb_p50_s: {statistics.median(latencies):.1f} (target <= 60)")


if __name__ == "__main__":
    main()
