"""Starting and stopping the helper processes of `make run` and `make demo` (simulator, Dagster).

Each child gets its own process group with SIGINT restored (a background job of a non-interactive shell
starts with it ignored, and `dagster dev` would then ignore Ctrl-C), so stopping signals the whole group
and nothing is left running.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Exec'd through this tiny launcher rather than a preexec_fn, which is unsafe once threads exist.
_WITH_DEFAULT_SIGNALS = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start `args` in a new session (its own process group) with SIGINT and SIGTERM at their defaults."""
    return subprocess.Popen(
        [sys.executable, "-c", _WITH_DEFAULT_SIGNALS, *args], env={**os.environ, **(env or {})}, start_new_session=True
    )


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f}s")


def start_simulator(port: int, extra_args: list[str]) -> tuple[subprocess.Popen, str]:
    """`jimi-sim serve` on 127.0.0.1:port; returns the process and the API URL once it answers."""
    process = spawn([str(BIN / "jimi-sim"), "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args])
    wait_until_up(f"http://127.0.0.1:{port}/health", process)
    return process, f"http://127.0.0.1:{port}/route/rest"


def stop(process: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever outlives the grace period."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def fleet_args(sim_args: list[str]) -> list[str]:
    """The `serve` options that define the fleet, so the push sender sends for the fleet the API serves."""
    parser = argparse.ArgumentParser(add_help=False)
    for option in ("--seed", "--devices", "--now"):
        parser.add_argument(option)
    parser.add_argument("--trace", action="append", default=[])
    known, _ = parser.parse_known_args(sim_args)
    out = [item for option in ("seed", "devices", "now") if getattr(known, option) for item in (f"--{option}", getattr(known, option))]
    return out + [item for trace in known.trace for item in ("--trace", trace)]
