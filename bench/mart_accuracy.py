"""Accuracy of the trip and stop marts against the simulator's ground truth over a simulated week.

The real pipeline loads a week of a 25-device fleet from a simulator with a fixed clock a week after the
window (so every late block has arrived): devices, track points, the mileage and parking reports through the
open API, and the window's GPS and trip-report pushes through the real receiver and push loader. The real
dbt project then builds the marts, and `fct_trips` / `fct_stops` (derived rows) are scored against
`jimi-sim truth` for the same window: precision and recall (a match overlaps in time), total distance error.
Targets: precision and recall >= 0.97, distance within 2 %. The last line is the minimum of the four P/R.

    python bench/mart_accuracy.py [--devices 25] [--days 7] [--no-push]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WINDOW_END = datetime(2026, 11, 16, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=25)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-push", action="store_true", help="poll only, no push replay")
    args = parser.parse_args()

    end = WINDOW_END
    start = end - timedelta(days=args.days)
    now = end + timedelta(days=7, hours=1)  # late blocks are at most 7 days late
    work = Path(tempfile.mkdtemp(prefix="mart-accuracy-"))
    os.environ["JIMI_DATA_DIR"] = str(work / "data")
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    sim_args = ["--devices", str(args.devices), "--seed", str(args.seed), "--now", f"{now:%Y-%m-%d %H:%M:%S}"]

    from orchestration.engine.polling import load_jimi
    from orchestration.launch.processes import BIN, free_port, spawn, start_simulator, stop, wait_until_up
    from orchestration.settings import current
    from sources.jimi_sim.account import source_args

    started = time.perf_counter()
    simulator, url = start_simulator(free_port(), sim_args)
    try:
        summary = load_jimi(
            ["devices", "track_points", "trips", "parking"], start=start, end=end, now=now, **source_args(url)
        )
    finally:
        stop(simulator)
    print(f"polled: {summary.rows_by_table} in {time.perf_counter() - started:.0f}s", flush=True)

    if not args.no_push:
        from orchestration.engine.push_loading import load_pending
        from sources.jimi_sim.settings import SimSettings

        token = SimSettings.from_env().push_token
        port = free_port()
        receiver = spawn(
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
        pushed = time.perf_counter()
        try:
            wait_until_up(f"http://127.0.0.1:{port}/health", receiver)
            subprocess.run(
                [
                    str(BIN / "jimi-sim"),
                    "push",
                    "--to",
                    f"http://127.0.0.1:{port}",
                    f"--from={start:%Y-%m-%d %H:%M:%S}",
                    f"--until={end:%Y-%m-%d %H:%M:%S}",
                    "--family",
                    "pushgps",
                    "--family",
                    "pushtripreport",
                    "--retry-interval",
                    "1",
                    *sim_args,
                ],
                env={**os.environ, "JIMI_SIM_PUSH_TOKEN": token},
                check=True,
            )
        finally:
            stop(receiver)
        loaded = load_pending()
        print(f"pushed: {loaded.items} items in {time.perf_counter() - pushed:.0f}s", flush=True)

    from marts_support import run_dbt

    from bench.martscore import score_marts
    from sources.jimi_sim.settings import SimSettings
    from sources.jimi_sim.truth import export_truth
    from sources.jimi_sim.world.fleet import Fleet

    built = time.perf_counter()
    run_dbt(current().warehouse_path, "run")
    print(f"dbt run: {time.perf_counter() - built:.0f}s", flush=True)

    truth = work / "truth"
    export_truth(
        Fleet(SimSettings(devices=args.devices, seed=args.seed, now=now)),
        start - timedelta(days=1),
        end + timedelta(days=1),
        truth,
    )
    score = score_marts(current().warehouse_path, truth, start, end)
    trips, stops = score["trips"], score["stops"]
    print(trips.text("trips"))
    print(stops.text("stops"))
    print(
        f"distance: derived {score['derived_km']:.1f} km, true {score['true_km']:.1f} km, "
        f"error {100 * score['distance_error']:.2f} % (target <= 2 %)"
    )
    print(f"stop kind (parking/idling) agreement on matched stops: {score['stop_kind_agreement']:.4f}")
    worst = min(trips.precision, trips.recall, stops.precision, stops.recall)
    print(f"mart_accuracy: {worst:.4f} (target >= 0.97)")


if __name__ == "__main__":
    main()
