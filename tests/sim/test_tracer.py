"""The vectorised tracer: `rounded` is Python's round, and whole trips equal the per-fix scalar loop."""

from __future__ import annotations

import math
import random

import numpy as np

from sources.jimi_sim.world.catalogue import build_devices
from sources.jimi_sim.world.driving.motion import plan_speeds
from sources.jimi_sim.world.driving.paths import plan_route
from sources.jimi_sim.world.driving.tracer import rounded, trace
from sources.jimi_sim.world.geo import EARTH_RADIUS_M, M_PER_DEG_LAT, M_PER_DEG_LNG, ORIGIN_LAT, ORIGIN_LNG


def test_rounded_equals_round_when_values_sit_on_or_near_ties() -> None:
    rng = random.Random(5)
    values = [-1.2864 + rng.uniform(-0.3, 0.3) for _ in range(20_000)]
    values += [36.8172 + rng.uniform(-0.3, 0.3) for _ in range(20_000)]
    values += [k / 128 for k in range(-5000, 5000)]  # exact binary ties at 6 decimals
    values += [(k + 0.5) / 1e6 for k in range(-2000, 2000)] + [(k + 0.5) / 10 for k in range(1500)]
    values += [math.nextafter(v, s) for v in values[-5500:] for s in (-math.inf, math.inf)]
    values += [0.0, -0.0, -0.04, 1e-7, -1e-7]
    for digits in (1, 6):
        got = rounded(np.array(values), digits)
        assert [repr(v) for v in got] == [repr(round(v, digits)) for v in values]


def test_trace_equals_scalar_loop_when_trips_of_every_kind_are_sampled() -> None:
    for device in build_devices(7, 25):
        rng = random.Random(device.imei)
        route = plan_route(rng, device.habits.base, device.habits.places[device.index % 8])
        profile = plan_speeds(rng, route, device.habits)
        duration = max(math.ceil(profile.duration), 1)
        offsets = [*range(0, duration, device.habits.moving_interval_s), duration]
        got = trace(route, profile, offsets, 1_700_000_000)
        want = _scalar(route, profile, offsets)
        columns = (got.epochs, got.lats, got.lngs, got.speeds, got.directions, got.dists)
        assert [repr(list(c)) for c in columns] == [repr(list(c)) for c in zip(*want, strict=True)]


def _scalar(route, profile, offsets) -> list[tuple]:
    """The per-fix loop the tracer replaced (forward-only cursors, inlined projection and haversine)."""
    t0s, s0s, v0s, accs = profile.t0s, profile.s0s, profile.v0s, profile.accs
    cum, xs, ys, headings = route.cum, route.xs, route.ys, route.headings
    n_phases, last_piece = len(t0s), len(cum) - 2
    out, phase, piece = [], 0, 0
    prev_lat = prev_lng = prev_cos = 0.0
    for t in offsets:
        if t <= 0 or n_phases == 0:
            s, v = 0.0, 0.0
        elif t >= profile.duration:
            s, v = profile.length, 0.0
        else:
            while phase + 1 < n_phases and t0s[phase + 1] <= t:
                phase += 1
            dt = t - t0s[phase]
            v0, a = v0s[phase], accs[phase]
            s, v = min(s0s[phase] + v0 * dt + 0.5 * a * dt * dt, profile.length), max(v0 + a * dt, 0.0)
        while piece < last_piece and cum[piece + 1] <= s:
            piece += 1
        span = cum[piece + 1] - cum[piece]
        frac = (s - cum[piece]) / span if span > 0 else 0.0
        frac = 0.0 if frac < 0.0 else min(frac, 1.0)
        lat = round(ORIGIN_LAT + (ys[piece] + (ys[piece + 1] - ys[piece]) * frac) / M_PER_DEG_LAT, 6)
        lng = round(ORIGIN_LNG + (xs[piece] + (xs[piece + 1] - xs[piece]) * frac) / M_PER_DEG_LNG, 6)
        lat_cos = math.cos(lat * (math.pi / 180.0))
        dist = 0.0
        if out:
            h = (
                math.sin((lat - prev_lat) * (math.pi / 360.0)) ** 2
                + prev_cos * lat_cos * math.sin((lng - prev_lng) * (math.pi / 360.0)) ** 2
            )
            dist = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h) if h < 1.0 else 1.0)
        out.append((1_700_000_000 + t, lat, lng, round(v * 3.6, 1), round(headings[piece]) % 360, dist))
        prev_lat, prev_lng, prev_cos = lat, lng, lat_cos
    return out
