"""`make demo`: the whole pipeline headless over the last N days of a simulated fleet, then a summary.

Starts the simulator (configured exactly as a real account: the `SOURCES__JIMI__*` settings) and the push
receiver, replays the window's pushes into the landing folder and loads them (as the sensor would),
materializes every asset once (the same assets the schedule runs), prints the mart from the published copy
and stops both servers: no process is left running, whatever signal arrives.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sources import duckdb_setup
from sources.jimi_sim.account import source_env

from ..settings import current
from .processes import (
    BIN,
    Children,
    fleet_args,
    free_port,
    spawn,
    start_simulator,
    stop,
    supervise,
    wait_until_up,
)


def replay_pushes(days: int, sim_args: list[str], children: Children | None = None) -> None:
    """The window's pushes through the real receiver into the landing folder, then loaded once (the receiver
    is recorded in `children` when given, so a launcher's shutdown stops it too)."""
    from sources.jimi_sim.settings import SimSettings

    from ..engine.push_loading import load_pending

    token = SimSettings.from_env().push_token
    port = free_port()
    receiver = (children.spawn if children else spawn)(
        [
            str(BIN / "jimi-push"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--landing",
            str(current().landing_dir),
        ],
        env={"JIMI_PUSH_TOKEN": token},
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", receiver)
        until = datetime.now(UTC).replace(microsecond=0)
        window = [
            f"--from={until - timedelta(days=days):%Y-%m-%d %H:%M:%S}",
            f"--until={until:%Y-%m-%d %H:%M:%S}",
        ]
        subprocess.run(
            [
                str(BIN / "jimi-sim"),
                "push",
                "--to",
                f"http://127.0.0.1:{port}",
                *window,
                "--retry-interval",
                "1",
                *fleet_args(sim_args),
            ],
            env={**os.environ, "JIMI_SIM_PUSH_TOKEN": token},
            check=True,
        )
    finally:
        stop(receiver)
    summary = load_pending()
    rows = sum(summary.rows_by_table.values())
    print(
        f"push: {summary.files_loaded} landing files, {summary.items} items, {rows} rows loaded", flush=True
    )


def run_demo(days: int, sim_args: list[str], children: Children) -> int:
    simulator, url = start_simulator(free_port(), sim_args, children)
    # In this process, the simulator's account exactly as a user configures a real one.
    os.environ.update({**source_env(url), "SOURCES__JIMI__INITIAL_DAYS": str(days)})
    from .headless import materialize_all

    replay_pushes(days, sim_args, children)
    if not materialize_all():
        print("demo: the pipeline failed", file=sys.stderr)
        return 1
    stop(simulator)
    return print_summary()


def print_summary() -> int:
    connection = duckdb_setup.connect(str(current().published_path), read_only=True)
    try:
        rows = connection.execute(
            """
            select activity_date, count(*) as devices, round(sum(distance_km), 1) as distance_km,
                   round(sum(driving_seconds) / 3600.0, 1) as driving_hours, max(max_speed_kmh) as max_speed_kmh
            from fct_device_days group by activity_date order by activity_date
            """
        ).fetchall()
    finally:
        connection.close()
    print(f"\nfct_device_days by day (published at {current().published_path}):")
    print(f"{'day':<12}{'devices':>8}{'distance_km':>13}{'driving_h':>11}{'max_kmh':>9}")
    for day, devices, distance, hours, top in rows:
        print(f"{day!s:<12}{devices:>8}{distance:>13}{hours:>11}{top:>9}")
    if not rows:
        print("demo: the mart is empty", file=sys.stderr)
        return 1
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, help="how many past days to load (make: DEMO_DAYS)")
    parser.add_argument(
        "--sim-args", default="", help="extra `jimi-sim serve` options, one string (make: SIM_ARGS)"
    )
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    sys.exit(
        supervise(lambda children: run_demo(args.days, shlex.split(args.sim_args), children), "make demo")
    )


if __name__ == "__main__":
    main()
