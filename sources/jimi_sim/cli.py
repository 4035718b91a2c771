"""`jimi-sim`: the simulated Jimi cloud's command line (`jimi-sim serve | push | truth`, or `python -m sources.jimi_sim`).

The three commands share the options that define the account and its fleet (seed, size, credentials,
clock, traces, realism, shapes, faults), and every one of them defaults to what `SimSettings.from_env()`
reads (`JIMI_SIM_*`), so `truth` describes exactly what `serve` serves and `push` pushes. Log lines name
URLs and fleet sizes, never a secret.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import click

from sources.jimi_sim.settings import LATENCY_PROFILES, SimSettings, parse_latency, parse_silence

log = logging.getLogger("jimi_sim")


def _from_env(name: str) -> Callable[[], object]:
    """A lazy option default: the environment is read when the command runs, not at import."""
    return lambda: getattr(SimSettings.from_env(), name)


def _now_from_env() -> str | None:
    now = SimSettings.from_env().now
    return None if now is None else now.strftime("%Y-%m-%d %H:%M:%S")


def _time(text: str | None) -> datetime | None:
    from sources.jimi.signing import parse_time

    return parse_time(text) if text else None


_SHARED = [
    click.option("--seed", type=int, default=_from_env("seed"), show_default="JIMI_SIM_SEED or 7"),
    click.option("--devices", type=int, default=_from_env("devices"), show_default="JIMI_SIM_DEVICES or 25"),
    click.option("--app-key", default=_from_env("app_key"), show_default="JIMI_SIM_APP_KEY"),
    click.option("--app-secret", default=_from_env("app_secret"), show_default="JIMI_SIM_APP_SECRET"),
    click.option("--user-id", default=_from_env("user_id"), show_default="JIMI_SIM_USER_ID"),
    click.option("--password", default=_from_env("password"), show_default="JIMI_SIM_PASSWORD"),
    click.option("--push-token", default=_from_env("push_token"), show_default="JIMI_SIM_PUSH_TOKEN"),
    click.option(
        "--now",
        default=_now_from_env,
        show_default="JIMI_SIM_NOW, else the wall clock",
        help="Fixed clock, 'yyyy-MM-dd HH:mm:ss' UTC.",
    ),
    click.option(
        "--trace",
        "traces",
        multiple=True,
        help="CSV trace served as a device (repeatable; JIMI_SIM_TRACES, path-separated).",
    ),
    click.option("--late-share", type=float, default=None, show_default="JIMI_SIM_LATE_SHARE or 0.11"),
    click.option(
        "--duplicate-share", type=float, default=None, show_default="JIMI_SIM_DUPLICATE_SHARE or 0.002"
    ),
    click.option(
        "--disorder-share", type=float, default=None, show_default="JIMI_SIM_DISORDER_SHARE or 0.002"
    ),
    click.option("--exact", is_flag=True, help="No late, duplicate or out-of-order fixes (all shares 0)."),
    click.option(
        "--shape",
        "shape_items",
        multiple=True,
        help="Discrepancy variant NAME=VARIANT or a preset "
        "(production, spec); repeatable, on top of JIMI_SIM_SHAPES.",
    ),
    click.option(
        "--fault",
        "fault_items",
        multiple=True,
        help="KIND=RATE[@METHOD]; repeatable, on top of JIMI_SIM_FAULTS. Off by default.",
    ),
    click.option(
        "--silence",
        "silence_items",
        multiple=True,
        help="IMEI@'yyyy-MM-dd HH:mm:ss' (UTC): the device sends no fix, push or heartbeat from then on; "
        "repeatable, on top of JIMI_SIM_SILENCE.",
    ),
]


def shared_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_SHARED):
        command = option(command)
    return command


def build_settings(
    now: str | None,
    traces: tuple[str, ...],
    exact: bool,
    shape_items: tuple[str, ...],
    fault_items: tuple[str, ...],
    silence_items: tuple[str, ...] = (),
    **options: object,
) -> SimSettings:
    """SimSettings from the shared options over the environment (options win)."""
    from sources.jimi_sim.api.shapes import parse_shapes
    from sources.jimi_sim.faults import parse_faults

    env = SimSettings.from_env()
    overrides = dict(options)
    overrides["now"] = _time(now)
    if traces:
        overrides["traces"] = tuple(traces)
    if shape_items:
        overrides["shapes"] = parse_shapes(",".join(shape_items), base=env.shapes)
    if fault_items:
        overrides["faults"] = env.faults + parse_faults(",".join(fault_items))
    if silence_items:
        overrides["silence"] = env.silence + parse_silence(",".join(silence_items))
    if exact:
        overrides.update(late_share=0.0, duplicate_share=0.0, disorder_share=0.0)
    return SimSettings.from_env(**overrides)


@click.group()
def main() -> None:
    """Simulated Jimi IoT / TrackSolid Pro cloud with a deterministic synthetic fleet."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, type=int, show_default=True)
