"""Durability: `jimi-push serve` killed with SIGKILL right after an acknowledgement loses no acknowledged item."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import httpx
import pytest

from orchestration import settings as project
from orchestration.engine.push_loading import load_pending
from orchestration.launch.processes import free_port, spawn, wait_until_up
from sources import duckdb_setup
from sources.jimi_push import settings

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

TOKEN = "crash-test-token"
IMEI = "869247060001739"
START = datetime(2025, 3, 4, 6, 0, tzinfo=UTC)
ITEMS_PER_PAYLOAD = 50


def gps_time(payload: int, index: int) -> datetime:
    return START + timedelta(seconds=payload * ITEMS_PER_PAYLOAD + index)


def payload(number: int) -> str:
    return json.dumps(
        [
            {
                "deviceImei": IMEI,
                "gpsTime": gps_time(number, index).strftime("%Y-%m-%d %H:%M:%S"),
                "gateTime": "2025-03-04 07:00:00",
                "lat": -1.29,
                "lng": 36.82,
                "gpsSpeed": 40,
                "direction": 90,
                "acc": 1,
                "postType": 1,
                "satelliteNum": 9,
            }
            for index in range(ITEMS_PER_PAYLOAD)
        ]
    )


def post(base: str, number: int) -> bool:
    """True only for an acknowledgement; a connection cut by the kill is no acknowledgement."""
    try:
        response = httpx.post(
            f"{base}/pushgps", data={"token": TOKEN, "data_list": payload(number)}, timeout=10
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json() == {"code": 0, "msg": "success"}


def start_receiver(landing: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = spawn(
        [sys.executable, "-m", "sources.jimi_push", "serve", "--port", str(port), "--landing", str(landing)],
        env={settings.TOKEN_ENV: TOKEN},
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health", process, timeout_s=30)
    return process, base


def test_every_acknowledged_item_loads_exactly_once_when_receiver_is_killed_and_restarted(data_dir: Path):
    landing = project.current().landing_dir
    numbers = count()
    acknowledged: list[int] = []
    attempted: list[int] = []
    lock, enough, stop = threading.Lock(), threading.Event(), threading.Event()
    process, base = start_receiver(landing)
    try:

        def sender() -> None:
            while not stop.is_set():
                with lock:
                    number = next(numbers)
                    attempted.append(number)
                if post(base, number):
                    with lock:
                        acknowledged.append(number)
                        if len(acknowledged) >= 30:
                            enough.set()

        threads = [threading.Thread(target=sender) for _ in range(8)]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=60)
        os.kill(process.pid, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    killed_at = len(acknowledged)
    process, base = start_receiver(landing)
    try:
        for _ in range(10):
            number = next(numbers)
            attempted.append(number)
            assert post(base, number)
            acknowledged.append(number)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    summary = load_pending()
    connection = duckdb_setup.connect(str(project.current().warehouse_path), read_only=True)
    try:
        rows = connection.execute(
            "select gps_time, count(*) from jimi_push_raw.gps_fixes group by gps_time"
        ).fetchall()
    finally:
        connection.close()
    loaded = {moment: copies for moment, copies in rows}
    expected = {gps_time(number, index) for number in acknowledged for index in range(ITEMS_PER_PAYLOAD)}
    possible = {gps_time(number, index) for number in attempted for index in range(ITEMS_PER_PAYLOAD)}
    assert killed_at >= 30 and len(acknowledged) == killed_at + 10
    assert expected <= set(loaded) <= possible
    assert set(loaded.values()) == {1}
    assert summary.quarantined == {}
    assert (
        sorted(file.parts[len(landing.parts)] for file in landing.rglob("*.json"))
        == [settings.PROCESSED_DIR] * summary.files_loaded
    )
