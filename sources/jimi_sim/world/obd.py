"""OBD dongle data that follows the drive: readings about once a minute with the engine on, and DTCs.

Readings sit on the day's own fixes (same time, place and speed): RPM follows speed through the gears,
coolant warms up after each start and cools while parked, fuel falls with the distance driven, the battery
charges while the engine runs, and the odometer is the same one the location APIs report. Now and then a
trip logs a diagnostic trouble code.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.driving.daylife import DayActivity
from sources.jimi_sim.world.rand import noise
from sources.jimi_sim.world.vehicle import battery_decivolts, coolant_series, fuel_pct, odometer_km, rpm

READING_EVERY_S = 60
DTC_DAY_SHARE = 0.08
DTCS = (
    ("P0128", "Coolant thermostat (coolant temperature below thermostat regulating temperature)"),
    ("P0300", "Random/multiple cylinder misfire detected"),
    ("P0420", "Catalyst system efficiency below threshold (bank 1)"),
    ("P0171", "System too lean (bank 1)"),
    ("P0562", "System voltage low"),
    ("P0442", "Evaporative emission control system leak detected (small leak)"),
    ("U0100", "Lost communication with ECM/PCM 'A'"),
    (
        "P2407",
        "Fuel evaporative emission system leak detection pump sensing circuit is intermittent/unstable",
    ),
)


class ObdReading(NamedTuple):
    epoch: int
    odometer_km: float
    device_km: float  # counted by the dongle since it was fitted
    fuel_pct: float
    coolant_c: float
    battery_dv: int  # 0.1 V
    rpm: int
    speed_kmh: float
    lat: float
    lng: float
    acc: bool


class DtcFault(NamedTuple):
    epoch: int
    code: str
    detail: str
    lat: float
    lng: float


def day_obd(
    seed: int, device: Device, day: date, activity: DayActivity
) -> tuple[list[ObdReading], list[DtcFault]]:
    """The readings and fault codes of a device's activity on a local day (empty for non-OBD devices)."""
    if not device.equipment.has_obd or not activity.active:
        return [], []
    points = activity.fixes.points()
    epochs = [int(p.gps_time.timestamp()) for p in points]
    coolant = coolant_series(epochs, [p.acc for p in points])
    imei, install = int(device.imei), device.equipment.install_odometer_km
    readings: list[ObdReading] = []
    last = -READING_EVERY_S
    for point, epoch, temp in zip(points, epochs, coolant, strict=True):
        if not point.acc or epoch - last < READING_EVERY_S:
            continue
        last = epoch
        u = noise(seed, imei, epoch, 41)
        odometer = round(odometer_km(device, day, activity, epoch), 1)
        readings.append(
            ObdReading(
                epoch,
                odometer,
                round(odometer - install, 1),
                fuel_pct(device, activity, epoch),
                temp,
                battery_decivolts(True, u),
                rpm(point.speed_kmh, True, u),
                point.speed_kmh,
                point.lat,
                point.lng,
                True,
            )
        )
    faults: list[DtcFault] = []
    key = day.toordinal()
    if activity.trips and noise(seed, imei, key, 21) < DTC_DAY_SHARE:
        trip = activity.trips[int(noise(seed, imei, key, 22) * len(activity.trips))]
        middle = trip.start_time + (trip.end_time - trip.start_time) / 2
        index = max(activity.fixes.last_at_or_before(int(middle.timestamp())), 0)
        at = activity.fixes.point(index)
        code, detail = DTCS[int(noise(seed, imei, key, 23) * len(DTCS))]
        faults.append(DtcFault(int(at.gps_time.timestamp()), code, detail, at.lat, at.lng))
    return readings, faults
