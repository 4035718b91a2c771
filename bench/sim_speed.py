"""Is the simulator fast enough to benchmark the pipeline? Its share of the time per answer, 2,000 devices.

One run, one machine, ratios only (machines are noisy): the simulator answers a fleet
`jimi.user.device.location.list` (2,000 devices, steady state: one sweep a minute, as the pipeline polls)
and a 7-day `jimi.device.track.list`; the pipeline processes the same bodies with its own decoder
(`sources.jimi.decode.decode` with the `LIVE_LOCATIONS` / `TRACK_POINTS` shapes, JSON parsing included).
Simulator time is the method handler plus JSON serialisation, in process (the HTTP transport is neither
side's work). Both sides are timed in CPU time of this thread (`time.thread_time`), interleaved: on a shared
machine wall time mostly measures who else was running. The value is the simulator's share of the summed
medians; target <= 0.5, i.e. a pipeline
benchmark spends at least half its time in the pipeline. Cold numbers (first sweep of a fleet nobody has
generated yet; `jimi-sim serve` warms today's fleet up in the background) are printed for information, and
so is the CPU time of generating one device-day nobody asked for yet (`live_day`, routes uncached): what a
backfill over a fresh window pays per device and day before any answer can be served.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sources.jimi_sim.api.methods import METHODS
from sources.jimi_sim.api.server import warm_up
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.catalogue import build_devices
from sources.jimi_sim.world.driving.daylife import live_day

DEVICES = 2_000
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Nairobi: about half the fleet driving
SWEEPS = 25
TRACKS = 25
TARGET = 0.5
GENERATED_DEVICES, GENERATED_DAYS = 10, 7


def _body(payload: object) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return orjson.dumps({"code": 0, "message": "success", **payload})  # type: ignore[dict-item]


def _pipeline():
    """The pipeline's own processing of each answer: the source's decoder with the live and track shapes."""
    from sources.jimi.decode import decode
    from sources.jimi.resources.positions import LIVE_LOCATIONS, TRACK_POINTS

    return (lambda body: decode(LIVE_LOCATIONS, body)), (
        lambda body, imei: decode(TRACK_POINTS, body, key=imei)
    )


def day_generation_ms() -> float:
    """CPU milliseconds per uncached device-day: 10 reporting devices over 7 days of a seed used nowhere else."""
    devices = [device for device in build_devices(99, 40) if device.habits.reporting][:GENERATED_DEVICES]
    days = [date(2026, 6, 1) + timedelta(days=k) for k in range(GENERATED_DAYS)]
    started = time.thread_time()
    for device in devices:
        for day in days:
            live_day(99, device, day)
    return (time.thread_time() - started) / (len(devices) * len(days)) * 1e3


def main() -> None:
    clock = time.thread_time
    generation_ms = day_generation_ms()
    sim = Simulator.build(SimSettings(devices=DEVICES, now=NOW))
    sweep = METHODS["jimi.user.device.location.list"].handler
    track = METHODS["jimi.device.track.list"].handler
    decode_locations, decode_track = _pipeline()

    started = time.perf_counter()
    first = _body(sweep(sim, {"target": sim.settings.user_id}))
    cold_sweep = time.perf_counter() - started
    warm_up(sim.fleet).join()  # what `jimi-sim serve` does in the background at start-up
    gc.collect()
    gc.freeze()  # the generated fleet is long-lived: keep the collector from rescanning it
    decode_locations(first)  # first use of the decoder pays its own start-up

    sim_sweeps, pipe_sweeps = [], []
    for _ in range(SWEEPS):
        sim.clock.advance(60)
        started = clock()
        body = _body(sweep(sim, {"target": sim.settings.user_id}))
        sim_sweeps.append(clock() - started)
        started = clock()
        rows = decode_locations(body)
        pipe_sweeps.append(clock() - started)

    imei = next(device.imei for device in sim.fleet.devices if device.habits.reporting)
    window = {"imei": imei, "begin_time": "2026-11-11 09:00:00", "end_time": "2026-11-18 09:00:00"}
    started = clock()
    body = _body(track(sim, window))
    cold_track = clock() - started
    sim_tracks, pipe_tracks = [], []
    for _ in range(TRACKS):
        started = clock()
        body = _body(track(sim, window))
        sim_tracks.append(clock() - started)
        started = clock()
        points = decode_track(body, imei)
        pipe_tracks.append(clock() - started)

    ms = statistics.median
    sim_total = ms(sim_sweeps) + ms(sim_tracks)
    pipe_total = ms(pipe_sweeps) + ms(pipe_tracks)
    share = sim_total / (sim_total + pipe_total)
    print(f"location.list, {DEVICES} devices, {len(orjson.loads(first)['result'])} with a fix:")
    print(
        f"  simulator {ms(sim_sweeps) * 1e3:.1f} ms per sweep (cold first sweep {cold_sweep:.1f} s), "
        f"pipeline decode {ms(pipe_sweeps) * 1e3:.1f} ms ({_len(rows)} rows)"
    )
    print(f"track.list, 7 days, one device ({_len(points)} points, {len(body) / 1e6:.2f} MB):")
    print(
        f"  simulator {ms(sim_tracks) * 1e3:.1f} ms (cold {cold_track * 1e3:.0f} ms), "
        f"pipeline decode {ms(pipe_tracks) * 1e3:.1f} ms"
    )
    print(
        f"one uncached device-day generated in {generation_ms:.1f} ms "
        f"({GENERATED_DEVICES} devices x {GENERATED_DAYS} days, CPU)"
    )
    print(f"simulator {sim_total * 1e3:.1f} ms vs pipeline {pipe_total * 1e3:.1f} ms (medians)")
    print(f"sim_speed: {share:.2f} (target <= {TARGET})")


def _len(rows: object) -> int:
    return getattr(rows, "num_rows", None) or len(rows)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
