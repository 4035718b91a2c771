"""Run the simulator over real HTTP: blocking `serve` for the CLI, `running_simulator` for tests/benchmarks.

`running_simulator` binds the socket itself (port 0 = a free port picked by the OS), so the URL is known
before uvicorn starts and there is no race on the port; it returns only once `/health` answers.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from starlette.applications import Starlette

from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.fleet import Fleet

log = logging.getLogger("jimi_sim")
STARTUP_TIMEOUT_S = 15.0


def serve(settings: SimSettings, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the simulator until interrupted (Ctrl-C); today's fleet is generated in the background."""
    app = create_app(settings)
    warm_up(app.state.sim.fleet)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def warm_up(fleet: Fleet) -> threading.Thread:
    """Generate every device's current day in a daemon thread, so the first fleet sweep is fast too.

    A location.list over 2,000 cold devices would otherwise generate ~2,000 device-days inside one call;
    requests that arrive meanwhile simply generate what they need themselves (the caches are shared).
    """

    def run() -> None:
        started = time.monotonic()
        for device in fleet.devices:
            fleet.latest_fix(device.imei)
        log.info("warmed up %d devices in %.1f s", len(fleet.devices), time.monotonic() - started)

    thread = threading.Thread(target=run, name="jimi-sim-warm-up", daemon=True)
    thread.start()
    return thread


@contextmanager
def running_simulator(
    settings: SimSettings, host: str = "127.0.0.1", port: int = 0, *, app: Starlette | None = None
) -> Iterator[str]:
    """Serve in a background thread; yields the API URL (`http://host:port/route/rest`).

    Pass `app` (from `create_app`) to keep a handle on its state, e.g. to move `app.state.sim.clock`.
    """
    app = app if app is not None else create_app(settings)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    # uvicorn installs no signal handlers outside the main thread, so this thread leaves Ctrl-C alone.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="jimi-sim", daemon=True)
    thread.start()
    netloc = f"[{host}]:{bound_port}" if family == socket.AF_INET6 else f"{host}:{bound_port}"
    try:
        _wait_until_healthy(f"http://{netloc}/health", thread)
        yield f"http://{netloc}/route/rest"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()


def _wait_until_healthy(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the simulator server thread exited during startup")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the simulator did not answer {url} within {STARTUP_TIMEOUT_S:.0f} s")
