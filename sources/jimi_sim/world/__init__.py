"""The simulated fleet: who the devices are, how they drive, what they record and when it reaches the cloud.

`fleet.py` is the entry point (`Fleet`): devices (`catalogue.py`, `equipment.py`, `trace.py` for recorded
traces), each vehicle's working day (`driving/`), what its sensors read (`vehicle.py`), the alarms, OBD data,
dashcam media, geofences and commands that follow from it (`alarms.py`, `obd.py`, `media.py`, `fences.py`,
`commands.py`), windowed queries over those records (`records.py`), when fixes reach the cloud
(`delivery.py`), and a device's current whereabouts and status (`whereabouts.py`, `status.py`).
Everything here is deterministic for a seed; nothing here knows about the API or the push.
"""
