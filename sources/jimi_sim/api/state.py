"""The running simulator's state, shared by the HTTP layer and every method handler."""

from __future__ import annotations

from dataclasses import dataclass, field

from sources.jimi_sim.api.locations.sweep import Sweep
from sources.jimi_sim.api.rowcache import RowCache
from sources.jimi_sim.api.tokens import CallLimiter, TokenStore
from sources.jimi_sim.api.wire.tracks import TrackWire
from sources.jimi_sim.faults import FaultInjector
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.clock import SimClock
from sources.jimi_sim.world.fleet import Fleet


@dataclass
class Simulator:
    """One simulated Jimi account: its settings, fleet, clock, issued tokens, rate limit and faults."""

    settings: SimSettings
    fleet: Fleet
    clock: SimClock
    tokens: TokenStore
    limiter: CallLimiter
    faults: FaultInjector
    sweep: Sweep
    track_wire: TrackWire
    report_rows: RowCache = field(default_factory=RowCache)  # paged reports between their pages

    @classmethod
    def build(cls, settings: SimSettings, fleet: Fleet | None = None) -> Simulator:
        """A simulator whose fleet, API and tokens all share the fleet's clock."""
        fleet = fleet if fleet is not None else Fleet(settings)
        return cls(
            settings,
            fleet,
            fleet.clock,
            TokenStore(fleet.clock, settings.token_get_min_interval_s),
            CallLimiter(settings.max_calls_per_s),
            FaultInjector(settings.seed, settings.faults),
            Sweep(fleet, settings.shapes),
            TrackWire(
                settings.shapes.track_types == "strings",
                settings.seed,
                settings.duplicate_share,
                settings.disorder_share,
            ),
        )
