"""track.list answers assembled from pre-rendered JSON: a 7-day answer is a join, not 6,000 dicts.

A device-day's fixes never change, so each is rendered to its JSON bytes once (in the shape's types) and
kept with the day's columns in a bounded cache, together with the positions the served-quirks hash picks
(duplicates, swapped neighbours). Serving a window joins the visible index ranges and hands the result to
orjson as a `Fragment`. The bytes are what `wire.track_point` renders, in the order `quirk_at` decides.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict

import orjson

from sources.jimi_sim.timetext import epoch_text
from sources.jimi_sim.world.columns import FixColumns
from sources.jimi_sim.world.delivery import quirk_at
from sources.jimi_sim.world.model import POS_GPS

CACHE_DAYS = 1_024  # ~150 KB of JSON per device-day


class TrackWire:
    """Rendered fixes per column store, for one set of shapes and quirk shares."""

    def __init__(self, as_strings: bool, key: int, duplicate_share: float, disorder_share: float) -> None:
        self.as_strings = as_strings
        self.key, self.duplicate_share, self.disorder_share = key, duplicate_share, disorder_share
        self._cache: OrderedDict[int, tuple[FixColumns, list[bytes], list[int], list[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, imei: str, spans: list[tuple[FixColumns, int, int]], mileage_km: float) -> bytes:
        """The whole success body of a track.list call."""
        parts: list[bytes] = []
        for columns, first, stop in spans:
            parts.extend(self._served(int(imei), columns, first, stop))
        result = orjson.Fragment(b"[" + b",".join(parts) + b"]")
        return orjson.dumps(
            {"code": 0, "message": "success", "result": result, "data": {"mileage": mileage_km}}
        )

    def _served(self, imei: int, columns: FixColumns, first: int, stop: int) -> list[bytes]:
        fragments, dups, swaps = self._rendered(imei, columns)
        out = fragments[first:stop]
        if not dups and not swaps:
            return out
        # Apply from the back so earlier positions stay valid; a swap needs both fixes inside the range.
        edits = [(i, "dup") for i in dups[bisect_left(dups, first) : bisect_left(dups, stop)]]
        edits += [(i, "swap") for i in swaps[bisect_left(swaps, first) : bisect_left(swaps, stop - 1)]]
        for index, kind in sorted(edits, reverse=True):
            at = index - first
            if kind == "dup":
                out.insert(at + 1, out[at])
            else:
                out[at], out[at + 1] = out[at + 1], out[at]
        return out

    def _rendered(self, imei: int, columns: FixColumns) -> tuple[list[bytes], list[int], list[int]]:
        with self._lock:
            hit = self._cache.get(id(columns))
            if hit is not None and hit[0] is columns:
                self._cache.move_to_end(id(columns))
                return hit[1], hit[2], hit[3]
        fragments = render(columns, self.as_strings)
        dups, swaps = [], []
        if self.duplicate_share > 0 or self.disorder_share > 0:
            key, epochs, index = imei ^ self.key, columns.epochs, 0
            while index < len(epochs):
                kind = quirk_at(epochs[index], key, self.duplicate_share, self.disorder_share)
                if kind == "swap" and index + 1 < len(epochs):
                    swaps.append(index)
                    index += 2  # the pair is settled: its second fix gets no quirk of its own
                    continue
                if kind == "dup":
                    dups.append(index)
                index += 1
        with self._lock:
            self._cache[id(columns)] = (
                columns,
                fragments,
                dups,
                swaps,
            )  # holding columns keeps the id unique
            while len(self._cache) > CACHE_DAYS:
                self._cache.popitem(last=False)
        return fragments, dups, swaps


def render(columns: FixColumns, as_strings: bool) -> list[bytes]:
    """Every fix of a column store as track.list JSON (numbers as numbers, or as strings)."""
    out = []
    epochs, lats, lngs, speeds, directions, satellites, flags, _ = columns.raw(0, len(columns))
    for epoch, lat, lng, speed, direction, satellite, flag in zip(
        epochs, lats, lngs, speeds, directions, satellites, flags, strict=True
    ):
        acc = "ON" if flag & 1 else "OFF"
        pos_type = flag >> 1
        gps_speed = int(speed + 0.5) if pos_type == POS_GPS else -1
        if as_strings:
            numbers = f'"direction":"{direction}","gpsSpeed":"{gps_speed}","posType":"{pos_type}","satellite":"{satellite}"'
        else:
            numbers = (
                f'"direction":{direction},"gpsSpeed":{gps_speed},"posType":{pos_type},"satellite":{satellite}'
            )
        out.append(
            f'{{"lat":{lat!r},"lng":{lng!r},"gpsTime":"{epoch_text(epoch)}",{numbers},'
            f'"ignition":"{acc}","accStatus":"{acc}"}}'.encode()
        )
    return out
