"""`jimi-sim`: command line of the simulated Jimi cloud (`jimi-sim serve`, or `python -m sources.jimi_sim`).

Every option defaults to what `SimSettings.from_env()` reads (the `JIMI_SIM_*` variables), so options and
environment never disagree. The start-up line names the URL and fleet size, never a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import click

from sources.jimi_sim.settings import LATENCY_PROFILES, SimSettings, latency_profile

log = logging.getLogger("jimi_sim")


def _from_env(name: str) -> Callable[[], object]:
    """A lazy option default: the environment is read when the command runs, not at import."""
    return lambda: getattr(SimSettings.from_env(), name)


def _now_from_env() -> str | None:
    now = SimSettings.from_env().now
    return None if now is None else now.strftime("%Y-%m-%d %H:%M:%S")


@click.group()
def main() -> None:
    """Simulated Jimi IoT / TrackSolid Pro open API with a deterministic synthetic fleet."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, type=int, show_default=True)
@click.option("--seed", type=int, default=_from_env("seed"), show_default="JIMI_SIM_SEED or 7")
@click.option("--devices", type=int, default=_from_env("devices"), show_default="JIMI_SIM_DEVICES or 25")
@click.option("--app-key", default=_from_env("app_key"), show_default="JIMI_SIM_APP_KEY")
@click.option("--app-secret", default=_from_env("app_secret"), show_default="JIMI_SIM_APP_SECRET")
@click.option("--user-id", default=_from_env("user_id"), show_default="JIMI_SIM_USER_ID")
@click.option("--password", default=_from_env("password"), show_default="JIMI_SIM_PASSWORD")
@click.option("--push-token", default=_from_env("push_token"), show_default="JIMI_SIM_PUSH_TOKEN")
@click.option(
    "--now",
    default=_now_from_env,
    show_default="JIMI_SIM_NOW, else the wall clock",
    help="Fixed clock, 'yyyy-MM-dd HH:mm:ss' UTC.",
)
@click.option(
    "--latency-profile",
    "latency_profile_name",
    type=click.Choice(sorted(LATENCY_PROFILES)),
    default=None,
    show_default="JIMI_SIM_LATENCY_PROFILE or none",
    help="Per-method artificial latency.",
)
def serve(host: str, port: int, now: str | None, latency_profile_name: str | None, **options: object) -> None:
    """Serve the simulated API on http://HOST:PORT/route/rest."""
    from sources.jimi.signing import parse_time
    from sources.jimi_sim.server import serve as run_server

    overrides = dict(options)
    overrides["now"] = parse_time(now) if now else None
    if latency_profile_name:
        overrides["latency_s"] = latency_profile(latency_profile_name)
    settings = SimSettings.from_env(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.info(
        "Jimi simulator on http://%s:%d/route/rest serving %d devices (seed %d)",
        host,
        port,
        settings.devices,
        settings.seed,
    )
    run_server(settings, host=host, port=port)