@shared_options
@click.option(
    "--latency-profile",
    "latency_profile_name",
    type=click.Choice(sorted(LATENCY_PROFILES)),
    default=None,
    show_default="JIMI_SIM_LATENCY_PROFILE or none",
    help="Per-method artificial latency.",
)
@click.option(
    "--latency", "latency_items", multiple=True, help="METHOD=SECONDS; repeatable, over the profile."
)
@click.option(
    "--max-calls-per-s", type=float, default=None, show_default="JIMI_SIM_MAX_CALLS_PER_S or 20 (0 = off)"
)
@click.option(
    "--hang-s",
    type=float,
    default=None,
    show_default="JIMI_SIM_HANG_S or 330",
    help="How long a hang fault holds a request.",
)
def serve(
    host: str, port: int, latency_profile_name: str | None, latency_items: tuple[str, ...], **options: Any
) -> None:
    """Serve the simulated open API on http://HOST:PORT/route/rest."""
    from sources.jimi_sim.api.server import serve as run_server

    settings = build_settings(**options)
    if latency_profile_name or latency_items:
        latency = parse_latency(latency_profile_name) if latency_profile_name else dict(settings.latency_s)
        latency.update(parse_latency(",".join(latency_items)) if latency_items else {})
        settings = replace(settings, latency_s=latency)
    _logging()
    log.info(
        "Jimi simulator on http://%s:%d/route/rest serving %d devices (seed %d)",
        host,
        port,
        len(settings.traces) + settings.devices,
        settings.seed,
    )
    run_server(settings, host=host, port=port)


@main.command()
@click.option(
    "--to",
    "targets",
    multiple=True,
    help="Receiver base URL (POSTs go to URL/pushgps, ...); a second --to with a time ends the window.",
)
@click.option("--url", default=None, help="Receiver base URL (same as the first --to).")
@click.option("--token", default=None, help="Push token sent with every batch (default: --push-token).")
@click.option("--from", "start", default=None, help="Replay arrivals from this UTC time.")
@click.option("--until", "end", default=None, help="Replay arrivals up to this UTC time (exclusive).")
@click.option("--live", is_flag=True, help="Keep sending arrivals as the clock reaches them.")
@click.option("--poll-s", type=float, default=5.0, show_default=True)
@click.option("--duration-s", type=float, default=None, help="Stop a live run after this long.")
@click.option(
    "--retry-interval", type=float, default=120.0, show_default=True, help="Seconds between retries."
)
@click.option("--retries", type=int, default=3, show_default=True)
@click.option("--concurrency", type=int, default=4, show_default=True)
@click.option("--family", "families", multiple=True, help="Only these families (pushgps, pushalarm, ...).")
@shared_options
def push(
    targets: tuple[str, ...],
    url: str | None,
    token: str | None,
    start: str | None,
    end: str | None,
    live: bool,
    poll_s: float,
    duration_s: float | None,
    retry_interval: float,
    retries: int,
    concurrency: int,
    families: tuple[str, ...],
    **options: Any,
) -> None:
    """POST every push family to a receiver: a past window (--from/--until) or live (--live)."""
    from sources.jimi_sim.push.feed import FAMILIES
    from sources.jimi_sim.push.sender import PushSender

    urls = [t for t in targets if t.startswith(("http://", "https://"))]
    times = [t for t in targets if t not in urls]  # `--to TIME`, the spelling the issue uses for the end
    base = url or (urls[0] if urls else None)
    if base is None:
        raise click.UsageError("give the receiver with --to URL (or --url URL)")
    end = end or (times[0] if times else None)
    if not live and not (start and end):
        raise click.UsageError("give a window (--from TIME --until TIME) or --live")
    settings = build_settings(**options)
    sender = PushSender(
        settings,
        base,
        token,
        families=families or FAMILIES,
        retry_interval_s=retry_interval,
        retries=retries,
        concurrency=concurrency,
    )
    _logging()
    log.info(
        "pushing %s for %d devices to %s",
        "live" if live else f"{start} .. {end}",
        len(sender.fleet.devices),
        base,
    )
    if live:
        runner = sender.live(poll_s=poll_s, start=_time(start), duration_s=duration_s)
    else:
        runner = sender.replay(_time(start), _time(end))  # type: ignore[arg-type]
    try:
        stats = asyncio.run(runner)
    except KeyboardInterrupt:
        stats = sender.stats
    log.info("push done: %s", stats)


@main.command()
@click.option("--from", "start", required=True, help="Window start, UTC 'yyyy-MM-dd HH:mm:ss'.")
@click.option("--to", "end", required=True, help="Window end (exclusive).")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder for the CSV files."
)
@shared_options
def truth(start: str, end: str, out_dir: str, **options: Any) -> None:
    """Write what the simulator really generated in a window: points, trips, stops, alarms (CSV)."""
    from sources.jimi_sim.truth import export_truth
    from sources.jimi_sim.world.fleet import Fleet

    settings = build_settings(**options)
    counts = export_truth(Fleet(settings), _time(start), _time(end), out_dir)  # type: ignore[arg-type]
    click.echo(", ".join(f"{name}: {rows} rows" for name, rows in counts.items()))


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
