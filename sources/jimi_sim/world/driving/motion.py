"""Speed along a route: road-class cruise speeds, slowing for turns, traffic-light halts, smooth ramps.

The profile is piecewise constant acceleration, so distance travelled at any instant is exact and
analytic (s = s0 + v0*t + a*t^2/2). That is what makes the emitted fixes honest: the distance between two
fixes is what the reported speeds integrate to, not an independent guess.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass

from sources.jimi_sim.world.catalogue import Habits
from sources.jimi_sim.world.driving.paths import Route

_KMH = 1 / 3.6
# Cruise ranges in km/h: town streets near either end of a trip, arterials, and highways on long trips.
_URBAN, _ARTERIAL, _HIGHWAY = (25.0, 45.0), (40.0, 65.0), (65.0, 95.0)
_HALT_CHANCE = {_URBAN: 0.30, _ARTERIAL: 0.15, _HIGHWAY: 0.03}


@dataclass(frozen=True)
class SpeedProfile:
    """Phases of constant acceleration covering one trip from standstill to standstill."""

    t0s: tuple[float, ...]
    s0s: tuple[float, ...]
    v0s: tuple[float, ...]
    accs: tuple[float, ...]
    duration: float
    length: float

    def at(self, t: float) -> tuple[float, float]:
        """(distance m, speed m/s) at t seconds after departure."""
        if t <= 0 or not self.t0s:
            return 0.0, 0.0
        if t >= self.duration:
            return self.length, 0.0
        i = bisect_right(self.t0s, t) - 1
        dt = t - self.t0s[i]
        v0, acc = self.v0s[i], self.accs[i]
        return min(self.s0s[i] + v0 * dt + 0.5 * acc * dt * dt, self.length), max(v0 + acc * dt, 0.0)


def plan_speeds(rng: random.Random, route: Route, habits: Habits) -> SpeedProfile:
    """A speed profile for driving `route` with this vehicle's dynamics."""
    bounds, vmax, caps, halts = _sections(rng, route, habits)
    entry = _boundary_speeds(bounds, vmax, caps, halts, habits.accel, habits.decel)
    return _phases(bounds, vmax, entry, halts, habits.accel, habits.decel)


def _sections(
    rng: random.Random, route: Route, habits: Habits
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Section boundaries (m), cruise limit per section (m/s), speed cap and halt seconds per boundary."""
    length = route.length
    bounds, vmax, caps, halts = [0.0], [], [0.0], [0.0]
    top = habits.top_speed_kmh
    corners = [j for j in route.junctions if 1.0 < j.s < length - 1.0]
    stops = [j.s for j in corners] + [length]
    for index, end in enumerate(stops):
        start = bounds[-1]
        pace = rng.random()  # how briskly this stretch of road flows, whatever its class
        for piece_end in _pieces(rng, start, end):
            low, high = _road_class(bounds[-1], piece_end, length, end - start)
            cruise = min((low + pace * (high - low)) * rng.uniform(0.88, 1.08), top)
            vmax.append(cruise * _KMH)
            bounds.append(piece_end)
            caps.append(math.inf)
            halts.append(0.0)
        if index < len(corners):
            caps[-1] = _turn_cap(rng, corners[index].turn) * _KMH
            if rng.random() < _HALT_CHANCE[_road_class(start, end, length, end - start)]:
                halts[-1] = float(rng.randint(10, 90))
    caps[-1], halts[-1] = 0.0, 0.0  # arrive at standstill; the stop itself is not a halt
    return bounds, vmax, caps, halts


def _road_class(start: float, end: float, length: float, section: float) -> tuple[float, float]:
    """Town streets near either end of a trip; highways only on long legs in the middle of long trips."""
    middle = (start + end) / 2
    from_ends = min(middle, length - middle)
    if from_ends < 1_200.0:
        return _URBAN
    if length > 12_000.0 and section > 1_500.0 and from_ends > 3_000.0:
        return _HIGHWAY
    return _ARTERIAL


def _pieces(rng: random.Random, start: float, end: float) -> list[float]:
    """Split long sections so cruise speed drifts like real traffic (400-900 m pieces)."""
    cuts, at = [], start
    while end - at > 900.0:
        at += rng.uniform(400.0, 900.0)
        if end - at < 200.0:
            break
        cuts.append(at)
    return cuts + [end]


def _turn_cap(rng: random.Random, turn: float) -> float:
    if turn >= 60.0:
        return rng.uniform(15.0, 25.0)
    if turn >= 30.0:
        return rng.uniform(25.0, 40.0)
    if turn >= 15.0:
        return rng.uniform(40.0, 55.0)
    return math.inf


def _boundary_speeds(
    bounds: list[float], vmax: list[float], caps: list[float], halts: list[float], acc: float, dec: float
) -> list[float]:
    """Speeds at each boundary, reachable from both neighbours (forward then backward pass)."""
    n = len(bounds) - 1
    w = [0.0] * (n + 1)
    for j in range(1, n):
        w[j] = 0.0 if halts[j] > 0 else min(vmax[j - 1], vmax[j], caps[j])
    for j in range(1, n + 1):
        w[j] = min(w[j], math.sqrt(w[j - 1] ** 2 + 2 * acc * (bounds[j] - bounds[j - 1])))
    for j in range(n - 1, -1, -1):
        w[j] = min(w[j], math.sqrt(w[j + 1] ** 2 + 2 * dec * (bounds[j + 1] - bounds[j])))
    return w


def _phases(
    bounds: list[float], vmax: list[float], w: list[float], halts: list[float], acc: float, dec: float
) -> SpeedProfile:
    t0s: list[float] = []
    s0s: list[float] = []
    v0s: list[float] = []
    accs: list[float] = []
    t = 0.0

    def add(s0: float, v0: float, a: float, seconds: float) -> None:
        nonlocal t
        if seconds > 1e-9:
            t0s.append(t)
            s0s.append(s0)
            v0s.append(v0)
            accs.append(a)
            t += seconds

    for j in range(len(bounds) - 1):
        d, u, out = bounds[j + 1] - bounds[j], w[j], w[j + 1]
        peak = min(vmax[j], math.sqrt((2 * acc * dec * d + dec * u * u + acc * out * out) / (acc + dec)))
        peak = max(peak, u, out)
        d_acc, d_dec = (peak * peak - u * u) / (2 * acc), (peak * peak - out * out) / (2 * dec)
        add(bounds[j], u, acc, (peak - u) / acc)
        add(bounds[j] + d_acc, peak, 0.0, max(d - d_acc - d_dec, 0.0) / peak if peak > 0 else 0.0)
        add(bounds[j + 1] - d_dec, peak, -dec, (peak - out) / dec)
        add(bounds[j + 1], 0.0, 0.0, halts[j + 1])
    return SpeedProfile(tuple(t0s), tuple(s0s), tuple(v0s), tuple(accs), t, bounds[-1])
