"""What the vehicle's sensors read at any instant, derived from the same day activity as its fixes.

Odometer: exact within a working day (it grows by the road metres of the fixes), but the simulator cannot
sum years of history lazily, so each working day starts from an anchor that grows by a fixed allowance
(`DAILY_ALLOWANCE_KM`, more than ~99 % of simulated days drive; the rare longer day's odometer stops at the
allowance); the difference is added at local midnight while the vehicle is parked. Odometer deltas over a
day's trips therefore equal their GPS distance.

Fuel: tanks are filled at the depot at the end of every shift; during a shift the level falls with the
distance driven at the vehicle's consumption. Reefer cargo holds its setpoint, warming when the doors open
at delivery stops. Coolant warms up after each engine start and cools while parked; RPM follows speed.
Noise is hashed from the instant, so every caller reads the same values.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import date
from functools import lru_cache

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.driving.daylife import DayActivity
from sources.jimi_sim.world.equipment import DAILY_ALLOWANCE_KM
from sources.jimi_sim.world.model import day_start, local_day
from sources.jimi_sim.world.rand import noise

REFUEL_AFTER_S = 600  # the tank is filled ten minutes after the vehicle is back at the depot
FULL_PCT = 97.0
AMBIENT_C = 21.0
_GEARS = ((15.0, 95.0), (30.0, 62.0), (50.0, 44.0), (70.0, 35.0), (999.0, 29.0))  # (up to km/h, rpm per km/h)


def working_days(device: Device, day: date) -> int:
    """Days in [activation day, day) that are not the vehicle's weekly rest days (0 before activation)."""
    return _working_days(
        local_day(device.activation_time).toordinal(), device.habits.days_off, day.toordinal()
    )


@lru_cache(maxsize=65_536)
def _working_days(first: int, off: frozenset[int], ordinal: int) -> int:
    weeks, rest = divmod(max(ordinal - first, 0), 7)
    weekday = date.fromordinal(first).weekday()
    return weeks * (7 - len(off)) + sum(1 for k in range(rest) if (weekday + k) % 7 not in off)


def anchor_km(device: Device, day: date) -> float:
    return device.equipment.odometer_base_km + DAILY_ALLOWANCE_KM * working_days(device, day)


def driven_m(activity: DayActivity | None, epoch: int) -> float:
    """Road metres driven in the activity up to epoch (0 before it, its total after it)."""
    if activity is None or not activity.active:
        return 0.0
    index = activity.fixes.last_at_or_before(epoch)
    return 0.0 if index < 0 else activity.fixes.cumulative_m()[index]


def odometer_km(device: Device, day: date, activity: DayActivity | None, epoch: int) -> float:
    """The odometer at epoch, where `activity` is the activity of `day` that owns the instant (or None)."""
    return anchor_km(device, day) + min(driven_m(activity, epoch) / 1000.0, DAILY_ALLOWANCE_KM)


def fuel_pct(device: Device, activity: DayActivity | None, epoch: int) -> float:
    """Tank level in percent: full at the depot, falling with the distance of the shift."""
    full = full_pct(device.imei)
    if activity is None or not activity.active or epoch >= activity.last_epoch + REFUEL_AFTER_S:
        return round(full, 1)
    used_l = driven_m(activity, epoch) / 1000.0 * device.equipment.consumption_l_100km / 100.0
    return round(max(full - used_l / device.equipment.tank_l * 100.0, 4.0), 1)


@lru_cache(maxsize=65_536)
def full_pct(imei: str) -> float:
    """The level a tank is filled to at the depot (each vehicle's filler stops at its own mark)."""
    return FULL_PCT - 2.0 * noise(int(imei), 31)


def fuel_sensor_volts(level_pct: float) -> float:
    """The raw value a capacitive fuel probe reports (0.5 V empty .. 4.5 V full), as `trackerOil` carries."""
    return round(0.5 + 4.0 * level_pct / 100.0, 2)


def door_bump(seed: int, device: Device, activity: DayActivity | None, epoch: int) -> float:
    """Degrees above setpoint left by the latest delivery stop's open doors (decays over ~15 min)."""
    if activity is None or not activity.active:
        return 0.0
    starts = [int(stop.start_time.timestamp()) for stop in activity.stops if stop.kind == "parking"]
    index = bisect_right(starts, epoch) - 1
    if index < 0:
        return 0.0
    opened = starts[index]
    return door_amplitude(seed, device, opened) * math.exp(-(epoch - opened) / 900.0)


def door_amplitude(seed: int, device: Device, opened: int) -> float:
    return 1.5 + 6.0 * noise(seed, int(device.imei), opened, 81)


def cargo(seed: int, device: Device, activity: DayActivity | None, epoch: int) -> tuple[float, float]:
    """(temperature °C, relative humidity %) in a reefer's cargo box."""
    setpoint = device.equipment.setpoint_c or 0.0
    bump = door_bump(seed, device, activity, epoch)
    wobble = noise(seed, int(device.imei), epoch // 60, 82) - 0.5
    humidity = 72.0 + 12.0 * noise(seed, int(device.imei), epoch // 600, 83) + 2.0 * bump
    return round(setpoint + bump + wobble, 1), round(min(humidity, 99.0), 1)


def rpm(speed_kmh: float, acc: bool, u: float) -> int:
    """Engine speed: idle around 780 rpm, then roughly proportional to speed within each gear."""
    if not acc:
        return 0
    if speed_kmh < 1.0:
        return int(760 + 60 * u)
    per_kmh = next(ratio for limit, ratio in _GEARS if speed_kmh <= limit)
    return int(800 + speed_kmh * per_kmh * (0.95 + 0.1 * u))


def battery_decivolts(acc: bool, u: float) -> int:
    """Vehicle battery in 0.1 V (the OBD example's "118"): charging while the engine runs."""
    return int(138 + 6 * u) if acc else int(123 + 4 * u)


def external_volts(device: Device, acc: bool, u: float) -> float:
    """Supply voltage the tracker sees: 12 V systems for cars and vans, 24 V for trucks."""
    base = (27.6, 24.8) if device.kind == "truck" else (13.8, 12.4)
    return round((base[0] if acc else base[1]) + 0.6 * u, 1)


def gsm_level(lbs: bool, u: float) -> int:
    """GSM signal 0-4 (the Open API's gpsSignal): strong in town, weak underground."""
    return 1 + int(u * 2) if lbs else 3 + int(u * 1.9)


def coolant_series(epochs: list[int], accs: list[bool]) -> list[float]:
    """Coolant °C at each fix: warms towards 90 after every start, cools towards ambient while off."""
    out: list[float] = []
    temp, started, start_temp, stopped, stop_temp = AMBIENT_C, None, AMBIENT_C, None, AMBIENT_C
    for epoch, acc in zip(epochs, accs, strict=True):
        if acc and started is None:
            cooled = (
                AMBIENT_C
                if stopped is None
                else (AMBIENT_C + (stop_temp - AMBIENT_C) * math.exp(-(epoch - stopped) / 2400.0))
            )
            started, start_temp = epoch, cooled
        if acc and started is not None:
            temp = 90.0 - (90.0 - start_temp) * math.exp(-(epoch - started) / 400.0)
        elif not acc and started is not None:
            stopped, stop_temp, started = epoch, temp, None
        out.append(round(temp, 1))
    return out


def seconds_into_day(day: date, epoch: int) -> int:
    return epoch - int(day_start(day).timestamp())
