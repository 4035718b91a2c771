"""Simulated Jimi IoT / TrackSolid Pro cloud: the embedded default account, test double and benchmark load.

- `SimSettings`: account, seed, fleet size, clock, late/duplicate fixes, shapes, faults, latency (`settings.py`).
- `Fleet`: deterministic synthetic vehicles around Nairobi (plus recorded traces), their GPS fixes, what has
  reached the cloud (`visible_points`), and the trips, stops, alarms and OBD data behind them (`fleet.py`).
- `create_app`: the open API (`/route/rest`) as a Starlette app (`api.py`, methods in `methods*.py`);
  `server.py` runs it, `push.py` sends the push families, `truth.py` exports ground truth, `cli.py` is
  `jimi-sim serve | push | truth`.

Exports load lazily: `sources.jimi` imports `sources.jimi_sim.settings` for its default account, and the
API layer imports `sources.jimi.signing`, so eager imports here would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sources.jimi_sim.api import create_app
    from sources.jimi_sim.fleet import Fleet
    from sources.jimi_sim.settings import SimSettings

__all__ = ["Fleet", "SimSettings", "create_app"]

_HOMES = {"SimSettings": "settings", "Fleet": "fleet", "create_app": "api"}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
