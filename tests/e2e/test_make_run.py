"""A real `make run` (`orchestration.live`): the first history is a run of the UI's own instance, and what the
UI shows afterwards; then a Ctrl-C, and a second one during the shutdown, leave no process behind.

One real start of the simulator, the push receiver and `dagster dev` (tens of seconds on an idle machine).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from process_support import in_group, parent_of, wait_for

from orchestration.launch.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


ASSETS_QUERY = """
{
  assetNodes {
    assetKey { path }
    assetMaterializations(limit: 1) { runId }
    assetPartitionStatuses { ... on TimePartitionStatuses { ranges { startKey endKey status } } }
  }
}
"""


def ui_assets(port: int) -> dict[str, tuple[str | None, set[str]]]:
    """What the UI shows of every asset: the run of its newest materialisation and its materialised days."""
    import httpx

    answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": ASSETS_QUERY}, timeout=120)
    answer.raise_for_status()
    assets = {}
    for node in answer.json()["data"]["assetNodes"]:
        days = set()
        for span in (node["assetPartitionStatuses"] or {}).get("ranges", []):
            if span["status"] == "MATERIALIZED":
                day, last = date.fromisoformat(span["startKey"]), date.fromisoformat(span["endKey"])
                while day <= last:
                    days.add(day.isoformat())
                    day += timedelta(days=1)
        runs = node["assetMaterializations"]
        assets["/".join(node["assetKey"]["path"])] = (runs[0]["runId"] if runs else None, days)
    return assets


def run_tags(port: int, run_id: str) -> dict[str, str]:
    import httpx

    query = "query ($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }"
    answer = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": {"id": run_id}}, timeout=120
    )
    answer.raise_for_status()
    return {tag["key"]: tag["value"] for tag in answer.json()["data"]["runOrError"]["tags"]}


@pytest.mark.timeout(2400)  # tens of seconds idle; a shared 2-CPU machine under load took over 10 minutes
def test_make_run_records_the_first_history_as_a_run_of_the_ui_and_stops_every_process(tmp_path):
    """A real `make run` (ports of its own, 3 devices): the UI answers, then the first history runs in the UI's
    instance; every mart and the published marts show it, each history asset shows every loaded day; a
    Ctrl-C (and a second one during the shutdown) leaves no process behind."""
    from sources.jimi import HISTORY as HISTORY_RESOURCES

    ui_port, sim_port, push_port = free_port(), free_port(), free_port()
    log = tmp_path / "run.log"
    with log.open("w") as output:
        launcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orchestration.launch.live",
                "--ui-port",
                str(ui_port),
                "--sim-port",
                str(sim_port),
                "--push-port",
                str(push_port),
                "--history-days",
                "2",
                "--sim-args=--devices 3",
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "JIMI_DATA_DIR": str(tmp_path / "data")},
        )
    groups: set[int] = set()
    try:
        finished = re.compile(r"^first history: (\w+) after \d+s$", re.MULTILINE)
        wait_for(
            lambda: launcher.poll() is not None or finished.search(log.read_text()), timeout_s=1500, every_s=2
        )
        text = log.read_text()
        assert launcher.poll() is None, text[-5000:]
        assert finished.search(text).group(1) == "SUCCESS", text[-5000:]
        assert f"Dagster UI: http://127.0.0.1:{ui_port}" in text
        run_id = re.search(rf"http://127\.0\.0\.1:{ui_port}/runs/([0-9a-f-]+)", text).group(1)
        tags = run_tags(ui_port, run_id)
        assert tags["jimi/mode"] == "incremental"
        start, end = (
            date.fromisoformat(tags[f"dagster/asset_partition_range_{edge}"]) for edge in ("start", "end")
        )
        assert (
            end - start
        ).days == 2  # --history-days 2: the days from 2 days ago to the day it was launched
        loaded_days = {(start + timedelta(days=n)).isoformat() for n in range(3)}

        assets = ui_assets(ui_port)
        marts = {key for key in assets if key.startswith("marts/")} | {"published_marts"}
        assert len(marts) > 10
        assert {key: assets[key][0] for key in marts} == dict.fromkeys(marts, run_id)
        history = {f"jimi/{name}" for name in HISTORY_RESOURCES}
        assert {key: assets[key] for key in history} == dict.fromkeys(history, (run_id, loaded_days))

        groups = {
            pid
            for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
            if parent_of(pid) == launcher.pid
        }
        assert len(groups) == 4  # simulator, push receiver, push sender, dagster dev (each its own group)
        os.killpg(launcher.pid, signal.SIGINT)
        wait_for(lambda: "make run: stopping..." in log.read_text(), every_s=0.2)
        os.killpg(launcher.pid, signal.SIGINT)  # a second Ctrl-C while it stops
        launcher.wait(timeout=120)
    finally:
        if launcher.poll() is None:  # the test failed before stopping it: stop it as a user would
            os.killpg(launcher.pid, signal.SIGTERM)
            try:
                launcher.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
    assert launcher.returncode == 128 + signal.SIGINT
    assert {pgid: in_group(pgid) for pgid in groups} == {pgid: [] for pgid in groups}
