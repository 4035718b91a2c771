"""Simulated Jimi IoT / TrackSolid Pro cloud: the embedded default account, test double and benchmark load.

- `SimSettings`: account, seed, fleet size, clock, late/duplicate fixes, shapes, faults, latency
  (`settings.py`; the fault rules in `faults.py`); `account.py` points the product at a simulator.
- `world/`: the deterministic fleet (`Fleet`: synthetic vehicles around Nairobi plus recorded traces, their
  GPS fixes, what has reached the cloud, and the trips, stops, alarms and OBD data behind them).
- `api/`: the open API (`/route/rest`) as a Starlette app (`create_app`) and its server.
- `push/`: the push families and their sender. `truth.py` exports ground truth; `cli.py` is
  `jimi-sim serve | push | truth`. `timetext.py`: the cloud's UTC time texts, shared by all of them.

Imports run one way: `api/` and `push/` read `world/`, never each other, and nothing in `world/` reads either.
Exports load lazily, so importing `sources.jimi_sim.settings` (the launchers do) does not load the API
(Starlette, and dlt through `sources.jimi.signing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sources.jimi_sim.api.app import create_app
    from sources.jimi_sim.settings import SimSettings
    from sources.jimi_sim.world.fleet import Fleet

__all__ = ["Fleet", "SimSettings", "create_app"]

_HOMES = {"SimSettings": "settings", "Fleet": "world.fleet", "create_app": "api.app"}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
