"""The other common change of a fleet sweep: a parked vehicle's entry moved to its next parked upload.

A parked tracker uploads every few minutes (`parked_interval_s`) from a point a few metres off its base;
~40 of a 2,000-device fleet do so between two sweeps at midday. `Park` keeps what does not change between
the uploads of one parked stretch (the day and activity that own it, the device's noise keys hashed once,
the entry's fixed JSON) and writes an upload's entry straight as JSON: the bytes `orjson.dumps` gives for
`daylife.stationary_point` + `status.fix_status` + `devices.location_item` (tests compare the two paths).
"""

from __future__ import annotations

import math
from datetime import date

from sources.jimi_sim.api.locations.drive import (
    INT_TEXT,
    epoch_text,
    frame,
    json_number,
    quick_head,
    quick_tail,
)
from sources.jimi_sim.world import geo
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.driving.daylife import JITTER_M, DayActivity
from sources.jimi_sim.world.rand import noise_from, noise_state
from sources.jimi_sim.world.vehicle import cargo, fuel_pct, fuel_sensor_volts, odometer_km


class Park:
    """One device's parked stretch (same local day, before it drives off), ready for `text`."""

    __slots__ = (
        "activity",
        "base",
        "day",
        "device",
        "drift",
        "frame",
        "key",
        "quick",
        "seed",
        "sky",
        "volts",
    )

    def __init__(
        self,
        device: Device,
        seed: int,
        owner: tuple[date, DayActivity | None],
        entry: dict[str, object],
        battery_key: str,
    ) -> None:
        """`owner` is `fleet.owner` of the stretch; `entry` the device's rendered entry (its fixed fields)."""
        self.device, self.seed, (self.day, self.activity) = device, seed, owner
        self.key = int(device.imei)
        self.drift = noise_state(seed, self.key)  # stationary_point's noise_pair(seed, imei, epoch)
        self.sky = noise_state(seed)  # and its satellites: noise(seed, epoch, imei, 1)
        self.quick = quick_head(seed, self.key)  # fix_status's quick(seed, imei, epoch)
        self.base = device.habits.base
        self.volts = 24.8 if device.kind == "truck" else 12.4  # vehicle.external_volts, ignition off
        self.frame = frame(entry, battery_key, device.role)

    def text(self, epoch: int, online: bool, hb: int) -> bytes:
        """The entry's JSON for the parked upload at epoch, heartbeat hb."""
        device, key = self.device, self.key
        state = noise_state(epoch, state=self.drift)
        u1, u2 = noise_from(state, 1), noise_from(state, 2)
        radius, angle = JITTER_M * math.sqrt(u1), 2 * math.pi * u2
        lat, lng = geo.to_latlng(
            self.base[0] + radius * math.cos(angle), self.base[1] + radius * math.sin(angle)
        )
        satellites = 5 + int(noise_from(self.sky, epoch, key, 1) * 8)
        u = quick_tail(self.quick, epoch)
        battery = 95 + int(5 * u)
        signal = INT_TEXT[3 + int(((u * 7.919) % 1.0) * 1.9)]  # vehicle.gsm_level, not a cell-tower fix
        head, middle, temperature, oil, tail = self.frame
        if temperature is None:
            temperature = f',"temperature":"{cargo(self.seed, device, self.activity, epoch)[0]:.1f}"'
        if oil is None:
            oil = f',"trackerOil":"{fuel_sensor_volts(fuel_pct(device, self.activity, epoch)):.2f}"'
        when = epoch_text(epoch)
        odometer = odometer_km(device, self.day, self.activity, epoch)
        volts, power = round(self.volts + 0.6 * u, 1), "4.1" if battery >= 90 else "3.9"
        return (
            f'{head}{"1" if online else "0"}","posType":"GPS",'
            f'"lat":{json_number(lat)},"lng":{json_number(lng)},'
            f'"gpsTime":"{when}","hbTime":"{when if hb == epoch else epoch_text(hb)}","accStatus":"0",'
            f'"speed":"0","direction":"0","gpsNum":"{INT_TEXT[satellites]}","gpsSignal":"{signal}"{middle}'
            f'{INT_TEXT[battery]}","powerValue":"{volts:.1f}",'
            f'"batteryPowerVal":"{power}"{temperature}{oil}{tail}{odometer:.1f}"}}'
        ).encode()
