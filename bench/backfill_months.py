"""How long a 3-month backfill of every history resource takes, projected to the real API's latencies.

Backfills `--days` days (default 89, the API's retention) of track points, trips, parking, alarms and OBD
readings/faults for the default fleet (25 devices) from a simulator (its own process) that answers each
method after its production latency (`--latency-profile production`, docs/jimi-api.md#limits-and-timeouts) divided by
`--scale` (100). The backfill runs in a child process through `orchestration.engine.polling.load_jimi`, one
resource after the other as a `poll_history` run does, with the source's default concurrency.

The simulator's rate limit (calls per second per app key) is multiplied by the same `--scale`: an API a
hundred times faster also answers a hundred times more calls, so the source's workers are held back by the
scaled latencies as they would be by the real ones, never by refusals (1006) the real API would not send at
that pace. Each call may take up to `--call-timeout` (600 s): on a shared machine under load, the simulator's
first answer for a 30-day alarm or OBD window of 23 devices took over the production 120 s, and the
retried call asked for the same window while the simulator still computed the abandoned one.

Projection: each resource's wall time is split into its API-bound part (calls x scaled latency / workers)
and the rest (the pipeline's and the simulator's own work, which does not scale with latency); the
projection keeps the rest and multiplies the API-bound part by `--scale`. The figure is the projected
hours; the target (<= 24) is what lets a nightly backfill of the retention window finish within a day.

    python bench/backfill_months.py [--days 89] [--devices 25] [--scale 100] [--workers 4] [--call-timeout 600]
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

from orchestration.launch.processes import free_port, start_simulator, stop
from sources.jimi_sim.account import source_env
from sources.jimi_sim.settings import SimSettings, latency_profile

RESOURCES = {  # resource -> the API method its calls go to
    "track_points": "jimi.device.track.list",
    "trips": "jimi.device.track.mileage",
    "parking": "jimi.open.platform.report.parking",
    "alarms": "jimi.device.alarm.list",
    "obd_readings": "jimi.device.obd.list",
    "obd_faults": "jimi.device.obd.fault",
}


def backfill(days: int, workers: int, call_timeout_s: float) -> dict:
    """Run inside the child: each resource over the same window; wall time, calls and rows per resource."""
    from orchestration.engine.polling import load_jimi

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    out = {}
    for resource in RESOURCES:
        started = time.perf_counter()
        summary = load_jimi(
            [resource],
            start=start,
            end=end,
            max_workers=workers,
            calls_per_second=0,
            timeout_s=call_timeout_s,
        )
        out[resource] = {
            "elapsed": time.perf_counter() - started,
            "calls": summary.api_calls - sum(summary.retries.values()),
            "rows": sum(summary.rows_by_table.values()),
            "retries": summary.retries,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=89)
    parser.add_argument("--devices", type=int, default=25)
    parser.add_argument("--scale", type=float, default=100.0, help="latencies are divided by this")
    parser.add_argument("--workers", type=int, default=4, help="concurrent calls (the source's default)")
    parser.add_argument("--call-timeout", type=float, default=600.0, help="seconds one call may take")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(backfill(args.days, args.workers, args.call_timeout)))
        return

    real = latency_profile("production")
    os.environ["JIMI_SIM_LATENCY"] = ",".join(
        f"{method}={seconds / args.scale}" for method, seconds in real.items()
    )
    os.environ["JIMI_SIM_MAX_CALLS_PER_S"] = str(SimSettings.from_env().max_calls_per_s * args.scale)
    folder = Path(tempfile.mkdtemp(prefix="bench-months-"))
    simulator, url = start_simulator(free_port(), ["--devices", str(args.devices)])
    try:
        env = {**os.environ, **source_env(url), "JIMI_DATA_DIR": str(folder), "RUNTIME__LOG_LEVEL": "ERROR"}
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--days",
                str(args.days),
                "--workers",
                str(args.workers),
                "--call-timeout",
                str(args.call_timeout),
            ],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        if output.returncode != 0:
            sys.exit(
                f"the {args.days}-day backfill failed (exit {output.returncode}):\n{output.stderr[-5000:]}"
            )
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
        retried = f", retries {r['retries']}" if r["retries"] else ""
        print(
            f"{resource:>13}: {r['calls']:5d} calls, {r['rows']:8d} rows, wall {r['elapsed']:7.1f}s "
            f"(API-bound {api_scaled:6.1f}s, other {rest:6.1f}s) -> projected {estimate / 3600:6.2f} h{retried}"
        )
    print(f"{args.devices} devices x {args.days} days at latency/{args.scale:g}: wall {measured:.0f}s")
    print(f"backfill_months_projected_hours: {projected / 3600:.1f} (target <= 24)")


if __name__ == "__main__":
    main()
