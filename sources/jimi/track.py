"""How a run's `track.list` work is cut into tasks, and when a device's cursor may move.

A task is one device over one window of at most 7 days (one call), not one device over its whole range.
With a device as the task, a backfill of 89 days was 13 calls per task: the last devices kept a few
workers busy for 13 calls while the others had nothing left to do (at 2 s a call, up to ~25 s in which
most of the pool idled), and every task held its tables until its last window came back, so the memory
of a backfill grew with the days asked. As windows, all tasks cost one call and hold one table.

The windows are dealt round-robin across devices (every device's first window, then every second one, ...)
and the longest go first, so the short remainders of the ranges fill the pool's last round and no device
gets all workers at once. A device's cursor may move only once every one of its windows was read
(`DeviceProgress`); a device the API refuses (it left the account or expired mid-run) is skipped for the
rest of the run and its cursor stays where it was.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from itertools import zip_longest

from .windows import split

Task = tuple[str, datetime, datetime]


def window_tasks(plans: dict[str, tuple[datetime, datetime]], span: timedelta) -> list[Task]:
    """(imei, lo, hi) for every window of every device's [begin, stop), round-robin, longest first."""
    per_device = [[(imei, lo, hi) for lo, hi in split(begin, stop, span)] for imei, (begin, stop) in plans.items()]
    dealt = [task for round_ in zip_longest(*per_device) for task in round_ if task is not None]
    # sorted() is stable: equal spans keep their round-robin order.
    return sorted(dealt, key=lambda task: task[1] - task[2])


class DeviceProgress:
    """Counts each device's windows down as their results are consumed; shared with the fetch threads."""

    def __init__(self, tasks: list[Task]) -> None:
        self._left = Counter(imei for imei, _, _ in tasks)
        self._skipped: set[str] = set()
        self._lock = threading.Lock()

    def skip(self, imei: str) -> None:
        """The API refused the device: fetch none of its remaining windows, never complete it."""
        with self._lock:
            self._skipped.add(imei)

    def skipped(self, imei: str) -> bool:
        with self._lock:
            return imei in self._skipped

    def consumed(self, imei: str) -> bool:
        """One window of `imei` was consumed; True when it was the device's last and none was refused."""
        with self._lock:
            self._left[imei] -= 1
            return self._left[imei] == 0 and imei not in self._skipped
