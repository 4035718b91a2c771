"""`jimi-push`: command line of the push receiver (`jimi-push serve`, or `python -m sources.jimi_push`).

The token comes only from the environment (`JIMI_PUSH_TOKEN`): a command-line option would show it to
anyone who can list processes. The start-up line names the address and the landing folder, no secret.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from . import settings

log = logging.getLogger("jimi_push")


@click.group()
def main() -> None:
    """Receiver for Jimi IoT / TrackSolid Pro data pushes (IoT Hub webhooks)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8766, type=int, show_default=True)
@click.option(
    "--landing",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=settings.LANDING_ENV,
    required=True,
    help=f"Folder that accepted payloads are written to (or ${settings.LANDING_ENV}).",
)
@click.option("--max-body-bytes", type=int, default=settings.MAX_BODY_BYTES, show_default=True)
@click.option(
    "--flush",
    type=click.Choice(["syncfs", "fsync"]),
    default=None,
    show_default="syncfs where the OS has it",
    help="syncfs: one flush per group of payloads (fast; also flushes other writers on the same file system). "
    "fsync: one flush per payload file.",
)
def serve(host: str, port: int, landing: Path, max_body_bytes: int, flush: str | None) -> None:
    """Receive pushes on http://HOST:PORT/<path>; acknowledge each once it is durable in LANDING."""
    from .landing import SYNCFS_AVAILABLE
    from .server import serve as run_server

    token = os.environ.get(settings.TOKEN_ENV, "")
    if not token:
        click.echo(f"jimi-push: set {settings.TOKEN_ENV} to the push token the sender uses", err=True)
        sys.exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    use_syncfs = SYNCFS_AVAILABLE if flush is None else flush == "syncfs"
    if use_syncfs and not SYNCFS_AVAILABLE:
        click.echo("jimi-push: syncfs is not available here; use --flush fsync", err=True)
        sys.exit(2)
    log.info("Jimi push receiver on http://%s:%d landing in %s", host, port, landing.resolve())
    run_server(
        landing.resolve(), token, host=host, port=port, max_body_bytes=max_body_bytes, use_syncfs=use_syncfs
    )
