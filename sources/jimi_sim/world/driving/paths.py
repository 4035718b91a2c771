"""Plausible road paths between two places: a homing random walk of road legs with rounded corners.

A path is a chain of legs (300 m - 2.5 km) joined at junctions. Each leg bends gently; each junction turns
towards the destination with some randomness (a street grid never points straight at where you are going),
and is rounded with a small Bezier arc so the heading changes gradually. Junctions are also where the speed
profile may slow down for the turn or halt at a traffic light (see `motion.py`).
"""

from __future__ import annotations

import itertools
import math
import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass

from sources.jimi_sim.world.geo import XY, bearing_xy, distance_xy, step_xy, turn_deg

_FINAL_APPROACH_M = 450.0  # closer than this, drive straight to the destination
_MAX_LEGS = 60
# Bends between junctions are at most 5 degrees per piece: gradual already, not worth an arc.
_MIN_SMOOTH_TURN_DEG = 8.0


@dataclass(frozen=True)
class Junction:
    """A corner of the path: where along it (metres) and how sharp the turn is (degrees, unsigned)."""

    s: float
    turn: float


@dataclass(frozen=True)
class Route:
    """A polyline on the local plane with cumulative lengths, for fast position lookup by distance."""

    # Typed arrays, not tuples of floats: routes between regular sites are cached, ~4x smaller this way.
    xs: array
    ys: array
    cum: array
    headings: array  # bearing of each piece i -> i+1
    junctions: tuple[Junction, ...]

    @property
    def length(self) -> float:
        return self.cum[-1]

    def at(self, s: float) -> tuple[float, float, float]:
        """(x, y, heading) at distance s along the path, clamped to its ends."""
        last = len(self.cum) - 2
        i = min(max(bisect_right(self.cum, s) - 1, 0), last)
        span = self.cum[i + 1] - self.cum[i]
        frac = 0.0 if span <= 0 else min(max((s - self.cum[i]) / span, 0.0), 1.0)
        x = self.xs[i] + (self.xs[i + 1] - self.xs[i]) * frac
        y = self.ys[i] + (self.ys[i + 1] - self.ys[i]) * frac
        return x, y, self.headings[i]


def plan_route(rng: random.Random, start: XY, end: XY) -> Route:
    """A smooth, plausible road path from start to end."""
    vertices, is_junction = _walk(rng, start, end)
    return _smooth(rng, vertices, is_junction)


def _walk(rng: random.Random, start: XY, end: XY) -> tuple[list[XY], list[bool]]:
    """Raw vertices of the homing walk, flagging the ends of legs as junctions."""
    vertices, is_junction = [start], [False]
    pos = start
    for _ in range(_MAX_LEGS):
        remaining = distance_xy(pos, end)
        if remaining < _FINAL_APPROACH_M:
            break
        spread = 35.0 if remaining > 3_000 else 20.0
        heading = bearing_xy(pos, end) + max(-70.0, min(70.0, rng.gauss(0.0, spread)))
        leg = min(rng.uniform(300.0, 2_500.0 if remaining > 5_000 else 1_200.0), 0.7 * remaining)
        walked = 0.0
        while walked < leg - 1.0:
            piece = min(rng.uniform(250.0, 600.0), leg - walked)
            heading += rng.uniform(-5.0, 5.0)  # roads bend a little between junctions
            pos = step_xy(pos, heading, piece)
            walked += piece
            vertices.append(pos)
            is_junction.append(False)
        is_junction[-1] = True
    if distance_xy(vertices[-1], end) < 5.0 and len(vertices) > 1:
        vertices.pop()
        is_junction.pop()
    vertices.append(end)
    is_junction.append(False)
    return vertices, is_junction


def _smooth(rng: random.Random, vertices: list[XY], is_junction: list[bool]) -> Route:
    """Round every corner with a quadratic Bezier arc and index the result."""
    out: list[XY] = [vertices[0]]
    corners: list[tuple[int, float]] = []  # (index of the arc's middle vertex in out, unsigned turn)
    # Each leg's bearing and length once (every inner vertex needs the ones on both sides).
    bearings = [bearing_xy(a, b) for a, b in itertools.pairwise(vertices)]
    lengths = [distance_xy(a, b) for a, b in itertools.pairwise(vertices)]
    for i in range(1, len(vertices) - 1):
        here = vertices[i]
        turn = abs(turn_deg(bearings[i - 1], bearings[i]))
        if turn < _MIN_SMOOTH_TURN_DEG:
            out.append(here)
            continue
        d_in, d_out = lengths[i - 1], lengths[i]
        radius = min(rng.uniform(12.0, 30.0), 0.45 * d_in, 0.45 * d_out)
        arc = _bezier_corner(vertices[i - 1], here, vertices[i + 1], d_in, d_out, radius, turn)
        if is_junction[i] or turn > 25.0:
            corners.append((len(out) + len(arc) // 2, turn))
        out.extend(arc)
    out.append(vertices[-1])
    return _index(out, corners)


def _bezier_corner(
    prev: XY, here: XY, nxt: XY, d_in: float, d_out: float, radius: float, turn: float
) -> list[XY]:
    """Points of a quadratic Bezier replacing the sharp corner at `here` (entry, ..., exit); d_in and d_out
    are the lengths of the legs prev-here and here-nxt."""
    ax = here[0] - (here[0] - prev[0]) / d_in * radius
    ay = here[1] - (here[1] - prev[1]) / d_in * radius
    bx = here[0] + (nxt[0] - here[0]) / d_out * radius
    by = here[1] + (nxt[1] - here[1]) / d_out * radius
    steps = max(2, math.ceil(turn / 15.0))
    points = []
    for k in range(steps + 1):
        t = k / steps
        u = 1.0 - t
        points.append(
            (u * u * ax + 2 * u * t * here[0] + t * t * bx, u * u * ay + 2 * u * t * here[1] + t * t * by)
        )
    return points


def _index(points: list[XY], corners: list[tuple[int, float]]) -> Route:
    xs, ys, cum, headings = [points[0][0]], [points[0][1]], [0.0], []
    along = [0.0]  # distance at every input point, so corner indices map to distances
    hypot, atan2, degrees = math.hypot, math.atan2, math.degrees  # geo.distance_xy, geo.bearing_xy inlined
    for a, b in itertools.pairwise(points):
        dx, dy = b[0] - a[0], b[1] - a[1]
        step = hypot(dx, dy)
        along.append(along[-1] + step)
        if step < 1e-6:
            continue  # duplicate vertex (e.g. arc entry on a previous vertex): no piece, no heading
        headings.append(degrees(atan2(dx, dy)) % 360.0)
        xs.append(b[0])
        ys.append(b[1])
        cum.append(cum[-1] + step)
    if len(cum) == 1:  # start == end: a zero-length route still needs one piece
        xs.append(xs[0])
        ys.append(ys[0])
        cum.append(0.0)
        headings.append(0.0)
    junctions = tuple(Junction(along[idx], turn) for idx, turn in corners if 0 < along[idx] < cum[-1])
    return Route(array("d", xs), array("d", ys), array("d", cum), array("d", headings), junctions)
