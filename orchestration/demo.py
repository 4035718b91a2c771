"""`make demo`: the whole pipeline headless over the last N days of a simulated fleet, then a summary.

Starts the simulator, materializes every asset once (the same assets the schedule runs), prints the mart
from the published copy and stops the simulator: no process is left running.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from . import config
from .processes import free_port, start_simulator, stop


def run_demo(days: int, sim_args: list[str]) -> int:
    simulator, url = start_simulator(free_port(), sim_args)
    try:
        os.environ["JIMI_SIM_URL"] = url
        os.environ["SOURCES__JIMI__INITIAL_DAYS"] = str(days)
        from .headless import materialize_all

        if not materialize_all():
            print("demo: the pipeline failed", file=sys.stderr)
            return 1
    finally:
        stop(simulator)
    return print_summary()


def print_summary() -> int:
    import duckdb

    connection = duckdb.connect(str(config.published_path()), read_only=True)
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
    print(f"\nfct_device_days by day (published at {config.published_path()}):")
    print(f"{'day':<12}{'devices':>8}{'distance_km':>13}{'driving_h':>11}{'max_kmh':>9}")
    for day, devices, distance, hours, top in rows:
        print(f"{day!s:<12}{devices:>8}{distance:>13}{hours:>11}{top:>9}")
    if not rows:
        print("demo: the mart is empty", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=2, help="how many past days to load")
    parser.add_argument("--sim-args", default="", help="extra `jimi-sim serve` options")
    args = parser.parse_args()
    sys.exit(run_demo(args.days, shlex.split(args.sim_args)))


if __name__ == "__main__":
    main()
