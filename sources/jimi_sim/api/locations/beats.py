"""One device's heartbeat grid and late blocks at hand: what every fleet sweep asks of each device.

A sweep refreshes ~500 heartbeats a minute and checks a late block for every fix it moves to; through
`status.heartbeat_before` and `Delivery.release` each asks parses the IMEI and looks a (device, day) key up
in the fleet-wide cache. `Beats` keeps the device's key, grid phase and the current day's late blocks, and
answers the same (tests compare it with the general functions).
"""

from __future__ import annotations

from sources.jimi_sim.world.delivery import BLOCK_S, Delivery
from sources.jimi_sim.world.status import HEARTBEAT_S

_BLOCKS_PER_DAY = 86400 // BLOCK_S


class Beats:
    """`Delivery.release` and the heartbeat grid of one device."""

    __slots__ = ("delivery", "key", "late", "late_day", "phase")

    def __init__(self, delivery: Delivery, imei: str) -> None:
        self.delivery, self.key = delivery, int(imei)
        self.phase = self.key % HEARTBEAT_S
        self.late_day, self.late = -1, {}

    def release(self, block: int) -> int | None:
        """`delivery.release(imei, block)`: when a late block arrives, None when it is on time."""
        day = block // _BLOCKS_PER_DAY
        if day != self.late_day:  # the day's blocks are a pure function of it: keeping them is safe
            self.late_day, self.late = day, self.delivery.late_in_day(self.key, day)
        return self.late.get(block)

    def before(self, epoch: int) -> int:
        """`status.heartbeat_before`: the last heartbeat at or before epoch (none during late blocks)."""
        phase = self.phase
        beat = epoch - (epoch - phase) % HEARTBEAT_S
        for _ in range(400):
            if self.release(beat // BLOCK_S) is None:
                return beat
            block_start = (beat // BLOCK_S) * BLOCK_S
            beat = block_start - 1 - (block_start - 1 - phase) % HEARTBEAT_S
        return beat

    def after(self, epoch: int) -> int:
        """The first heartbeat of the grid after an instant (when hbTime may change next)."""
        return epoch + 1 + (self.phase - epoch - 1) % HEARTBEAT_S
