"""Where a device is now: its newest arrived fix, found without generating whole fleets of days.

A fleet sweep (location.list) asks this for every device at once, so it must be cheap: the day's schedule
(first departure, from the first draws of its generator) tells whether today's shift has begun; only then
is today's activity generated, and yesterday's only in the small hours, when a late shift may still be on
the road. Otherwise the vehicle is parked at its base and its newest fix is on the parked upload grid.
Late blocks (delivery.py) that have not arrived yet are stepped over. Days are local-date ordinals and
epochs are ints throughout: this runs for every device on every sweep.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.delivery import BLOCK_S
from sources.jimi_sim.world.driving.daylife import PARK_MARGIN_S, DayActivity, stationary_point
from sources.jimi_sim.world.model import Point, local_ordinal, ordinal_start

if TYPE_CHECKING:
    from sources.jimi_sim.world.fleet import Fleet

SPILL_S = 6 * 3600  # a shift that ran past midnight is home and parked by 06:00 local
MAX_STEPS = 400  # each step skips one late block; delays are capped, so the search always ends


def latest_fix(fleet: Fleet, device: Device, as_of: datetime | None = None) -> Point | None:
    """The newest fix of a device that has reached the cloud by as_of (default: the clock's now)."""
    now = int(fleet.clock.now().timestamp())
    arrived = now if as_of is None else int(as_of.timestamp())
    moment = min(arrived, now)
    key = int(device.imei)
    for _ in range(MAX_STEPS):
        point = last_recorded(fleet, device, moment)
        if point is None:
            return None
        epoch = int(point.gps_time.timestamp())
        released = fleet.delivery.release(key, epoch // BLOCK_S)
        if released is None or released <= arrived:
            return point
        moment = (epoch // BLOCK_S) * BLOCK_S - 1
    return None


def last_recorded(fleet: Fleet, device: Device, t: int) -> Point | None:
    """The newest fix recorded at or before t, generating at most the days that can hold it."""
    if device.imei in fleet.traces:
        columns = fleet.traces[device.imei].fixes
        index = columns.last_at_or_before(t)
        return columns.point(index) if index >= 0 else None
    if not device.habits.reporting:
        return None
    ordinal = local_ordinal(t)
    day = date.fromordinal(ordinal)
    schedule = fleet.schedule(device.imei, day)
    if not schedule.off and t >= schedule.depart:
        activity = fleet.activity(device.imei, day)
        if t < activity.last_epoch + PARK_MARGIN_S:
            return activity.fixes.point(activity.fixes.last_at_or_before(t))
        return _parked_before(fleet, device, t, activity.last_epoch + PARK_MARGIN_S, activity)
    before, previous = 0, None
    if t - ordinal_start(ordinal) < SPILL_S:
        previous = fleet.activity(device.imei, date.fromordinal(ordinal - 1))
        if previous.active:
            if t < previous.last_epoch + PARK_MARGIN_S:
                return previous.fixes.point(previous.fixes.last_at_or_before(t))
            before = previous.last_epoch + PARK_MARGIN_S
    limit = t if schedule.off else min(t, schedule.depart - PARK_MARGIN_S - 1)
    return _parked_before(fleet, device, limit, before, previous)


def _parked_before(
    fleet: Fleet, device: Device, t: int, lo: int, fallback: DayActivity | None
) -> Point | None:
    """The last parked fix at the base at or before t, if the vehicle was parked there since lo."""
    interval = device.habits.parked_interval_s
    epoch = t - (t - int(device.imei) % interval) % interval  # the parked upload grid (daylife)
    if epoch < lo:
        return fallback.fixes.point(-1) if fallback is not None and fallback.active else None
    return stationary_point(fleet.settings.seed, device, epoch, device.habits.base, False, 0)
