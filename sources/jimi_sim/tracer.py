"""Sample a drive: where the vehicle is, how fast and which way it heads at each fix instant.

This is the hot loop of the simulator (most fixes it ever serves come from here), so it walks the speed
phases and path pieces with forward-only cursors instead of bisecting, and inlines the projection and the
haversine. The distance of each fix from the previous one is measured on the rounded coordinates that are
reported, so ground-truth trip lengths are exactly what a consumer can recompute from the points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sources.jimi_sim.columns import FixRows
from sources.jimi_sim.geo import EARTH_RADIUS_M, M_PER_DEG_LAT, M_PER_DEG_LNG, ORIGIN_LAT, ORIGIN_LNG
from sources.jimi_sim.motion import SpeedProfile
from sources.jimi_sim.paths import Route


def trace(route: Route, profile: SpeedProfile, offsets: Sequence[int], t0: int) -> FixRows:
    """Samples at ascending whole-second offsets after departure at epoch t0: time, position, true speed
    (km/h), direction and metres since the previous sample; satellites and flags are the caller's."""
    t0s, s0s, v0s, accs = profile.t0s, profile.s0s, profile.v0s, profile.accs
    cum, xs, ys, headings = route.cum, route.xs, route.ys, route.headings
    n_phases, last_piece = len(t0s), len(cum) - 2
    duration, length = profile.duration, profile.length
    sin, cos, asin, sqrt = math.sin, math.cos, math.asin, math.sqrt
    half_rad, rad, two_r = math.pi / 360.0, math.pi / 180.0, 2 * EARTH_RADIUS_M
    out = FixRows()
    epochs, lats, lngs, speeds, directions, dists = (
        out.epochs, out.lats, out.lngs, out.speeds, out.directions, out.dists
    )
    phase = piece = 0
    prev_lat = prev_lng = prev_cos = 0.0
    for t in offsets:
        if t <= 0 or n_phases == 0:
            s, v = 0.0, 0.0
        elif t >= duration:
            s, v = length, 0.0
        else:
            while phase + 1 < n_phases and t0s[phase + 1] <= t:
                phase += 1
            dt = t - t0s[phase]
            v0, a = v0s[phase], accs[phase]
            s, v = s0s[phase] + v0 * dt + 0.5 * a * dt * dt, v0 + a * dt
            s = min(s, length)
            v = max(v, 0.0)
        while piece < last_piece and cum[piece + 1] <= s:
            piece += 1
        span = cum[piece + 1] - cum[piece]
        frac = (s - cum[piece]) / span if span > 0 else 0.0
        frac = 0.0 if frac < 0.0 else min(frac, 1.0)
        lat = round(ORIGIN_LAT + (ys[piece] + (ys[piece + 1] - ys[piece]) * frac) / M_PER_DEG_LAT, 6)
        lng = round(ORIGIN_LNG + (xs[piece] + (xs[piece + 1] - xs[piece]) * frac) / M_PER_DEG_LNG, 6)
        lat_cos = cos(lat * rad)
        if epochs:
            h = (
                sin((lat - prev_lat) * half_rad) ** 2
                + prev_cos * lat_cos * sin((lng - prev_lng) * half_rad) ** 2
            )
            dist = two_r * asin(sqrt(h) if h < 1.0 else 1.0)
        else:
            dist = 0.0
        epochs.append(t0 + t)
        lats.append(lat)
        lngs.append(lng)
        speeds.append(round(v * 3.6, 1))
        directions.append(round(headings[piece]) % 360)
        dists.append(dist)
        prev_lat, prev_lng, prev_cos = lat, lng, lat_cos
    return out
