"""Standing-still fixes in bulk: `daylife.stationary_point` for a run of instants, straight into columns.

Most fixes of a device-day are parked uploads (nights, stops) and idling fixes. Made one `Point` at a time
each costs a datetime and nine splitmix64 rounds; here the device's leading noise keys are hashed once per
run and the values go straight into `FixRows`. The numbers are the same, operation for operation (tests pin
this against `stationary_point`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.columns import FixRows
from sources.jimi_sim.world.geo import M_PER_DEG_LAT, M_PER_DEG_LNG, ORIGIN_LAT, ORIGIN_LNG, XY
from sources.jimi_sim.world.model import POS_GPS
from sources.jimi_sim.world.rand import noise_state
from sources.jimi_sim.world.rand import splitmix64 as _mix

JITTER_M = 4.0  # parked GPS drift radius
_MASK = (1 << 64) - 1  # as `rand.noise` masks its keys
_UNIT = float(1 << 53)


def add_stationary(
    rows: FixRows, seed: int, device: Device, epochs: Iterable[int], pos: XY, acc: bool, direction: int
) -> None:
    """Append `stationary_point(seed, device, epoch, pos, acc, direction)` for each epoch to rows."""
    key = int(device.imei)
    drift = noise_state(seed, key)  # noise_pair(seed, imei, epoch): leading keys seed, imei
    sky = noise_state(seed)  # satellites: noise(seed, epoch, imei, 1)
    x0, y0 = pos
    sqrt, cos, sin, two_pi = math.sqrt, math.cos, math.sin, 2 * math.pi
    flag = int(acc) | POS_GPS << 1
    epoch_list, lats, lngs = rows.epochs, rows.lats, rows.lngs
    for epoch in epochs:
        state = _mix(drift ^ (epoch & _MASK))
        u1, u2 = (_mix(state ^ 1) >> 11) / _UNIT, (_mix(state ^ 2) >> 11) / _UNIT
        radius, angle = JITTER_M * sqrt(u1), two_pi * u2
        epoch_list.append(epoch)
        lats.append(round(ORIGIN_LAT + (y0 + radius * sin(angle)) / M_PER_DEG_LAT, 6))
        lngs.append(round(ORIGIN_LNG + (x0 + radius * cos(angle)) / M_PER_DEG_LNG, 6))
        rows.satellites.append(5 + int((_mix(_mix(_mix(sky ^ (epoch & _MASK)) ^ key) ^ 1) >> 11) / _UNIT * 8))
    count = len(epoch_list) - len(rows.speeds)
    rows.speeds.extend([0.0] * count)
    rows.directions.extend([direction] * count)
    rows.flags.extend([flag] * count)
    rows.dists.extend([0.0] * count)
