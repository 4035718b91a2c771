"""Compact storage of a run of fixes: parallel typed arrays, `Point` objects made only when asked for.

A `Point` with its datetime costs ~300 bytes; the same fix in arrays costs ~45. At 2,000 devices and
~1,000 fixes per device-day that is the difference between a cache of gigabytes and one of ~100 MB.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import accumulate, pairwise

from sources.jimi_sim.world.model import Point


class FixRows:
    """Fixes being generated, column by column in lists; `FixColumns.from_rows` freezes them.

    Flags pack ignition in bit 0 and the position type above it, as `FixColumns` stores them.
    """

    __slots__ = ("directions", "dists", "epochs", "flags", "lats", "lngs", "satellites", "speeds")

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.lats: list[float] = []
        self.lngs: list[float] = []
        self.speeds: list[float] = []
        self.directions: list[int] = []
        self.satellites: list[int] = []
        self.flags: list[int] = []
        self.dists: list[float] = []

    def extend(self, other: FixRows | tuple[array, ...]) -> None:
        """Append another run of fixes (`FixRows`, or `FixColumns.raw` slices in its column order)."""
        columns = other if isinstance(other, tuple) else other.columns()
        for mine, theirs in zip(self.columns(), columns, strict=True):
            mine.extend(theirs)

    def add_point(self, point: Point) -> None:
        for column, value in zip(self.columns(), _row(point), strict=True):
            column.append(value)

    def sorted(self) -> FixRows:
        """The fixes in time order; a stable sort, as sorting the same fixes as `Point`s by time."""
        epochs = self.epochs
        if all(a <= b for a, b in pairwise(epochs)):
            return self
        order = sorted(range(len(epochs)), key=epochs.__getitem__)
        out = FixRows()
        for mine, theirs in zip(out.columns(), self.columns(), strict=True):
            mine.extend([theirs[index] for index in order])
        return out

    def columns(self) -> tuple[list, ...]:
        """The lists in `FixColumns.raw` order: epochs, lats, lngs, speeds, directions, satellites, flags, dists."""
        return (
            self.epochs,
            self.lats,
            self.lngs,
            self.speeds,
            self.directions,
            self.satellites,
            self.flags,
            self.dists,
        )

    def __len__(self) -> int:
        return len(self.epochs)


def _row(point: Point) -> tuple[int, float, float, float, int, int, int, float]:
    return (
        int(point.gps_time.timestamp()),
        point.lat,
        point.lng,
        point.speed_kmh,
        point.direction,
        point.satellites,
        int(point.acc) | point.pos_type << 1,
        point.dist_m,
    )


class FixColumns:
    """Fixes in ascending time order, stored column-wise; immutable once built."""

    __slots__ = (
        "_cum",
        "_directions",
        "_dists",
        "_flags",
        "_lats",
        "_lngs",
        "_satellites",
        "_speeds",
        "epochs",
    )

    def __init__(self, points: Iterable[Point] = ()) -> None:
        # Transpose once (C speed) and fill each array from a whole column, rather than 8 appends per fix.
        columns = list(zip(*points, strict=True)) or [()] * len(Point._fields)
        times, lats, lngs, speeds, directions, accs, satellites, pos_types, dists = columns
        self.epochs = array("q", [int(moment.timestamp()) for moment in times])
        self._lats, self._lngs = array("d", lats), array("d", lngs)
        self._speeds, self._dists = array("d", speeds), array("d", dists)
        self._directions, self._satellites = array("h", directions), array("b", satellites)
        # ignition in bit 0, position type above it: one byte per fix
        self._flags = array(
            "b", [int(acc) | pos_type << 1 for acc, pos_type in zip(accs, pos_types, strict=True)]
        )
        self._cum: array | None = None

    @classmethod
    def from_rows(cls, rows: FixRows) -> FixColumns:
        """The columns of fixes gathered as plain lists (no `Point` or datetime per fix)."""
        self = cls.__new__(cls)
        self.epochs, self._lats, self._lngs = (
            array("q", rows.epochs),
            array("d", rows.lats),
            array("d", rows.lngs),
        )
        self._speeds, self._dists = array("d", rows.speeds), array("d", rows.dists)
        self._directions, self._satellites = array("h", rows.directions), array("b", rows.satellites)
        self._flags, self._cum = array("b", rows.flags), None
        return self

    def cumulative_m(self) -> array:
        """Road metres driven from the first fix up to each fix (built on first use: few callers need it)."""
        if self._cum is None:
            self._cum = array("d", accumulate(self._dists))
        return self._cum

    def last_at_or_before(self, epoch: int) -> int:
        """Index of the last fix with time <= epoch, -1 if none."""
        return bisect_right(self.epochs, epoch) - 1

    def acc(self, index: int) -> bool:
        return bool(self._flags[index] & 1)

    def pos_type(self, index: int) -> int:
        return self._flags[index] >> 1

    def speed(self, index: int) -> float:
        return self._speeds[index]

    def __len__(self) -> int:
        return len(self.epochs)

    def point(self, index: int) -> Point:
        flags = self._flags[index]
        return Point(
            datetime.fromtimestamp(self.epochs[index], UTC),
            self._lats[index],
            self._lngs[index],
            self._speeds[index],
            self._directions[index],
            bool(flags & 1),
            self._satellites[index],
            flags >> 1,
            self._dists[index],
        )

    def points(self, start: int = 0, stop: int | None = None) -> list[Point]:
        """Fixes [start, stop) by index."""
        part = slice(start, len(self.epochs) if stop is None else stop)
        stamp = datetime.fromtimestamp
        return [
            Point(
                stamp(epoch, UTC), lat, lng, speed, direction, bool(flags & 1), satellites, flags >> 1, dist
            )
            for epoch, lat, lng, speed, direction, satellites, flags, dist in zip(
                self.epochs[part],
                self._lats[part],
                self._lngs[part],
                self._speeds[part],
                self._directions[part],
                self._satellites[part],
                self._flags[part],
                self._dists[part],
                strict=True,
            )
        ]

    def raw(self, start: int, stop: int) -> tuple[array, ...]:
        """Column slices [start, stop): epochs, lats, lngs, speeds, directions, satellites, flags, dists.

        The API's hot path renders wire dicts straight from these, skipping Point and datetime objects.
        """
        part = slice(start, stop)
        return (
            self.epochs[part],
            self._lats[part],
            self._lngs[part],
            self._speeds[part],
            self._directions[part],
            self._satellites[part],
            self._flags[part],
            self._dists[part],
        )

    def row(self, index: int) -> tuple[float, float, float, int, int, int]:
        """(lat, lng, speed, direction, satellites, flags) of one fix, without building a Point."""
        return (
            self._lats[index],
            self._lngs[index],
            self._speeds[index],
            self._directions[index],
            self._satellites[index],
            self._flags[index],
        )

    def dist_sum(self, start: int, stop: int) -> float:
        """Road metres of the fixes [start, stop) since their predecessors."""
        return sum(self._dists[start:stop])

    def span(self, lo: int, hi: int) -> tuple[int, int]:
        """Index range of the fixes with lo <= epoch < hi."""
        return bisect_left(self.epochs, lo), bisect_left(self.epochs, hi)

    def between(self, lo: int, hi: int) -> list[Point]:
        """Fixes with lo <= epoch < hi."""
        return self.points(bisect_left(self.epochs, lo), bisect_left(self.epochs, hi))
