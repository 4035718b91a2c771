"""The running simulator's state, shared by the HTTP layer and every method handler."""

from __future__ import annotations

from dataclasses import dataclass

from sources.jimi_sim.clock import SimClock
from sources.jimi_sim.fleet import Fleet
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.tokens import TokenStore


@dataclass
class Simulator:
    """One simulated Jimi account: its settings, fleet, clock and issued tokens."""

    settings: SimSettings
    fleet: Fleet
    clock: SimClock
    tokens: TokenStore

    @classmethod
    def build(cls, settings: SimSettings, fleet: Fleet | None = None) -> Simulator:
        """A simulator whose fleet, API and tokens all share the fleet's clock."""
        fleet = fleet if fleet is not None else Fleet(settings)
        return cls(settings, fleet, fleet.clock, TokenStore(fleet.clock, settings.token_get_min_interval_s))
