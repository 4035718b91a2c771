"""When a device's location entry can change next: the rules a fleet sweep keeps each entry until.

An entry shows the newest fix that has reached the cloud, so it holds until the device records its next
fix, or, when newer fixes sit in late blocks, until one of those blocks arrives. Lower bounds are enough
(the sweep looks again then), but the bound must never be late, or a sweep would show a stale fix.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.delivery import BLOCK_S
from sources.jimi_sim.world.driving.daylife import PARK_MARGIN_S
from sources.jimi_sim.world.model import Point, local_ordinal

if TYPE_CHECKING:
    from sources.jimi_sim.world.fleet import Fleet

NEVER = 1 << 62


def valid_until(fleet: Fleet, device: Device, point: Point, now: int) -> int:
    """The earliest instant at which the device's newest arrived fix could be another one."""
    epoch = int(point.gps_time.timestamp())
    following = _next_recorded(fleet, device, epoch)
    if following > now:
        return following
    # Newer fixes exist but sit in late blocks: nothing changes until one of those arrives, or until the
    # device records a fix that is not late (in the current block if it is on time, else a later one).
    key, current = int(device.imei), now // BLOCK_S
    released = fleet.delivery.release(key, current)
    if released is None or released <= now:
        until = _next_recorded(fleet, device, now)
    else:
        until = (current + 1) * BLOCK_S
    for block in range(epoch // BLOCK_S, current + 1):
        released = fleet.delivery.release(key, block)
        if released is not None and released > now:
            until = min(until, released)
    return max(until, now + 1)


def _next_recorded(fleet: Fleet, device: Device, epoch: int) -> int:
    """A lower bound for the time of the fix the device records after the one at epoch."""
    if device.imei in fleet.traces:
        columns = fleet.traces[device.imei].fixes
        index = columns.last_at_or_before(epoch) + 1
        return columns.epochs[index] if index < len(columns) else NEVER
    _, activity = fleet.owner(device.imei, epoch)
    if activity is not None and activity.active and epoch <= activity.last_epoch:
        index = activity.fixes.last_at_or_before(epoch) + 1
        return (
            activity.fixes.epochs[index]
            if index < len(activity.fixes)
            else activity.last_epoch + PARK_MARGIN_S
        )
    interval = device.habits.parked_interval_s
    next_upload = epoch + 1 + (int(device.imei) % interval - epoch - 1) % interval  # the parked grid
    return min(next_upload, departure(fleet, device, epoch))


def departure(fleet: Fleet, device: Device, epoch: int) -> int:
    """The next first departure of a shift after epoch (today's or tomorrow's), or never."""
    ordinal = local_ordinal(epoch)
    for day in (ordinal, ordinal + 1):
        schedule = fleet.schedule(device.imei, date.fromordinal(day))
        if not schedule.off and schedule.depart > epoch:
            return schedule.depart
    return NEVER
