"""The fleet sweep: each device's `location.list` entry, kept rendered and moved only when it changes.

`sweep.py` runs a sweep over the fleet; `drive.py` and `park.py` move a driving and a parked device's entry
to its newest fix; `rules.py` says until when an entry holds; `beats.py` is a device's heartbeat grid.
"""
