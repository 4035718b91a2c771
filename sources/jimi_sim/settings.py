"""Configuration of the simulated Jimi cloud: account, fleet, clock, delivery realism, shapes, faults, latency.

One frozen value object, so a simulator is fully described by its settings: the same settings always give
the same fleet, the same track points and the same faults. Environment variables (`JIMI_SIM_*`, one per
field, upper-cased) feed the CLI and any code that wants "whatever the operator configured"; explicit
arguments always win over them.

Defaults behave like production (late fixes ~11 %, occasional duplicate and out-of-order fixes, a calls
per second limit); faults are off. Tests that compare exactly switch the realism off with `EXACT`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from sources.jimi_sim.api.shapes import Shapes, parse_shapes
from sources.jimi_sim.faults import FaultRule, parse_faults

# Per-method artificial latency in seconds: the time from the request to the answer (built meanwhile). "production" mirrors what the earlier integration measured
# (docs/jimi-api.md#limits-and-timeouts: ~137 s per track.list call, ~200 ms for a fleet location sweep).
LATENCY_PROFILES: dict[str, dict[str, float]] = {
    "none": {},
    "production": {
        "jimi.oauth.token.get": 0.2,
        "jimi.oauth.token.refresh": 0.2,
        "jimi.user.device.list": 0.2,
        "jimi.track.device.detail": 0.2,
        "jimi.device.group.list": 0.2,
        "jimi.user.device.location.list": 0.2,
        "jimi.device.location.get": 0.2,
        "jimi.device.track.list": 137.0,
        "jimi.device.track.mileage": 2.0,
        "jimi.open.platform.report.parking": 2.0,
        "jimi.device.alarm.list": 0.5,
        "jimi.device.obd.list": 0.5,
        "jimi.device.obd.fault": 0.5,
    },
}

# Switches off every quirk that would break an exact comparison with `Fleet.points()`.
EXACT: dict[str, object] = {"late_share": 0.0, "duplicate_share": 0.0, "disorder_share": 0.0}

_ENV_PREFIX = "JIMI_SIM_"


def latency_profile(name: str) -> dict[str, float]:
    """The per-method latencies of a named profile (a copy, so callers may adjust it)."""
    try:
        return dict(LATENCY_PROFILES[name])
    except KeyError:
        known = ", ".join(sorted(LATENCY_PROFILES))
        raise ValueError(f"unknown latency profile {name!r}; known: {known}") from None


def parse_latency(text: str) -> dict[str, float]:
    """`method=seconds,...` (a profile name is accepted too)."""
    text = text.strip()
    if text in LATENCY_PROFILES:
        return latency_profile(text)
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, seconds = item.partition("=")
        out[name.strip()] = float(seconds)
    return out


@dataclass(frozen=True)
class SimSettings:
    """Everything that defines one simulated Jimi account, its fleet and how its API behaves."""

    seed: int = 7
    devices: int = 25
    app_key: str = "sim-app-key"
    app_secret: str = "sim-app-secret"
    user_id: str = "sim_fleet"
    password: str = "sim-password"
    push_token: str = "sim-push-token"
    # A fixed aware-UTC instant for tests; None follows the wall clock.
    now: datetime | None = None
    token_get_min_interval_s: float = 60.0
    # Calls per second per app key before 1006; 0 = unlimited. The real number is unpublished.
    max_calls_per_s: float = 20.0
    # Left out of the hash (a dict is unhashable) so settings can still key caches.
    latency_s: dict[str, float] = field(default_factory=dict, hash=False)
    # Late fixes: this share of 30-minute blocks of fixes reaches the API/push late (field reports).
    late_share: float = 0.11
    late_median_s: float = 6 * 3600.0
    late_max_s: float = 7 * 86400.0
    # Shares of served track points that come twice / swapped with their neighbour.
    duplicate_share: float = 0.002
    disorder_share: float = 0.002
    shapes: Shapes = field(default_factory=Shapes)
    faults: tuple[FaultRule, ...] = ()
    # How long a "hang" fault holds a request: longer than any client timeout (track.list: 300 s).
    hang_s: float = 330.0
    # CSV traces (`imei,gps_time,lat,lng,speed_kmh,direction,acc`) served as extra devices.
    traces: tuple[str, ...] = ()
    # Devices that fall silent: (IMEI, aware-UTC instant) — no fix, push or heartbeat from that instant on.
    silence: tuple[tuple[str, datetime], ...] = ()

    def __post_init__(self) -> None:
        if self.devices < 0:
            raise ValueError("devices must be >= 0")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        for name in ("late_share", "duplicate_share", "disorder_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    def current_time(self) -> datetime:
        """The simulator's notion of now: the fixed clock if set, else the wall clock (UTC)."""
        return self.now.astimezone(UTC) if self.now is not None else datetime.now(UTC)

    def silenced_at(self, imei: str) -> datetime | None:
        """When the device fell silent (the earliest if named twice), None when it never does."""
        moments = [moment for silenced, moment in self.silence if silenced == imei]
        return min(moments) if moments else None

    def latency_for(self, method: str) -> float:
        """Artificial latency of one API method, 0 when not configured."""
        return float(self.latency_s.get(method, 0.0))

    def describe(self) -> str:
        """A log-safe summary: never includes the app secret, the password or the push token."""
        clock = "wall clock" if self.now is None else f"fixed clock {self.now.isoformat()}"
        traces = f", {len(self.traces)} trace file(s)" if self.traces else ""
        return f"{self.devices} devices, seed {self.seed}, app_key {self.app_key}, {clock}{traces}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> SimSettings:
        """Settings from `JIMI_SIM_*` variables, defaults for the rest; non-None overrides win.

        `JIMI_SIM_LATENCY_PROFILE` (none|production) or `JIMI_SIM_LATENCY` (`method=s,...`) select
        `latency_s` unless it is overridden.
        """
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for spec in fields(cls):
            raw = source.get(_ENV_PREFIX + spec.name.upper())
            if raw is not None and raw.strip() != "" and spec.name != "latency_s":
                values[spec.name] = _parse_env_value(spec.name, raw)
        for variable in ("LATENCY_PROFILE", "LATENCY"):
            raw = source.get(_ENV_PREFIX + variable)
            if raw and raw.strip():
                values["latency_s"] = parse_latency(raw)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]


