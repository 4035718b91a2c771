"""Platform geofences of the simulated account, where the fleet drives, and the visits they see.

Two kinds, deterministic for a seed and a fleet size:
- a 600 m circle around every depot that has devices, bound to the devices based there. These are the
  fences the existing geofence alarms (alarms.py: platform alarms "in"/"out", `geoid` = fence id, the
  fence name as the alarm name) are raised for, so alarms and fences tell one story.
- an irregular polygon (5-7 vertices, 250-450 m out) around the first regular site of every 5th device
  (index 1, 6, 11, ...), bound to that device only and with no alert type configured (so no alarms: the
  visits are still there in the positions).
Fences can be deleted on the platform (`FenceBook.delete`, what an operator does in the web UI; the API the
pipeline reads has no part in it), so loads can be checked to forget them. `visits()` is the ground truth
of which fixes were inside which bound fence (`truth` writes it as geofence_visits.csv).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sources.jimi_sim.timetext import epoch_text
from sources.jimi_sim.world import geo
from sources.jimi_sim.world.alarms import FENCE_RADIUS_M, depot_fence
from sources.jimi_sim.world.rand import rng_for

if TYPE_CHECKING:
    from datetime import datetime

    from sources.jimi_sim.world.fleet import Fleet

SITE_EVERY, SITE_AT = 5, 1
FENCE_COLOR = "#3B7AFF"  # the spec's default colour


@dataclass(frozen=True)
class Fence:
    fence_id: str
    name: str
    kind: str  # circle | polygon
    points: tuple[tuple[float, float], ...]  # (lat, lng): the centre of a circle, the vertices of a polygon
    radius_m: float | None
    imeis: tuple[str, ...]
    alert_type: str
    description: str
    color: str = FENCE_COLOR

    def contains(self, lat: float, lng: float) -> bool:
        if self.kind == "circle":
            # The planar test the depot alarms use (alarms.py), so truth visits and alarms agree.
            return geo.distance_xy(geo.to_xy(lat, lng), geo.to_xy(*self.points[0])) <= (self.radius_m or 0.0)
        return point_in_polygon(lat, lng, self.points)


def point_in_polygon(lat: float, lng: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Even-odd ray casting on (lat, lng) as plane coordinates (fine for fences a few hundred metres wide)."""
    inside = False
    for (lat1, lng1), (lat2, lng2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            crossing = lng1 + (lat - lat1) * (lng2 - lng1) / (lat2 - lat1)
            if lng < crossing:
                inside = not inside
    return inside


def build_fences(fleet: Fleet) -> list[Fence]:
    seed = fleet.settings.seed
    synthetic = [device for device in fleet.devices if device.imei not in fleet.traces]
    fences = []
    depots = sorted({device.habits.depot for device in synthetic})
    for depot in depots:
        geoid, name, centre = depot_fence(seed, depot)
        bound = tuple(device.imei for device in synthetic if device.habits.depot == depot)
        fences.append(
            Fence(
                geoid,
                name,
                "circle",
                (geo.to_latlng(*centre),),
                FENCE_RADIUS_M,
                bound,
                "in,out",
                f"Yard of the {depot} depot",
            )
        )
    for device in synthetic:
        if device.index % SITE_EVERY != SITE_AT or not device.habits.places:
            continue
        rng = rng_for("jimi-sim", seed, "site-fence", device.index)
        centre = device.habits.places[0]
        count = rng.randrange(5, 8)
        start = rng.uniform(0, 360)
        ring = tuple(
            geo.to_latlng(
                *geo.step_xy(centre, start + k * 360.0 / count + rng.uniform(-15, 15), rng.uniform(250, 450))
            )
            for k in range(count)
        )
        fence_id = hashlib.md5(f"jimi-sim/{seed}/site-fence/{device.index}".encode()).hexdigest()
        name = f"Site {device.index + 1:02d} ({device.vehicle_number})"
        fences.append(
            Fence(fence_id, name, "polygon", ring, None, (device.imei,), "", "Regular customer site")
        )
    return fences


@dataclass
class FenceBook:
    """The account's platform fences now: built once per fleet, minus those deleted since."""

    fences: list[Fence]
    deleted: set[str] = field(default_factory=set)

    def active(self) -> list[Fence]:
        return [fence for fence in self.fences if fence.fence_id not in self.deleted]

    def delete(self, fence_id: str) -> None:
        if fence_id not in {fence.fence_id for fence in self.fences}:
            raise KeyError(fence_id)
        self.deleted.add(fence_id)


def fence_book(fleet: Fleet) -> FenceBook:
    """The fleet's fence book (kept on the fleet, so the API, tests and truth share one)."""
    book = getattr(fleet, "_fence_book", None)
    if book is None:
        book = FenceBook(build_fences(fleet))
        fleet._fence_book = book  # type: ignore[attr-defined]
    return book


def visits(fleet: Fleet, start: datetime, end: datetime) -> list[tuple[str, str, int, int | None]]:
    """(imei, fence_id, enter epoch, exit epoch or None) for every bound device's GPS fixes in [start, end):
    a visit opens on the first fix inside and closes on the first fix outside (None: still inside at
    `end`). Cell-tower fixes are skipped, as the depot alarms skip them."""
    out = []
    for fence in fence_book(fleet).active():
        lo_lat = min(p[0] for p in fence.points) - 0.01
        hi_lat = max(p[0] for p in fence.points) + 0.01
        for imei in fence.imeis:
            entered = None
            for point in fleet.points(imei, start, end):
                if point.pos_type != 1:
                    continue
                inside = lo_lat <= point.lat <= hi_lat and fence.contains(point.lat, point.lng)
                epoch = int(point.gps_time.timestamp())
                if inside and entered is None:
                    entered = epoch
                elif not inside and entered is not None:
                    out.append((imei, fence.fence_id, entered, epoch))
                    entered = None
            if entered is not None:
                out.append((imei, fence.fence_id, entered, None))
    return sorted(out)


def circle_centre(fence: Fence) -> tuple[float, float]:
    return fence.points[0]


def polygon_text(points: tuple[tuple[float, float], ...], separator: str = ";") -> str:
    """The API's `coordinates`: lat,lng pairs (latitude first) separated by `;`."""
    return separator.join(f"{lat:.6f},{lng:.6f}" for lat, lng in points)


def export_fence_truth(fleet: Fleet, start: datetime, end: datetime, folder) -> dict[str, int]:
    """`geofences.csv` (fence_id, name, type, coordinates as the API sends them, radius_m, imeis) and
    `geofence_visits.csv` (imei, fence_id, enter_time, exit_time; exit empty while still inside)."""
    fences = fence_book(fleet).active()
    with (folder / "geofences.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("fence_id", "fence_name", "fence_type", "coordinates", "radius_m", "imeis"))
        for fence in fences:
            radius = "" if fence.radius_m is None else f"{fence.radius_m:.0f}"
            writer.writerow(
                (
                    fence.fence_id,
                    fence.name,
                    fence.kind,
                    polygon_text(fence.points),
                    radius,
                    ",".join(fence.imeis),
                )
            )
    rows = visits(fleet, start, end)
    with (folder / "geofence_visits.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("imei", "fence_id", "enter_time", "exit_time"))
        for imei, fence_id, entered, left in rows:
            writer.writerow((imei, fence_id, epoch_text(entered), "" if left is None else epoch_text(left)))
    return {"geofences.csv": len(fences), "geofence_visits.csv": len(rows)}
