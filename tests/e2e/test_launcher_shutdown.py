"""`make run`'s shutdown (the launchers' `supervise`): it runs to the end and leaves no process behind,
whatever signals arrive while it runs (SIGINT, SIGTERM, a second Ctrl-C), on the normal path and on failure.

A small harness runs the real `orchestration.launch.processes.supervise` around fake long-lived children, each with a
helper of its own as Dagster's code server is, that take 1.5 s to exit on SIGTERM, so signals can be sent
while the shutdown is under way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_support import alive, in_group, started_at, wait_for

ROOT = Path(__file__).resolve().parents[2]
# A fake long-lived child, like `dagster dev`: it starts a helper in its process group (as Dagster starts its
# code server) and both take a while to exit on SIGTERM, so the launcher's shutdown lasts seconds.
FAKE_CHILD = """
import os, signal, subprocess, sys, time
folder = sys.argv[1]
def slow_exit(*_):
    open(os.path.join(folder, f"term-{os.getpid()}"), "w").close()
    time.sleep(1.5)
    os._exit(0)
signal.signal(signal.SIGTERM, slow_exit)
if sys.argv[2] == "parent":
    helper = subprocess.Popen([sys.executable, "-c", sys.argv[3], folder, "helper", sys.argv[3]])
    while not os.path.exists(os.path.join(folder, f"ready-{helper.pid}")):
        time.sleep(0.01)
    open(os.path.join(folder, f"pid-{os.getpid()}-{helper.pid}"), "w").close()
else:
    open(os.path.join(folder, f"ready-{os.getpid()}"), "w").close()
while True:
    time.sleep(0.1)
"""
# The launcher's real supervision around a body that starts three such children, then (by `how`) waits like
# `make run` waiting on Dagster, fails like a launch error, or returns like Dagster exiting on its own.
HARNESS = """
import sys, time
from orchestration.launch.processes import Children, LaunchError, supervise
folder, how, child = sys.argv[1], sys.argv[2], sys.argv[3]
def body(children: Children) -> int:
    for _ in range(3):
        children.spawn([sys.executable, "-c", child, folder, "parent", child])
    print("started", flush=True)
    while len(list(__import__("pathlib").Path(folder).glob("pid-*"))) < 3:
        time.sleep(0.05)
    print("ready", flush=True)
    if how == "fail":
        raise LaunchError("the UI did not answer")
    if how == "return":
        return 0
    while True:
        time.sleep(0.1)
sys.exit(supervise(body, "harness"))
"""


# how the body ends, the signals that end it (sent to the launcher's process group, as Ctrl-C does), the
# signals sent while it shuts down, and the exit code.
STOPS = {
    "ctrl-c": ("wait", [signal.SIGINT], [signal.SIGTERM, signal.SIGINT], 130),
    "sigterm": ("wait", [signal.SIGTERM], [signal.SIGINT, signal.SIGTERM], 143),
    "double ctrl-c": ("wait", [signal.SIGINT], [signal.SIGINT], 130),
    "a launch error": ("fail", [], [signal.SIGTERM, signal.SIGINT, signal.SIGINT], 1),
    "the body returning": ("return", [], [signal.SIGINT, signal.SIGTERM], 0),
}


@pytest.mark.parametrize("stop", sorted(STOPS))
def test_shutdown_runs_to_the_end_and_leaves_no_process_when_signals_arrive_during_it(stop, tmp_path):
    how, first, during, code = STOPS[stop]
    folder = tmp_path / "markers"
    folder.mkdir()
    out, err = tmp_path / "out", tmp_path / "err"
    # Output to files, not pipes: children left behind would hold a pipe open and hang the test.
    with out.open("w") as stdout, err.open("w") as stderr:
        harness = subprocess.Popen(
            [sys.executable, "-c", HARNESS, str(folder), how, FAKE_CHILD],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    children: list[tuple[int, int]] = []
    born: dict[int, str | None] = {}
    try:
        wait_for(lambda: len(list(folder.glob("pid-*"))) == 3)
        children = [tuple(map(int, path.name.split("-")[1:])) for path in folder.glob("pid-*")]
        born = {pid: started_at(pid) for pair in children for pid in pair}
        assert all(alive(pid) and alive(helper) for pid, helper in children)
        for signum in first:
            os.killpg(harness.pid, signum)
        # The shutdown has begun once the first child got its SIGTERM; it lasts ~1.5 s per child.
        wait_for(lambda: any(folder.glob("term-*")))
        for signum in during:
            os.killpg(harness.pid, signum)
            time.sleep(0.3)
        assert len(list(folder.glob("term-*"))) < 6  # these signals did arrive during the shutdown
        harness.wait(timeout=60)
        left = [pid for pair in children for pid in pair if alive(pid)]
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
        for pid, started in born.items():  # whatever a failing shutdown left behind, and nothing else
            if started_at(pid) == started:
                os.kill(pid, signal.SIGKILL)
    assert harness.returncode == code, err.read_text()
    assert left == []
    assert [pid for pid, _ in children if in_group(pid)] == []
    # Every child and every helper got its SIGTERM (none was killed for want of a stop).
    assert {int(path.name.split("-")[1]) for path in folder.glob("term-*")} == {
        pid for pair in children for pid in pair
    }
    assert "Traceback" not in err.read_text()
    assert ("harness: stopping..." in out.read_text()) == bool(first)
    assert ("harness: the UI did not answer" in err.read_text()) == (how == "fail")
