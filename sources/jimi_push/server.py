"""Serving the receiver: blocking `serve` for the CLI, `running_receiver` (a background thread) for tests.

Access logs stay off: uvicorn's would print query strings, and a misconfigured sender could put the
token there. The receiver logs refusals itself, without any submitted value.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from . import settings
from .landing import SYNCFS_AVAILABLE, clean_temporary
from .receiver import create_app

STARTUP_TIMEOUT_S = 15.0


def serve(
    landing: Path,
    token: str,
    host: str = "127.0.0.1",
    port: int = 8766,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
    use_syncfs: bool = SYNCFS_AVAILABLE,
) -> None:
    """Serve until interrupted. Leftover temporary files of an earlier crash are removed first."""
    landing.mkdir(parents=True, exist_ok=True)
    clean_temporary(landing)
    app = create_app(landing, token, max_body_bytes, use_syncfs)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, timeout_graceful_shutdown=5)


@contextmanager
def running_receiver(
    landing: Path, token: str, host: str = "127.0.0.1", max_body_bytes: int = settings.MAX_BODY_BYTES
) -> Iterator[str]:
    """Serve on a free port in a background thread; yields the base URL once `/health` answers."""
    landing.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    base = f"http://{host}:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        create_app(landing, token, max_body_bytes), log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="jimi-push", daemon=True)
    thread.start()
    try:
        wait_until_healthy(f"{base}/health", thread.is_alive)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()


def wait_until_healthy(url: str, alive, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the push receiver stopped during startup")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the push receiver did not answer {url} within {timeout_s:.0f} s")
