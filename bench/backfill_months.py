"""How long a 3-month backfill of every history resource takes, projected to the real API's latencies.

Backfills `--days` days (default 89, the API's retention) of track points, trips, parking, alarms and OBD
readings/faults for the default fleet (25 devices) from a simulator (its own process) that answers each
method after its production latency (`--latency-profile production`, jimi-api-facts.md §2.4) divided by
`--scale` (100). The backfill runs in a child process through `orchestration.loading.load_jimi`, one
resource after the other as a `poll_history` run does, with the source's default concurrency.

Projection: each resource's wall time is split into its API-bound part (calls x scaled latency / workers)
and the rest (the pipeline's and the simulator's own work, which does not scale with latency); the
projection keeps the rest and multiplies the API-bound part by `--scale`. The figure is the projected
hours; the target (<= 24) is what lets a nightly backfill of the retention window finish within a day.

    python bench/backfill_months.py [--days 89] [--devices 25] [--scale 100] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration.processes import free_port, start_simulator, stop
from sources.jimi_sim.settings import latency_profile

RESOURCES = {  # resource -> the API method its calls go to
    "track_points": "jimi.device.track.list",
    "trips": "jimi.device.track.mileage",
    "parking": "jimi.open.platform.report.parking",
    "alarms": "jimi.device.alarm.list",
    "obd_readings": "jimi.device.obd.list",
    "obd_faults": "jimi.device.obd.fault",
}


def backfill(days: int, workers: int) -> dict:
    """Run inside the child: each resource over the same window; wall time, calls and rows per resource."""
    from orchestration.loading import load_jimi

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    out = {}
    for resource in RESOURCES:
        started = time.perf_counter()
        summary = load_jimi([resource], start=start, end=end, max_workers=workers, calls_per_second=0)
        out[resource] = {
            "elapsed": time.perf_counter() - started,
            "calls": summary.api_calls - sum(summary.retries.values()),
            "rows": sum(summary.rows_by_table.values()),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=89)
    parser.add_argument("--devices", type=int, default=25)
    parser.add_argument("--scale", type=float, default=100.0, help="latencies are divided by this")
    parser.add_argument("--workers", type=int, default=4, help="concurrent calls (the source's default)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(backfill(args.days, args.workers)))
        return

    real = latency_profile("production")
    os.environ["JIMI_SIM_LATENCY"] = ",".join(f"{method}={seconds / args.scale}" for method, seconds in real.items())
    folder = Path(tempfile.mkdtemp(prefix="bench-months-"))
    simulator, url = start_simulator(free_port(), ["--devices", str(args.devices)])
    try:
        env = {**os.environ, "JIMI_SIM_URL": url, "JIMI_DATA_DIR": str(folder), "RUNTIME__LOG_LEVEL": "ERROR"}
        output = subprocess.run(
            [sys.executable, __file__, "--child", "--days", str(args.days), "--workers", str(args.workers)],
            env=env, check=True, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        result = json.loads(output.stdout.strip().splitlines()[-1])
    finally:
        stop(simulator)
        shutil.rmtree(folder, ignore_errors=True)

    measured = projected = 0.0
    for resource, method in RESOURCES.items():
        r = result[resource]
        # load_jimi's first resource also logs in and lists devices; those are a few short calls
        api_scaled = r["calls"] * real[method] / args.scale / args.workers
        rest = max(r["elapsed"] - api_scaled, 0.0)
        estimate = rest + api_scaled * args.scale
        measured, projected = measured + r["elapsed"], projected + estimate
        print(f"{resource:>13}: {r['calls']:5d} calls, {r['rows']:8d} rows, wall {r['elapsed']:7.1f}s "
              f"(API-bound {api_scaled:6.1f}s, other {rest:6.1f}s) -> projected {estimate / 3600:6.2f} h")  # fmt: skip
    print(f"{args.devices} devices x {args.days} days at latency/{args.scale:g}: wall {measured:.0f}s")
    print(f"backfill_months_projected_hours: {projected / 3600:.1f} (target <= 24)")


if __name__ == "__main__":
    main()
