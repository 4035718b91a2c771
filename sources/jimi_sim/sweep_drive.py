"""The hot path of a fleet sweep: a driving vehicle's location entry moved to its newest fix.

About a third of a 2,000-device fleet drives at midday and each of those records a new fix between two
sweeps, so this runs ~700 times a minute. `Drive` gathers, once per day activity, everything that does not
change from fix to fix (columns, odometer anchor, per-device constants) so that moving to a fix is a
bisect and a handful of field writes. It writes exactly what `status.fix_status` + `wire.location_item`
would (tests compare the two paths); `quick3` and `epoch_text` are bit-for-bit twins of `rand.quick` and
`wire.epoch_text`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import UTC, datetime

from sources.jimi_sim.catalogue import Device
from sources.jimi_sim.daylife import PARK_MARGIN_S, DayActivity
from sources.jimi_sim.equipment import DAILY_ALLOWANCE_KM
from sources.jimi_sim.model import POS_GPS, POS_LBS
from sources.jimi_sim.rand import noise
from sources.jimi_sim.vehicle import anchor_km, door_amplitude, fuel_sensor_volts, full_pct

_MASK = (1 << 64) - 1
_POS_NAMES = {1: "GPS", 2: "LBS", 3: "WIFI"}
# "HH:MM:SS" of every second of a day: one list index instead of three divmods and a format per time.
_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
_DAYS: dict[int, str] = {}
# str(n) of small non-negative integers (speeds, directions, satellite counts): an index beats a conversion.
_INT_TEXT = [str(n) for n in range(1000)]


def epoch_text(epoch: int) -> str:
    """`yyyy-MM-dd HH:mm:ss` (UTC) of a whole-second epoch; same text as `wire.epoch_text`."""
    day, second = divmod(epoch, 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
    return text + _CLOCK[second]


def quick3(a: int, b: int, c: int) -> float:
    """`rand.quick(a, b, c)` unrolled for three keys (no *args tuple, no loop): the same float."""
    state = ((0x632BE59BD9B4E019 ^ (a & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
    state ^= state >> 29
    state = ((state ^ (b & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
    state ^= state >> 29
    state = ((state ^ (c & _MASK)) * 0x9E3779B97F4A7C15) & _MASK
    state ^= state >> 29
    state = (state * 0xBF58476D1CE4E5B9) & _MASK
    return ((state ^ (state >> 32)) >> 11) / float(1 << 53)


class Drive:
    """One device's driving day activity, ready for `write`."""

    __slots__ = (
        "activity",
        "anchor",
        "battery_key",
        "cum",
        "device",
        "directions",
        "doors",
        "epochs",
        "flags",
        "following_last",
        "hint",
        "key",
        "last_epoch",
        "lats",
        "lngs",
        "rest",
        "role",
        "satellites",
        "seed",
        "speeds",
        "volts_off",
        "volts_on",
    )  # fmt: skip

    def __init__(self, device: Device, activity: DayActivity, seed: int, battery_key: str) -> None:
        fixes = activity.fixes
        self.device, self.activity, self.seed, self.battery_key = device, activity, seed, battery_key
        self.key, self.role = int(device.imei), device.role
        self.epochs = fixes.epochs
        self.lats, self.lngs, self.speeds, self.directions, self.satellites, self.flags = fixes.raw(0, len(fixes))[1:7]
        self.cum = fixes.cumulative_m()
        self.last_epoch = activity.last_epoch
        self.following_last = activity.last_epoch + PARK_MARGIN_S
        self.anchor = anchor_km(device, activity.day)
        # vehicle.external_volts: 24 V systems for trucks, 12 V otherwise
        self.volts_on, self.volts_off = (27.6, 24.8) if device.kind == "truck" else (13.8, 12.4)
        self.rest = len(self.epochs)
        self.hint = 0
        if self.role == "reefer":  # vehicle.door_bump's delivery stops
            self.doors = [int(stop.start_time.timestamp()) for stop in activity.stops if stop.kind == "parking"]

    def fuel_pct(self, index: int) -> float:
        """`vehicle.fuel_pct` while driving (the metres driven are the fix's own), the same float."""
        device = self.device
        used_l = self.cum[index] / 1000.0 * device.equipment.consumption_l_100km / 100.0
        return round(max(full_pct(device.imei) - used_l / device.equipment.tank_l * 100.0, 4.0), 1)

    def cargo_c(self, epoch: int) -> float:
        """`vehicle.cargo(...)[0]` (the cargo temperature) with the day's door openings gathered once."""
        seed, device = self.seed, self.device
        setpoint = device.equipment.setpoint_c or 0.0
        index = bisect_right(self.doors, epoch) - 1
        bump = 0.0
        if index >= 0:
            opened = self.doors[index]
            bump = door_amplitude(seed, device, opened) * math.exp(-(epoch - opened) / 900.0)
        wobble = noise(seed, self.key, epoch // 60, 82) - 0.5
        return round(setpoint + bump + wobble, 1)

    def index_at(self, epoch: int) -> int:
        """Index of the last fix at or before epoch. Sweeps ask for ever later fixes a few apart, so a step
        or two forward from the previous answer beats a bisect over the day's (cold) columns."""
        epochs, index = self.epochs, self.hint
        if epochs[index] <= epoch:
            stop = min(index + 8, self.rest)
            while index + 1 < stop and epochs[index + 1] <= epoch:
                index += 1
            if index + 1 == stop < self.rest:
                index = bisect_right(epochs, epoch) - 1
        else:
            index = bisect_right(epochs, epoch) - 1
        self.hint = max(index, 0)
        return index

    def write(self, entry: dict[str, object], index: int, online: bool, hb: int) -> int:
        """Write the entry for the fix at index (heartbeat hb) and return the next fix's epoch."""
        epoch = self.epochs[index]
        flag = self.flags[index]
        acc, pos_type = flag & 1, flag >> 1
        u = quick3(self.seed, self.key, epoch)
        battery = 100 if acc else 95 + int(5 * u)
        when = epoch_text(epoch)
        entry["status"] = "1" if online else "0"
        entry["posType"] = _POS_NAMES.get(pos_type, "GPS")
        entry["lat"], entry["lng"], entry["gpsTime"] = self.lats[index], self.lngs[index], when
        entry["hbTime"] = when if hb == epoch else epoch_text(hb)
        entry["accStatus"] = "1" if acc else "0"
        speed = int(self.speeds[index] + 0.5)
        entry["speed"] = _INT_TEXT[speed] if 0 <= speed < 1000 else str(speed)
        direction, satellites = self.directions[index], self.satellites[index]
        entry["direction"] = (_INT_TEXT[direction] if 0 <= direction < 1000 else str(direction)) if pos_type == POS_GPS else "-1"
        entry["gpsNum"] = _INT_TEXT[satellites] if 0 <= satellites < 1000 else str(satellites)
        g = (u * 7.919) % 1.0  # vehicle.gsm_level
        entry["gpsSignal"] = _INT_TEXT[1 + int(g * 2) if pos_type == POS_LBS else 3 + int(g * 1.9)]
        entry[self.battery_key] = _INT_TEXT[battery]
        entry["powerValue"] = f"{round((self.volts_on if acc else self.volts_off) + 0.6 * u, 1):.1f}"
        entry["batteryPowerVal"] = "4.1" if battery >= 90 else "3.9"
        cum = self.cum[index] / 1000.0
        entry["currentMileage"] = f"{self.anchor + (min(DAILY_ALLOWANCE_KM, cum)):.1f}"
        role = self.role
        if role == "fuel":
            entry["trackerOil"] = f"{fuel_sensor_volts(self.fuel_pct(index)):.2f}"
        elif role == "reefer":
            entry["temperature"] = f"{self.cargo_c(epoch):.1f}"
        return self.epochs[index + 1] if index + 1 < self.rest else self.following_last

