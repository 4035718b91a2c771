"""When fixes reach the cloud, and how the API hands them out: late blocks, duplicates, disorder.

Late fixes come in blocks: a tracker that loses its data link buffers what it records and uploads it
later (push `gpsMode` 1). Each 30-minute block of a device's fixes is late with probability `late_share`
(field reports: ~11 %); a late block arrives after a log-normal delay (median `late_median_s`, ~6 h;
capped at `late_max_s`, ~7 days), all at once. Everything else arrives as it is recorded. Decisions are
noise of (seed, IMEI, block), so any caller at any time agrees on them.

Served track points may also repeat a fix or swap two neighbours (`duplicate_share`, `disorder_share`):
chosen by `quirk_at`, a cheap integer hash of the fix time, again the same for every call.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from sources.jimi_sim.world.rand import noise

BLOCK_S = 1800
_BLOCKS_PER_DAY = 86400 // BLOCK_S
_MASK = (1 << 64) - 1
_SCALE = 1 << 32
_CACHED_DAYS = 200_000


class Delivery:
    """Arrival rules of one simulated account (thin: all state is in the settings and the seed)."""

    def __init__(self, seed: int, late_share: float, median_s: float, max_s: float) -> None:
        self.seed = seed
        self.late_share = late_share
        self.median_s = median_s
        self.max_s = max_s
        # ~99 % of delays below the cap: sigma such that median * e^(2.33 sigma) = cap.
        self._sigma = math.log(max(max_s / median_s, 1.0001)) / 2.326
        # {(imei, utc day): late blocks}; a plain dict (cleared when full) is twice as fast as lru_cache here,
        # and `release` runs for most devices of every fleet sweep.
        self._days: dict[tuple[int, int], dict[int, int]] = {}

    def _day(self, imei: int, utc_day: int) -> dict[int, int]:
        days = self._days
        late = days.get((imei, utc_day))
        if late is None:
            if len(days) >= _CACHED_DAYS:
                days.clear()
            late = days[(imei, utc_day)] = self._late_in_day(imei, utc_day)
        return late

    @property
    def enabled(self) -> bool:
        return self.late_share > 0

    def release(self, imei: int, block: int) -> int | None:
        """The epoch at which a late block arrives, or None when the block is on time."""
        if self.late_share <= 0:
            return None
        late = self._days.get((imei, block // _BLOCKS_PER_DAY))
        if late is None:
            late = self._day(imei, block // _BLOCKS_PER_DAY)
        return late.get(block)

    def late_in_day(self, imei: int, utc_day: int) -> dict[int, int]:
        """{block: release epoch} for the late blocks of one UTC day (epoch // 86400)."""
        return self._day(imei, utc_day) if self.late_share > 0 else {}

    def _late_in_day(self, imei: int, utc_day: int) -> dict[int, int]:
        out = {}
        for block in range(utc_day * _BLOCKS_PER_DAY, (utc_day + 1) * _BLOCKS_PER_DAY):
            if noise(self.seed, imei, block, 0x1A7E) < self.late_share:
                u = min(max(noise(self.seed, imei, block, 0x1A7F), 1e-9), 1 - 1e-9)
                delay = min(self.median_s * math.exp(self._sigma * NormalDist().inv_cdf(u)), self.max_s)
                out[block] = (block + 1) * BLOCK_S + int(delay)
        return out

    def arrival(self, imei: int, epoch: int) -> int:
        """When a fix recorded at `epoch` reaches the cloud."""
        released = self.release(imei, epoch // BLOCK_S)
        return epoch if released is None else released

    def visible(self, imei: int, epoch: int, as_of: int) -> bool:
        released = self.release(imei, epoch // BLOCK_S)
        return released is None or released <= as_of

    def hidden_blocks(self, imei: int, lo: int, hi: int, as_of: int) -> list[int]:
        """Blocks overlapping [lo, hi) whose fixes have not arrived by as_of (ascending)."""
        if self.late_share <= 0 or hi <= lo:
            return []
        hidden = []
        for day in range(lo // 86400, (hi - 1) // 86400 + 1):
            for block, released in self._day(imei, day).items():
                if released > as_of and block * BLOCK_S < hi and (block + 1) * BLOCK_S > lo:
                    hidden.append(block)
        return sorted(hidden)


def _mix(value: int) -> int:
    """A fast 64-bit integer hash (xorshift-multiply) for per-fix decisions on the hot path."""
    value = (value ^ (value >> 33)) * 0xFF51AFD7ED558CCD & _MASK
    value = (value ^ (value >> 33)) * 0xC4CEB9FE1A85EC53 & _MASK
    return value ^ (value >> 33)


def quirk_at(epoch: int, key: int, duplicate_share: float, disorder_share: float) -> str | None:
    """ "dup" (served twice), "swap" (served after its successor) or None, for the fix at epoch."""
    h = _mix(epoch * 0x9E3779B1 ^ key)
    if h & 0xFFFFFFFF < int(disorder_share * _SCALE):
        return "swap"
    if h >> 32 < int(duplicate_share * _SCALE):
        return "dup"
    return None
