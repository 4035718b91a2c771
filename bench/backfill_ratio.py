"""Backfill wall time against the API-bound ideal, and the backfill's peak memory.

Backfills `--days` days of `track_points` for `--devices` devices from a simulator (its own process) that
answers every `track.list` after a fixed latency. The ideal is calls x latency / concurrency: what the
backfill would take if nothing but the API cost time. The ratio of the measured wall time to it is the
figure (target <= 1.15). The backfill runs in a child process whose peak RSS is reported too; with
`--memory` the script instead backfills 30 and then `--days` days and prints the larger peak (target
<= 1024 MiB) and the ratio of the two peaks (flat in the number of days means close to 1).

    python bench/backfill_ratio.py [--devices 50] [--days 90] [--latency 2.0] [--workers 8] [--memory]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def backfill(days: int, workers: int) -> dict:
    """Run inside the child: one bounded backfill of track points; returns timings and counts."""
    from orchestration.engine.polling import load_jimi

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    started = time.perf_counter()
    summary = load_jimi(["track_points"], start=start, end=end, max_workers=workers, calls_per_second=0)
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "elapsed": elapsed,
        "rows": summary.rows_by_table.get("track_points", 0),
        "calls": summary.api_calls,
        "retries": summary.retries,
        "peak_mib": peak_mib,
    }


def run_child(url: str, days: int, workers: int, folder: Path) -> dict:
    env = {
        **os.environ,
        **source_env(url),
        "JIMI_DATA_DIR": str(folder),
        "RUNTIME__LOG_LEVEL": "ERROR",
        # One token cache for both runs of --memory, as processes share it in production: the API refuses
        # a second login within a minute (1006), and a 30-day run can finish sooner than that.
        "SOURCES__JIMI__TOKEN_DIR": str(folder.parent / "tokens"),
    }
    output = subprocess.run(
        [sys.executable, __file__, "--child", "--days", str(days), "--workers", str(workers)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if output.returncode != 0:
        sys.exit(f"the {days}-day backfill failed (exit {output.returncode}):\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per track.list call")
    parser.add_argument("--workers", type=int, default=8, help="concurrent calls")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(backfill(args.days, args.workers)))
        return

    folder = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    latency = 0.0 if args.memory else args.latency
    os.environ["JIMI_SIM_LATENCY"] = f"jimi.device.track.list={latency}"
    # Exact comparisons need every fix to have reached the API already.
    os.environ.setdefault("JIMI_SIM_LATE_SHARE", "0")
    simulator, url = start_simulator(free_port(), ["--devices", str(args.devices)])
    try:
        if args.memory:
            small = run_child(url, 30, args.workers, folder / "30")
            large = run_child(url, args.days, args.workers, folder / "large")
            print(
                f"peak RSS: {small['peak_mib']:.0f} MiB for 30 days, {large['peak_mib']:.0f} MiB for {args.days} days"
            )
            print(f"growth with days: {large['peak_mib'] / small['peak_mib']:.2f}x")
            print(f"backfill_peak_mib: {large['peak_mib']:.0f} (target <= 1024)")
            return
        result = run_child(url, args.days, args.workers, folder / "run")
    finally:
        stop(simulator)
        shutil.rmtree(folder, ignore_errors=True)
    # The answers that carry the latency: everything but the login and the device list.
    calls = result["calls"] - 2 - sum(result["retries"].values())
    ideal = calls * args.latency / args.workers
    print(
        f"{args.devices} devices x {args.days} days: {result['rows']} points, {result['calls']} API calls, "
        f"retries {result['retries']}"
    )
    print(
        f"wall {result['elapsed']:.1f}s, ideal {ideal:.1f}s ({calls} track.list calls x {args.latency}s / {args.workers})"
    )
    print(f"peak RSS {result['peak_mib']:.0f} MiB")
    print(f"backfill_ratio: {result['elapsed'] / ideal:.2f} (target <= 1.15)")


if __name__ == "__main__":
    main()
