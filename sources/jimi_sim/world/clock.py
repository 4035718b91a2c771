"""The simulator's clock: frozen for tests, wall time otherwise, and movable in both cases.

The fleet (which fixes exist yet), the API (timestamp skew, token expiry, rate limits) and later the push
sender must all agree on "now", so they share one `SimClock` rather than each reading the settings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sources.jimi_sim.settings import SimSettings


class SimClock:
    """Now = the fixed instant (or the wall clock) plus whatever offset tests have advanced it by."""

    def __init__(self, fixed: datetime | None = None) -> None:
        if fixed is not None and fixed.tzinfo is None:
            raise ValueError("fixed clock must be timezone-aware (UTC)")
        self._fixed = fixed.astimezone(UTC) if fixed is not None else None
        self._offset = timedelta(0)

    @classmethod
    def from_settings(cls, settings: SimSettings) -> SimClock:
        return cls(settings.now)

    @property
    def frozen(self) -> bool:
        return self._fixed is not None

    def now(self) -> datetime:
        base = self._fixed if self._fixed is not None else datetime.now(UTC)
        return base + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, if negative); returns the new now."""
        self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, moment: datetime) -> None:
        """Jump to an instant; a wall clock becomes frozen there."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware (UTC)")
        self._fixed = moment.astimezone(UTC)
        self._offset = timedelta(0)
