"""Recorded traces as devices: a CSV of real fixes served like any simulated vehicle.

A trace file has the header `imei,gps_time,lat,lng,speed_kmh,direction,acc` (UTC `yyyy-MM-dd HH:mm:ss`,
acc 0/1) and may hold several IMEIs. Its trips and stops (for `track.mileage` and the parking report) are
segmented from the fixes the way a platform does it: a stop is a stationary stretch (speed below 3 km/h)
of at least three minutes, parking if the ignition went off during it, idling otherwise; a trip runs from
one stop's last fix to the next stop's first fix, its distance the haversine sum of its fixes.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from sources.jimi_sim.world import geo
from sources.jimi_sim.world.catalogue import Device, Habits, plate_for
from sources.jimi_sim.world.columns import FixColumns
from sources.jimi_sim.world.equipment import build_equipment
from sources.jimi_sim.world.geo import haversine_m
from sources.jimi_sim.world.model import Point, Stop, Trip

HEADER = ("imei", "gps_time", "lat", "lng", "speed_kmh", "direction", "acc")
STATIONARY_KMH = 3.0
MIN_STOP_S = 180


@dataclass(frozen=True)
class TraceLog:
    """One traced device: its fixes and the trips and stops segmented from them."""

    imei: str
    fixes: FixColumns
    trips: tuple[Trip, ...]
    stops: tuple[Stop, ...]


def load_traces(paths: tuple[str, ...] | list[str]) -> dict[str, TraceLog]:
    """Every IMEI of every file; fixes sorted by time, a repeated time kept once."""
    by_imei: dict[str, dict[int, Point]] = defaultdict(dict)
    for path in paths:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(name.strip() for name in reader.fieldnames or ()) != HEADER:
                raise ValueError(f"{path}: the header must be {','.join(HEADER)}")
            for line, row in enumerate(reader, start=2):
                try:
                    point = _point(row)
                except (KeyError, ValueError) as exc:
                    raise ValueError(f"{path}:{line}: {exc}") from None
                by_imei[row["imei"].strip()][int(point.gps_time.timestamp())] = point
    return {imei: _log(imei, [fixes[k] for k in sorted(fixes)]) for imei, fixes in by_imei.items()}


def _point(row: dict[str, str]) -> Point:
    moment = datetime.strptime(row["gps_time"].strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    acc = row["acc"].strip()
    if acc not in ("0", "1"):
        raise ValueError(f"acc must be 0 or 1, not {acc!r}")
    direction = int(float(row["direction"])) % 360
    return Point(
        moment,
        round(float(row["lat"]), 6),
        round(float(row["lng"]), 6),
        round(float(row["speed_kmh"]), 1),
        direction,
        acc == "1",
        10,
    )


def _log(imei: str, points: list[Point]) -> TraceLog:
    stepped = [points[0]] if points else []
    for a, b in itertools.pairwise(points):
        moving = a.speed_kmh >= STATIONARY_KMH or b.speed_kmh >= STATIONARY_KMH
        stepped.append(b._replace(dist_m=haversine_m(a.lat, a.lng, b.lat, b.lng) if moving else 0.0))
    trips, stops = segment(stepped)
    return TraceLog(imei, FixColumns(stepped), trips, stops)


def segment(points: list[Point]) -> tuple[tuple[Trip, ...], tuple[Stop, ...]]:
    """Trips and stops of a time-ordered series of fixes."""
    runs: list[tuple[int, int]] = []  # index ranges [first, last] of long-enough stationary stretches
    k = 0
    while k < len(points):
        if points[k].speed_kmh >= STATIONARY_KMH:
            k += 1
            continue
        first = k
        while k + 1 < len(points) and points[k + 1].speed_kmh < STATIONARY_KMH:
            k += 1
        ends = points[k + 1].gps_time if k + 1 < len(points) else points[k].gps_time
        if (ends - points[first].gps_time).total_seconds() >= MIN_STOP_S:
            runs.append((first, k))
        k += 1
    stops = tuple(
        Stop(
            points[a].gps_time,
            points[b].gps_time,
            "idling" if all(p.acc for p in points[a : b + 1]) else "parking",
            points[a].lat,
            points[a].lng,
        )
        for a, b in runs
    )
    edges = [(-1, 0)] + runs + [(len(points), len(points))]
    trips = []
    for (_, start), (end, _) in itertools.pairwise(edges):
        start, end = max(start, 0), min(end, len(points) - 1)
        if end - start < 1:
            continue
        leg = points[start : end + 1]
        metres = sum(point.dist_m for point in leg[1:])  # the same metres track.list's mileage adds up
        a, b = leg[0], leg[-1]
        trips.append(Trip(a.gps_time, b.gps_time, metres / 1000, a.lat, a.lng, b.lat, b.lng))
    return tuple(trips), stops


def trace_device(seed: int, index: int, log: TraceLog) -> Device:
    """A device.list entry for a traced IMEI (a car tracker with ACC, in its own group)."""
    first, last = log.fixes.point(0), log.fixes.point(-1)
    gaps = [b - a for a, b in zip(log.fixes.epochs, log.fixes.epochs[1:], strict=False)] or [30]
    interval = max(int(median(gaps)), 1)
    habits = Habits(
        base=geo.to_xy(first.lat, first.lng),
        depot="Trace",
        shift="day",
        shift_start_min=0,
        shift_len_min=0,
        days_off=frozenset(),
        moving_interval_s=interval,
        parked_interval_s=interval,
        idle_interval_s=interval,
        accel=1.0,
        decel=1.5,
        top_speed_kmh=130.0,
        places=(),
        reporting=True,
    )
    activation = first.gps_time.replace(hour=0, minute=0, second=0)
    return Device(
        index=index,
        imei=log.imei,
        device_name=f"Trace {log.imei[-4:]}",
        mc_type="GT06N",
        kind="car",
        vehicle_number=plate_for(seed, index),
        vehicle_name="Recorded vehicle",
        vehicle_icon="automobile",
        driver_name="",
        driver_phone="",
        sim="",
        car_frame="",
        engine_number="",
        group_id="trace",
        group_name="Traces",
        enabled=True,
        activation_time=activation,
        expiration=max(last.gps_time, activation).replace(year=activation.year + 10),
        habits=habits,
        equipment=replace(build_equipment(seed, index, "car"), role="tracker"),
    )
