"""Where a backfill's wall time goes beyond the API-bound ideal: the same run as `backfill_ratio.py`, traced.

Runs one bounded `track_points` backfill in this process against a simulator with a fixed `track.list`
latency, timestamps every API call, every decode, every load batch and the writer lock, samples RSS, and
splits `wall - ideal` into parts that add up exactly:

- start-up: from the call to `load_jimi` to the first `track.list` (login, device list, dlt set-up);
- slow answers: the answers' time on the wire beyond the configured latency, per worker slot;
- decoding: the workers' time turning answers into tables (a slot that decodes does not call the API);
- idle slots: worker slots with no call in flight while the API phase lasts (split into the part while a
  batch was loading and the rest: queue full, few tasks left at the end, GIL);
- tail: from the last answer to `load_jimi` returning (the last load, the ingest records).

    python bench/backfill_breakdown.py [--devices 50] [--days 90] [--latency 2.0] [--workers 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestration.launch.processes import free_port, start_simulator, stop
from sources.jimi_sim.account import source_env

EVENTS: list[tuple[str, float, float, int]] = []  # (kind, start, end, rows)
RSS: list[tuple[float, float, float]] = []  # (time, RSS MiB, MiB held by Arrow's memory pool)


def _record(kind: str, start: float, rows: int = 0) -> None:
    EVENTS.append((kind, start, time.perf_counter(), rows))


def instrument() -> None:
    """Wrap the client's attempts, the track decoder, the batch loads and the writer lock with timers."""
    from orchestration.engine import backfill
    from sources.jimi.client import JimiClient
    from sources.jimi.resources import positions

    post, decode, load_batch, writer_lock = (
        JimiClient._post,
        positions.decode,
        backfill.load_batch,
        backfill.writer_lock,
    )

    def timed_post(self, method, params, context, dec):
        started = time.perf_counter()
        try:
            return post(self, method, params, context, dec)
        finally:
            _record("call" if method.endswith("track.list") else "other_call", started)

    def timed_decode(*args, **kwargs):
        started = time.perf_counter()
        table = decode(*args, **kwargs)
        _record("decode", started, table.num_rows)
        return table

    def timed_load(resource, tables, name):
        started = time.perf_counter()
        summary = load_batch(resource, tables, name)
        _record("load", started, sum(summary.rows_by_table.values()))
        return summary

    @contextmanager
    def timed_lock(*args, **kwargs):
        started = time.perf_counter()
        with writer_lock(*args, **kwargs):
            _record("lock_wait", started)
            held = time.perf_counter()
            try:
                yield
            finally:
                _record("lock_held", held)

    JimiClient._post, positions.decode, backfill.load_batch, backfill.writer_lock = (
        timed_post,
        timed_decode,
        timed_load,
        timed_lock,
    )


def sample_rss(stop_event: threading.Event) -> None:
    import pyarrow as pa

    page = os.sysconf("SC_PAGE_SIZE")
    while not stop_event.wait(0.1):
        with open("/proc/self/statm") as handle:
            rss = int(handle.read().split()[1]) * page / 2**20
        RSS.append((time.perf_counter(), rss, pa.total_allocated_bytes() / 2**20))


