"""Configuration of the simulated Jimi cloud: credentials, fleet size and seed, clock and latency.

One frozen value object, so a simulator is fully described by its settings: the same settings always give
the same fleet and the same track points. Environment variables (`JIMI_SIM_*`) feed the CLI and any code
that wants "whatever the operator configured"; explicit arguments always win over them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

# Per-method artificial latency in seconds. "production" mirrors what the earlier integration measured
# (jimi-api-facts.md §2.4: ~137 s per track.list call, ~200 ms for the other calls).
LATENCY_PROFILES: dict[str, dict[str, float]] = {
    "none": {},
    "production": {
        "jimi.oauth.token.get": 0.2,
        "jimi.user.device.list": 0.2,
        "jimi.device.track.list": 137.0,
    },
}

_ENV_PREFIX = "JIMI_SIM_"


def latency_profile(name: str) -> dict[str, float]:
    """The per-method latencies of a named profile (a copy, so callers may adjust it)."""
    try:
        return dict(LATENCY_PROFILES[name])
    except KeyError:
        known = ", ".join(sorted(LATENCY_PROFILES))
        raise ValueError(f"unknown latency profile {name!r}; known: {known}") from None


@dataclass(frozen=True)
class SimSettings:
    """Everything that defines one simulated Jimi account and its fleet."""

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
    # Left out of the hash (a dict is unhashable) so settings can still key caches.
    latency_s: dict[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.devices < 0:
            raise ValueError("devices must be >= 0")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")

    def current_time(self) -> datetime:
        """The simulator's notion of now: the fixed clock if set, else the wall clock (UTC)."""
        return self.now.astimezone(UTC) if self.now is not None else datetime.now(UTC)

    def latency_for(self, method: str) -> float:
        """Artificial latency of one API method, 0 when not configured."""
        return float(self.latency_s.get(method, 0.0))

    def describe(self) -> str:
        """A log-safe summary: never includes the app secret, the password or the push token."""
        clock = "wall clock" if self.now is None else f"fixed clock {self.now.isoformat()}"
        return f"{self.devices} devices, seed {self.seed}, app_key {self.app_key}, {clock}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> SimSettings:
        """Settings from `JIMI_SIM_*` variables, defaults for the rest; non-None overrides win.

        `JIMI_SIM_LATENCY_PROFILE` (none|production) selects `latency_s` unless it is overridden.
        """
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for spec in fields(cls):
            raw = source.get(_ENV_PREFIX + spec.name.upper())
            if raw is not None and raw.strip() != "" and spec.name != "latency_s":
                values[spec.name] = _parse_env_value(spec.name, raw)
        profile = source.get(_ENV_PREFIX + "LATENCY_PROFILE")
        if profile:
            values["latency_s"] = latency_profile(profile.strip())
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]


def _parse_env_value(name: str, raw: str) -> object:
    """Convert one environment string to the type of the settings field it feeds."""
    text = raw.strip()
    if name in ("seed", "devices"):
        return int(text)
    if name == "token_get_min_interval_s":
        return float(text)
    if name == "now":
        # Imported here: `sources.jimi` imports this module (for the simulator's default account), so a
        # module-level import would be circular.
        from sources.jimi.signing import parse_time

        return parse_time(text)
    return text
