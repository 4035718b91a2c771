"""Starting and stopping the helper processes of `make run` and `make demo` (simulator, Dagster).

Each child gets its own process group with SIGINT and SIGTERM restored (a background job of a
non-interactive shell starts with SIGINT ignored, and `dagster dev` would then ignore Ctrl-C), so stopping
signals the whole group and waits until the group is gone: nothing is left running. `supervise` runs a
launcher so that its shutdown runs to the end whatever signals arrive meanwhile.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import cast

BIN = Path(sys.executable).parent
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The processes `stop` has reaped: their pids may since be reused by anyone, so they are never signalled again.
_STOPPED: weakref.WeakSet[subprocess.Popen] = weakref.WeakSet()


class LaunchError(RuntimeError):
    """A launcher cannot go on; the message says why and what to change (shown without a traceback)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could not bind `host:port` now (bound as uvicorn and Dagster bind: reusing TIME_WAIT)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def check_ports(ports: dict[str, int], command: str) -> None:
    """Fail before anything starts when a port a launcher needs is taken, naming the setting that moves it.

    `ports` maps each setting (a make variable such as `UI_PORT`) to its port."""
    for setting, port in ports.items():
        if port_in_use(port):
            taken = set(ports.values())
            spare = next(p for p in range(port + 1, 65536) if p not in taken and not port_in_use(p))
            raise LaunchError(
                f"port {port} ({setting}) is already in use by another process; stop that process or choose "
                f"another port, for example `{command} {setting}={spare}`"
            )


# Exec'd through this tiny launcher rather than a preexec_fn, which is unsafe once threads exist. It unblocks
# the stop signals too: `Children.spawn` forks with them blocked, and exec keeps the mask.
_WITH_DEFAULT_SIGNALS = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM}); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start `args` in a new session (its own process group) with SIGINT and SIGTERM at their defaults."""
    return subprocess.Popen(
        [sys.executable, "-c", _WITH_DEFAULT_SIGNALS, *args],
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 60.0) -> None:
    """Return once `url` answers 200; fail at once if `process` exits, or after `timeout_s`."""
    import httpx  # here: a launcher checks its ports before paying for the import

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchError(
                f"{command_of(process)} exited with code {process.returncode} before answering {url}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise LaunchError(f"{url} did not answer within {timeout_s:.0f}s")


def command_of(process: subprocess.Popen) -> str:
    """The program a `spawn`ed process runs (its args start with the signal-resetting launcher)."""
    args = list(cast("list[str]", process.args))  # `spawn` always passes a list of str
    return Path(args[3] if args[1:3] == ["-c", _WITH_DEFAULT_SIGNALS] else args[0]).name


def start_simulator(
    port: int, extra_args: list[str], children: Children | None = None
) -> tuple[subprocess.Popen, str]:
    """`jimi-sim serve` on 127.0.0.1:port; returns the process and the API URL once it answers."""
    args = [str(BIN / "jimi-sim"), "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args]
    process = children.spawn(args) if children else spawn(args)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process)
    except BaseException:
        stop(process)
        raise
    return process, f"http://127.0.0.1:{port}/route/rest"


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`."""
    if not Path("/proc/self/stat").exists():  # no procfs (macOS): any member, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def stop(process: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM the child's process group and wait until the whole group is gone (not only the child: Dagster's
    code server and run workers share it); SIGKILL whatever outlives the grace period.

    The child is reaped only at the end: until then its pid (the group's id) cannot be reused, so the
    signals reach nobody else's processes; a process already stopped here is never signalled again."""
    if process in _STOPPED:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # also when the child is gone but its group is not
    deadline = time.monotonic() + grace_s
    while group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_members(process.pid):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _STOPPED.add(process)  # its pid may now be reused by anyone


@contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (they are delivered on exit), so no handler runs inside the block."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class Children:
    """The processes a launcher started, newest last; `supervise` stops them all."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []
        self.stopping = False
        self.signal: int | None = None

    def spawn(self, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        # Blocked, so an interrupt cannot land between the fork and the child being recorded here.
        with stop_signals_blocked():
            process = spawn(args, env)
            self.processes.append(process)
        return process

    def interrupt(self, signum: int, _frame: object) -> None:
        """The first SIGINT/SIGTERM unwinds the launcher into its shutdown; any later one is ignored."""
        if self.stopping:
            return
        self.stopping, self.signal = True, signum
        raise KeyboardInterrupt

    def stop_all(self) -> None:
        """Stop every child, newest first; one that fails to stop does not keep the others running."""
        failures = []
        for process in reversed(self.processes):
            try:
                stop(process)
            except Exception as exc:  # noqa: BLE001 - stop the rest first, then report it
                failures.append(exc)
        if failures:
            raise failures[0]


def supervise(body: Callable[[Children], int], name: str) -> int:
    """Run a launcher's `body`, then stop every child it started, on every path; returns the exit code.

    The first SIGINT or SIGTERM interrupts `body`; from then on, and from the moment the shutdown begins on
    any other path (`body` returned or failed), signals are ignored, so a second Ctrl-C or a `timeout`'s
    SIGTERM cannot abort the shutdown half-way and leave children running. A `LaunchError` is printed as
    one line, without a traceback.
    """
    children = Children()
    for signum in STOP_SIGNALS:
        signal.signal(signum, children.interrupt)
    try:
        try:
            return body(children)
        finally:
            # The first statement, inline: nothing between the end of `body` (or the exception leaving it) and
            # here runs a signal handler, and from here on the handler ignores every signal.
            children.stopping = True
            if children.signal is not None:
                print(f"\n{name}: stopping...", flush=True)
            children.stop_all()
    except KeyboardInterrupt:
        return 128 + (children.signal or signal.SIGINT)
    except LaunchError as exc:
        print(f"{name}: {exc}", file=sys.stderr, flush=True)
        return 1


def fleet_args(sim_args: list[str]) -> list[str]:
    """The `serve` options that define the fleet, so the push sender sends for the fleet the API serves."""
    parser = argparse.ArgumentParser(add_help=False)
    for option in ("--seed", "--devices", "--now"):
        parser.add_argument(option)
    parser.add_argument("--trace", action="append", default=[])
    known, _ = parser.parse_known_args(sim_args)
    out = [
        item
        for option in ("seed", "devices", "now")
        if getattr(known, option)
        for item in (f"--{option}", getattr(known, option))
    ]
    return out + [item for trace in known.trace for item in ("--trace", trace)]