def parse_silence(text: str) -> tuple[tuple[str, datetime], ...]:
    """`IMEI@yyyy-MM-dd HH:mm:ss` items (UTC), comma-separated."""
    from sources.jimi.signing import parse_time  # see _parse_env_value: imported when needed

    out = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        imei, at, moment = item.partition("@")
        if not at or not imei.strip().isdigit():
            raise ValueError(f"silence {item!r} must read IMEI@yyyy-MM-dd HH:mm:ss")
        out.append((imei.strip(), parse_time(moment.strip())))
    return tuple(out)


def _parse_env_value(name: str, raw: str) -> object:
    """Convert one environment string to the type of the settings field it feeds."""
    text = raw.strip()
    if name in ("seed", "devices"):
        return int(text)
    if name in (
        "token_get_min_interval_s",
        "max_calls_per_s",
        "late_share",
        "late_median_s",
        "late_max_s",
        "duplicate_share",
        "disorder_share",
        "hang_s",
    ):
        return float(text)
    if name == "shapes":
        return parse_shapes(text)
    if name == "faults":
        return parse_faults(text)
    if name == "silence":
        return parse_silence(text)
    if name == "traces":
        return tuple(part for part in text.split(os.pathsep) if part)
    if name == "now":
        # Imported here: `sources.jimi` loads dlt (about a second), which reading the settings does not need
        # (the launchers read them before starting anything).
        from sources.jimi.signing import parse_time

        return parse_time(text)
    return text
