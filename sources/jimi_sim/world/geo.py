"""Geometry for the synthetic fleet: a local metric plane around Nairobi, haversine, bearings.

Paths are built in metres on a flat plane (fast, simple maths) and projected to WGS-84 only when a fix is
emitted. Near the equator over a ~60 km region the projection error is far below the 6-decimal rounding
the API applies, so haversine lengths of emitted fixes agree with the planar path lengths.
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
ORIGIN_LAT = -1.2864  # Nairobi CBD
ORIGIN_LNG = 36.8172
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180.0
M_PER_DEG_LNG = M_PER_DEG_LAT * math.cos(math.radians(ORIGIN_LAT))

XY = tuple[float, float]


def to_latlng(x: float, y: float) -> tuple[float, float]:
    """Plane metres (east, north of the origin) to (lat, lng) rounded as the API reports them."""
    return round(ORIGIN_LAT + y / M_PER_DEG_LAT, 6), round(ORIGIN_LNG + x / M_PER_DEG_LNG, 6)


def to_xy(lat: float, lng: float) -> XY:
    return (lng - ORIGIN_LNG) * M_PER_DEG_LNG, (lat - ORIGIN_LAT) * M_PER_DEG_LAT


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres; the ground-truth metric for every distance the sim reports."""
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bearing_xy(a: XY, b: XY) -> float:
    """Compass bearing in degrees (0 = north, clockwise) from a to b on the plane."""
    return math.degrees(math.atan2(b[0] - a[0], b[1] - a[1])) % 360.0


def distance_xy(a: XY, b: XY) -> float:
    return math.hypot(b[0] - a[0], b[1] - a[1])


def step_xy(origin: XY, bearing_deg: float, distance_m: float) -> XY:
    """The point `distance_m` from origin along a compass bearing."""
    rad = math.radians(bearing_deg)
    return origin[0] + distance_m * math.sin(rad), origin[1] + distance_m * math.cos(rad)


def turn_deg(from_bearing: float, to_bearing: float) -> float:
    """Signed smallest turn (-180, 180] from one bearing to another."""
    return (to_bearing - from_bearing + 180.0) % 360.0 - 180.0
