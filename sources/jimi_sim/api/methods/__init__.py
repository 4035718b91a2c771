"""Every API method the simulator serves, by name: the tables of the handler modules, joined.

`account.py`: tokens, devices, groups; `positions.py`: locations, tracks, mileage, parking; `alarms_obd.py`:
alarms and OBD readings and faults; `media.py`: dashcam media; `platform.py`: geofences, TAG, commands.
"""

from __future__ import annotations

from sources.jimi_sim.api.methods import account, alarms_obd, media, platform, positions
from sources.jimi_sim.api.registry import Method, joined

METHODS: dict[str, Method] = joined(
    account.METHODS, positions.METHODS, alarms_obd.METHODS, media.METHODS, platform.METHODS
)
