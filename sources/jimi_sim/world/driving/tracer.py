"""Sample a drive: where the vehicle is, how fast and which way it heads at each fix instant.

This is the hot loop of the simulator (most fixes it ever serves come from here). The arithmetic of a whole
trip runs as numpy arrays: only IEEE-exact operations (+, -, *, /, comparisons, lookups), in the same order
as the scalar formulas, so every value is bit-for-bit what per-fix Python gives. Trigonometry stays with
`math` (numpy's sin/cos may differ in the last bit, and by CPU), and `round(x, n)` is reproduced exactly by
`rounded`. The distance of each fix from the previous one is measured on the rounded coordinates that are
reported, so ground-truth trip lengths are exactly what a consumer can recompute from the points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sources.jimi_sim.world.columns import FixRows
from sources.jimi_sim.world.driving.motion import SpeedProfile
from sources.jimi_sim.world.driving.paths import Route
from sources.jimi_sim.world.geo import EARTH_RADIUS_M, M_PER_DEG_LAT, M_PER_DEG_LNG, ORIGIN_LAT, ORIGIN_LNG

_HALF_RAD, _RAD, _TWO_R = math.pi / 360.0, math.pi / 180.0, 2 * EARTH_RADIUS_M
# Scaled values this close to a half are left to Python's round: far above the error of the scaling
# multiply (< 1e-8 for any coordinate or speed here), so every other value rounds the same either way.
_TIE_MARGIN = 1e-6


def trace(route: Route, profile: SpeedProfile, offsets: Sequence[int], t0: int) -> FixRows:
    """Samples at ascending whole-second offsets after departure at epoch t0: time, position, true speed
    (km/h), direction and metres since the previous sample; satellites and flags are the caller's."""
    t = np.asarray(offsets, dtype=np.float64)
    s, v = _motion(profile, t)
    cum = np.frombuffer(route.cum, dtype=np.float64)
    # The piece under each fix: a cursor that only moves forward (s may dip by a rounding error).
    piece = np.maximum.accumulate(np.clip(np.searchsorted(cum, s, "right") - 1, 0, len(cum) - 2))
    start = cum[piece]
    span = cum[piece + 1] - start
    frac = np.where(span > 0, (s - start) / np.where(span > 0, span, 1.0), 0.0)
    frac = np.where(frac < 0.0, 0.0, np.where(1.0 < frac, 1.0, frac))
    xs, ys = np.frombuffer(route.xs, dtype=np.float64), np.frombuffer(route.ys, dtype=np.float64)
    y0, x0 = ys[piece], xs[piece]
    lats = rounded(ORIGIN_LAT + (y0 + (ys[piece + 1] - y0) * frac) / M_PER_DEG_LAT, 6)
    lngs = rounded(ORIGIN_LNG + (x0 + (xs[piece + 1] - x0) * frac) / M_PER_DEG_LNG, 6)
    out = FixRows()
    out.epochs = [t0 + offset for offset in offsets]
    out.lats, out.lngs = lats, lngs
    out.speeds = rounded(v * 3.6, 1)
    headings = [round(heading) % 360 for heading in route.headings]
    out.directions = [headings[index] for index in piece.tolist()]
    out.dists = _steps(np.array(lats), np.array(lngs))
    return out


def _motion(profile: SpeedProfile, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance m, speed m/s) at each offset: `SpeedProfile.at`, formula for formula."""
    if not profile.t0s:
        return np.zeros(len(t)), np.zeros(len(t))
    phase = np.maximum(np.searchsorted(profile.t0s, t, "right") - 1, 0)
    dt = t - np.asarray(profile.t0s)[phase]
    v0, acc = np.asarray(profile.v0s)[phase], np.asarray(profile.accs)[phase]
    s = np.asarray(profile.s0s)[phase] + v0 * dt + 0.5 * acc * dt * dt
    v = v0 + acc * dt
    s = np.where(profile.length < s, profile.length, s)  # min(s, length) and max(v, 0.0), signed zeros too
    v = np.where(0.0 > v, 0.0, v)
    before, after = t <= 0, t >= profile.duration
    return np.where(before, 0.0, np.where(after, profile.length, s)), np.where(before | after, 0.0, v)


def _steps(lats: np.ndarray, lngs: np.ndarray) -> list[float]:
    """Haversine metres from each fix to the next, 0 for the first (`geo.haversine_m`, regrouped)."""
    sin, asin, sqrt = math.sin, math.asin, math.sqrt
    cosines = np.array(list(map(math.cos, (lats * _RAD).tolist())))
    rows = zip(
        ((lats[1:] - lats[:-1]) * _HALF_RAD).tolist(),
        ((lngs[1:] - lngs[:-1]) * _HALF_RAD).tolist(),
        (cosines[:-1] * cosines[1:]).tolist(),
        strict=True,
    )
    out = [0.0]
    out += [
        _TWO_R * asin(sqrt(h) if h < 1.0 else 1.0)
        for h in (sin(a) ** 2 + c * sin(b) ** 2 for a, b, c in rows)
    ]
    return out


def rounded(values: np.ndarray, digits: int) -> list[float]:
    """`[round(x, digits) for x in values]`, exactly: the nearest integer to x * 10**digits, divided back
    (IEEE division gives the double nearest that decimal, as Python's round does); near-ties go to round."""
    scale = 10.0**digits
    scaled = values * scale
    whole = np.rint(scaled)
    out = (whole / scale).tolist()
    for index in np.flatnonzero(np.abs(np.abs(scaled - whole) - 0.5) < _TIE_MARGIN).tolist():
        out[index] = round(float(values[index]), digits)
    return out