def slot_seconds(
    intervals: list[tuple[float, float]], lo: float, hi: float, clip: list[tuple[float, float]] | None = None
) -> float:
    """Seconds x calls in flight within [lo, hi] (restricted to the `clip` intervals when given)."""
    total = 0.0
    for start, end in intervals:
        for c_lo, c_hi in clip or [(lo, hi)]:
            total += max(0.0, min(end, hi, c_hi) - max(start, lo, c_lo))
    return total


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(t0: float, t1: float, latency: float, workers: int) -> None:
    calls = [(s, e) for kind, s, e, _ in EVENTS if kind == "call"]
    decodes = [e - s for kind, s, e, _ in EVENTS if kind == "decode"]
    loads = [(s, e, rows) for kind, s, e, rows in EVENTS if kind == "load"]
    first, last = min(s for s, _ in calls), max(e for _, e in calls)
    ideal = len(calls) * latency / workers or float("nan")  # latency 0: a memory run, no ideal
    wall = t1 - t0
    busy = sum(e - s for s, e in calls)
    api_span = last - first
    idle = workers * api_span - busy
    load_spans = [(s, e) for s, e, _ in loads]
    idle_loading = workers * slot_seconds(load_spans, first, last) - slot_seconds(
        calls, first, last, load_spans
    )
    parts = {
        "start-up (to first track.list)": first - t0,
        "slow answers (wire time beyond latency)": (busy - sum(decodes) - len(calls) * latency) / workers,
        "decoding on the workers": sum(decodes) / workers,
        "idle slots while a batch loads": idle_loading / workers,
        "idle slots otherwise": (idle - idle_loading) / workers,
        "tail (last answer to return)": t1 - last,
    }
    print(f"{len(calls)} track.list calls, wall {wall:.1f}s, ideal {ideal:.1f}s, ratio {wall / ideal:.3f}")
    print(f"over the ideal: {wall - ideal:.1f}s")
    for name, seconds in parts.items():
        print(f"  {name:<42} {seconds:7.1f}s  ({seconds / ideal * 100:5.1f}% of ideal)")
    print(f"  {'(sum of parts)':<42} {sum(parts.values()):7.1f}s")
    print(
        f"decode: {len(decodes)} answers, {sum(decodes):.1f}s, mean {sum(decodes) / len(decodes) * 1000:.0f} ms"
    )
    wire = sorted(e - s for s, e in calls)
    overlapping = [e - s for s, e in calls if any(s < le and e > ls for ls, le in load_spans)]
    apart = [e - s for s, e in calls if not any(s < le and e > ls for ls, le in load_spans)]
    if overlapping and apart:
        print(
            f"mean call time (incl. decode) overlapping a load {sum(overlapping) / len(overlapping):.2f}s "
            f"({len(overlapping)} calls), otherwise {sum(apart) / len(apart):.2f}s ({len(apart)} calls)"
        )
    print(
        f"call time incl. decode: p50 {wire[len(wire) // 2]:.2f}s, p95 {wire[int(len(wire) * 0.95)]:.2f}s, max {wire[-1]:.2f}s"
    )
    print(
        f"loads: {len(loads)} batches, {sum(e - s for s, e, _ in loads):.1f}s, rows {sum(r for *_, r in loads)}"
    )
    for s, e, rows in loads:
        during = max((mib for moment, mib, _ in RSS if s <= moment <= e), default=0.0)
        print(f"  load at {s - t0:6.1f}s for {e - s:5.1f}s, {rows} rows, RSS peak during it {during:.0f} MiB")
    waits = [e - s for kind, s, e, _ in EVENTS if kind == "lock_wait"]
    held = [e - s for kind, s, e, _ in EVENTS if kind == "lock_held"]
    print(f"writer lock: {len(held)} holds, {sum(held):.1f}s held, {sum(waits):.1f}s waited")
    # In-flight calls over the API phase, in tenths of it: where the slots went idle.
    tenth = api_span / 10
    flight = [slot_seconds(calls, first + i * tenth, first + (i + 1) * tenth) / tenth for i in range(10)]
    print("mean calls in flight per tenth of the API phase: " + " ".join(f"{value:.1f}" for value in flight))
    if RSS:
        peak = max(RSS, key=lambda item: item[1])
        arrow = max(RSS, key=lambda item: item[2])
        print(f"Arrow pool peak {arrow[2]:.0f} MiB at {arrow[0] - t0:.0f}s")
        outside = max(
            (mib for moment, mib, _ in RSS if not any(s <= moment <= e for s, e in load_spans)), default=0.0
        )
        print(f"RSS peak outside loads {outside:.0f} MiB")
        steps = [f"{m:.0f}/{a:.0f}" for _, m, a in RSS[:: max(1, len(RSS) // 12)]]
        print(
            f"RSS peak {peak[1]:.0f} MiB at {peak[0] - t0:.0f}s; RSS/Arrow over time (MiB): {' '.join(steps)}"
        )
    print(f"backfill_breakdown_ratio: {wall / ideal:.2f} (target <= 1.15)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--batch-rows", type=int, help="rows per load batch (default: backfill.LOAD_BATCH_ROWS)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-breakdown-"))
    os.environ["JIMI_SIM_LATENCY"] = f"jimi.device.track.list={args.latency}"
    os.environ.setdefault("JIMI_SIM_LATE_SHARE", "0")
    simulator, url = start_simulator(free_port(), ["--devices", str(args.devices)])
    os.environ.update({**source_env(url), "JIMI_DATA_DIR": str(folder), "RUNTIME__LOG_LEVEL": "ERROR"})
    try:
        from orchestration.engine.polling import load_jimi

        instrument()
        if args.batch_rows:
            from orchestration.engine import backfill

            backfill.LOAD_BATCH_ROWS = args.batch_rows
        stop_event = threading.Event()
        threading.Thread(target=sample_rss, args=(stop_event,), daemon=True).start()
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        cpu0, sim0, load0 = cpu_seconds(), cpu_seconds(simulator.pid), os.getloadavg()[0]
        t0 = time.perf_counter()
        load_jimi(
            ["track_points"],
            start=end - timedelta(days=args.days),
            end=end,
            max_workers=args.workers,
            calls_per_second=0,
        )
        t1 = time.perf_counter()
        cpu1, sim1 = cpu_seconds(), cpu_seconds(simulator.pid)
        stop_event.set()
    finally:
        stop(simulator)
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"CPU seconds: backfill {cpu1 - cpu0:.0f}, simulator {sim1 - sim0:.0f} (2 CPUs x wall = {2 * (t1 - t0):.0f}); "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    report(t0, t1, args.latency, args.workers)


if __name__ == "__main__":
    main()
