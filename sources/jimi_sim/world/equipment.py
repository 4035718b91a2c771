"""What each tracker is and what it is wired to: car trackers with ACC, OBD dongles, fuel and reefer trucks.

Roles go by the device's slot in every block of 25 indices, so even the default fleet of 25 has every kind
(and growing the fleet never changes an existing device's role). Details come from their own seeded
stream, so adding equipment never disturbed the draws that shape a vehicle's driving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sources.jimi_sim.world.rand import rng_for

BLOCK = 25
_ROLE_SLOTS = {
    2: "obd",
    9: "obd",
    16: "obd",
    4: "fuel",
    11: "fuel",
    19: "fuel",
    6: "reefer",
    22: "reefer",
    8: "dashcam",
    3: "tag",
    14: "tag",
}
_FORCED_KIND = {4: "truck", 11: "truck", 19: "truck", 6: "truck", 22: "van", 2: "car", 9: "van", 16: "car"}
DISABLED_SLOT = 17  # enabledFlag 0: still in the account, still reporting
EXPIRED_SLOT = 21  # service ended before any plausible "now": never reports within retention
EXPIRED_AT = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
# The odometer advances by this allowance per working day since activation (see vehicle.py): above ~99 %
# of simulated days' distances.
DAILY_ALLOWANCE_KM = 330.0

_MC_TYPES = {
    "tracker": {
        "car": ("GT06N", "X3", "VL502"),
        "van": ("VL502", "GT06N", "X3"),
        "truck": ("VL502", "GT800"),
    },
    "obd": ("JM-VL04",),
    "fuel": ("GT800",),
    "reefer": ("VL802",),
    "dashcam": ("JC450Pro", "JC400"),
    # A vehicle tracker with a Bluetooth TAG/beacon module: answers jimi.device.location.getTagMsg.
    "tag": ("LL01-TAG",),
}
# The TAG-capable models: the product finds TAG devices by model, and a launcher tells it these.
TAG_MODELS: tuple[str, ...] = _MC_TYPES["tag"]
_BRANDS = {
    "car": ("Toyota", "Nissan", "Mazda"),
    "van": ("Toyota", "Nissan"),
    "truck": ("Isuzu", "Hino", "Mitsubishi"),
}
# (tank litres, litres per 100 km) by kind
_FUEL = {"car": (45.0, 7.5), "van": (70.0, 11.0), "truck": (200.0, 28.0)}
_SPEED_LIMIT = {"car": 85.0, "van": 80.0, "truck": 70.0}


@dataclass(frozen=True)
class Equipment:
    role: str  # tracker | obd | fuel | reefer | dashcam | tag
    iccid: str
    imsi: str
    brand: str
    tank_l: float
    consumption_l_100km: float
    setpoint_c: float | None  # reefers: cargo temperature the unit holds
    odometer_base_km: float  # odometer on the reference day (see vehicle.py)
    install_odometer_km: float  # odometer when the tracker was fitted (device-counted mileage starts here)
    speed_limit_kmh: float  # overspeed alarm threshold

    @property
    def has_obd(self) -> bool:
        return self.role == "obd"

    @property
    def is_dashcam(self) -> bool:
        return self.role == "dashcam"

    @property
    def is_tag(self) -> bool:
        return self.role == "tag"


def role_for(index: int) -> str:
    return _ROLE_SLOTS.get(index % BLOCK, "tracker")


def forced_kind(index: int) -> str | None:
    """Fuel sensors are fitted to trucks, reefer units to trucks and vans, OBD dongles to cars and vans."""
    return _FORCED_KIND.get(index % BLOCK)


def is_disabled(index: int) -> bool:
    return index % BLOCK == DISABLED_SLOT


def is_expired(index: int) -> bool:
    return index % BLOCK == EXPIRED_SLOT


def mc_type_for(seed: int, index: int, role: str, kind: str) -> str:
    choices = _MC_TYPES[role]
    options = choices[kind] if isinstance(choices, dict) else choices
    return rng_for("jimi-sim", seed, "model", index).choice(options)


def build_equipment(seed: int, index: int, kind: str) -> Equipment:
    rng = rng_for("jimi-sim", seed, "equipment", index)
    role = role_for(index)
    tank, consumption = _FUEL[kind]
    install = round(rng.uniform(5_000, 120_000), 1)
    return Equipment(
        role=role,
        iccid=f"8925402{rng.randrange(10**12):012d}",
        imsi=f"63902{rng.randrange(10**10):010d}",
        brand=rng.choice(_BRANDS[kind]),
        tank_l=tank,
        consumption_l_100km=round(consumption * rng.uniform(0.9, 1.15), 2),
        setpoint_c=rng.choice((-18.0, 2.0, 4.0)) if role == "reefer" else None,
        odometer_base_km=round(install + rng.uniform(1_000, 30_000), 1),
        install_odometer_km=install,
        speed_limit_kmh=_SPEED_LIMIT[kind],
    )
