"""The synthetic device registry: who the trackers are, what they are fitted to, and their driving habits.

Each device depends only on (seed, index), so growing the fleet from 25 to 2,000 devices keeps the first 25
unchanged. IMEIs and plates come from index bijections, so they are unique without any bookkeeping.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sources.jimi_sim.world import geo
from sources.jimi_sim.world.equipment import (
    EXPIRED_AT,
    Equipment,
    build_equipment,
    forced_kind,
    is_disabled,
    is_expired,
    mc_type_for,
)
from sources.jimi_sim.world.rand import rng_for

IMEI_PREFIX = "86924706"
# Every 20th device (index 13, 33, ...) is installed but never reports: 1 in the default fleet of 25. Expired
# devices (equipment.EXPIRED_SLOT) stopped long ago, so within retention they never report either.
SILENT_EVERY, SILENT_AT = 20, 13

DEPOTS: tuple[tuple[str, float, float], ...] = (
    ("Industrial Area", -1.3090, 36.8480),
    ("Westlands", -1.2650, 36.8050),
    ("Embakasi", -1.3230, 36.8930),
    ("Kasarani", -1.2220, 36.8960),
)
_KINDS = (("car", 0.35), ("van", 0.35), ("truck", 0.30))
_MODELS = {
    "car": ("Toyota Probox", "Toyota Fielder", "Nissan Note", "Mazda Demio", "Toyota Axio"),
    "van": ("Toyota Hiace", "Nissan Caravan", "Toyota Townace", "Nissan NV200"),
    "truck": ("Isuzu NQR", "Isuzu FRR", "Mitsubishi Canter", "Hino 500", "Isuzu FVZ"),
}
_TRACKERS = {
    "car": ("GT06N", "JC400", "VL502"),
    "van": ("VL502", "JC400", "GT06N"),
    "truck": ("JC450Pro", "VL502"),
}  # drawn (keeps every later draw of the stream as it was), then replaced by the role's model
_ICONS = {"car": "automobile", "van": "truck", "truck": "truck"}
_GROUPS = {"car": "Sales", "van": "Deliveries", "truck": "Long haul"}
_FIRST = (
    "John",
    "Mary",
    "Peter",
    "Grace",
    "James",
    "Faith",
    "David",
    "Mercy",
    "Joseph",
    "Esther",
    "Samuel",
    "Ann",
    "Daniel",
    "Lucy",
    "Paul",
    "Jane",
    "Brian",
    "Caroline",
    "Kevin",
    "Purity",
)
_LAST = (
    "Otieno",
    "Kamau",
    "Wanjiru",
    "Mwangi",
    "Ochieng",
    "Njoroge",
    "Kiprop",
    "Chebet",
    "Mutua",
    "Wambui",
    "Omondi",
    "Kariuki",
    "Achieng",
    "Mutiso",
    "Njeri",
    "Odhiambo",
    "Kimani",
    "Wekesa",
)
# (accel m/s², decel m/s², top cruise km/h) per kind: loaded trucks pull away and brake gently.
_DYNAMICS = {
    "car": ((1.0, 1.4), (1.3, 1.8), 100.0),
    "van": ((0.8, 1.2), (1.1, 1.5), 90.0),
    "truck": ((0.5, 0.8), (0.8, 1.2), 80.0),
}
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Habits:
    """How a vehicle lives: where it sleeps, when it works, how often its tracker reports."""

    base: geo.XY  # night-parking spot on the local plane
    depot: str
    shift: str  # "early" | "day" | "late"
    shift_start_min: int  # local (EAT) minutes after midnight
    shift_len_min: int
    days_off: frozenset[int]  # local weekdays, Monday = 0
    moving_interval_s: int
    parked_interval_s: int
    idle_interval_s: int
    accel: float
    decel: float
    top_speed_kmh: float
    places: tuple[geo.XY, ...]  # regular customers/sites it drives to
    reporting: bool


@dataclass(frozen=True)
class Device:
    """One tracker and the vehicle it is fitted to, as `jimi.user.device.list` would describe it."""

    index: int
    imei: str
    device_name: str
    mc_type: str
    kind: str
    vehicle_number: str
    vehicle_name: str
    vehicle_icon: str
    driver_name: str
    driver_phone: str
    sim: str
    car_frame: str
    engine_number: str
    group_id: str
    group_name: str
    enabled: bool
    activation_time: datetime
    expiration: datetime
    habits: Habits
    equipment: Equipment

    @property
    def role(self) -> str:
        return self.equipment.role

    @property
    def base_latlng(self) -> tuple[float, float]:
        return geo.to_latlng(*self.habits.base)


def build_devices(seed: int, count: int) -> list[Device]:
    return [build_device(seed, index) for index in range(count)]


def build_device(seed: int, index: int) -> Device:
    rng = rng_for("jimi-sim", seed, "device", index)
    kind = rng.choices([k for k, _ in _KINDS], weights=[w for _, w in _KINDS])[0]
    kind = forced_kind(index) or kind
    activation = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(3 * 365 * 86400))
    expired = is_expired(index)
    if expired:
        activation = min(activation, EXPIRED_AT - timedelta(days=365))
    group = _GROUPS[kind]
    equipment = build_equipment(seed, index, kind)
    rng.choice(_TRACKERS[kind])  # the old model draw, kept so the rest of the stream is unchanged
    return Device(
        index=index,
        imei=imei_for(seed, index),
        device_name=f"{kind.title()} {index + 1:02d}",
        mc_type=mc_type_for(seed, index, equipment.role, kind),
        kind=kind,
        vehicle_number=plate_for(seed, index),
        vehicle_name=rng.choice(_MODELS[kind]),
        vehicle_icon=_ICONS[kind],
        driver_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        driver_phone=f"2547{rng.randrange(10**8):08d}",
        sim=f"2547{rng.randrange(10**8):08d}",
        car_frame="".join(rng.choice(_VIN_CHARS) for _ in range(17)),
        engine_number=f"{rng.randrange(10**7):07d}",
        group_id=hashlib.md5(f"jimi-sim/{seed}/group/{group}".encode()).hexdigest(),
        group_name=group,
        enabled=not is_disabled(index),
        activation_time=activation,
        expiration=EXPIRED_AT if expired else _ten_years_on(activation),
        habits=_habits(rng, kind, index, reporting=not expired),
        equipment=equipment,
    )


def _habits(rng: random.Random, kind: str, index: int, reporting: bool = True) -> Habits:
    depot, dlat, dlng = rng.choice(DEPOTS)
    base = geo.step_xy(geo.to_xy(dlat, dlng), rng.uniform(0, 360), rng.uniform(50, 400))
    shift = rng.choices(("early", "day", "late"), weights=(0.3, 0.5, 0.2))[0]
    start = {"early": (300, 390), "day": (390, 540), "late": (840, 960)}[shift]
    (a_lo, a_hi), (d_lo, d_hi), top = _DYNAMICS[kind]
    reach = (5_000, 25_000) if kind == "truck" else (3_000, 20_000)
    places = tuple(geo.step_xy(base, rng.uniform(0, 360), rng.uniform(*reach)) for _ in range(8))
    return Habits(
        base=base,
        depot=depot,
        shift=shift,
        shift_start_min=rng.randrange(*start),
        shift_len_min=rng.randrange(480, 600),
        days_off=_days_off(rng, kind),
        moving_interval_s=rng.choice((10, 15, 15, 20, 30)),
        parked_interval_s=rng.choice((300, 600, 900)),
        idle_interval_s=rng.choice((30, 45, 60)),
        accel=rng.uniform(a_lo, a_hi),
        decel=rng.uniform(d_lo, d_hi),
        top_speed_kmh=top,
        places=places,
        reporting=reporting and index % SILENT_EVERY != SILENT_AT,
    )


def _days_off(rng: random.Random, kind: str) -> frozenset[int]:
    roll = rng.random()
    if kind == "car":
        return frozenset({5, 6}) if roll < 0.5 else frozenset({6})
    if roll < (0.4 if kind == "van" else 0.3):
        return frozenset({6})
    return frozenset()


def _ten_years_on(moment: datetime) -> datetime:
    """Service end: the last second of the activation day ten years later (29 Feb falls back to the 28th)."""
    day = 28 if (moment.month, moment.day) == (2, 29) else moment.day
    return moment.replace(year=moment.year + 10, day=day, hour=23, minute=59, second=59)


def imei_for(seed: int, index: int) -> str:
    """A unique, Luhn-valid 15-digit IMEI: prefix + a seed-shifted bijection of the index + check digit."""
    offset = rng_for("jimi-sim", seed, "imei").randrange(10**6)
    body = f"{IMEI_PREFIX}{(389_123 * index + offset) % 10**6:06d}"
    return body + str(_luhn_digit(body))


def plate_for(seed: int, index: int) -> str:
    """A unique Kenyan-style plate ("KDA 123A") from a bijection of the index over the plate space."""
    space = 3 * 26 * 999 * 26
    offset = rng_for("jimi-sim", seed, "plate").randrange(space)
    n = (1_000_003 * index + offset) % space
    n, last = divmod(n, 26)
    n, number = divmod(n, 999)
    series, third = divmod(n, 26)
    return f"K{'BCD'[series]}{_LETTERS[third]} {number + 1:03d}{_LETTERS[last]}"


def _luhn_digit(body: str) -> int:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # every second digit from the right of the payload is doubled
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10
