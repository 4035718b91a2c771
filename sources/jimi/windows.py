"""Which time range a resource reads on a run, and cutting it into windows and batches the API accepts.

Three modes:
- incremental (the schedule): from the stored cursor minus the resource's lookback, up to now; a key
  without a cursor starts `initial_days` back. The cursor moves to the end of the range, but only when the
  whole range was read (dlt commits resource state with the load, so a failed run moves nothing).
- bounded (a backfill window, `start`/`end`): exactly that range; the stored cursors are not touched.
- catch-up (`catch_up_days`): the trailing days again, for rows that reach the API late; cursors only move
  forward.
Every range is clipped to what the API keeps (the GPS trail: 89 days).

Per-device windows (`track_points`: `window_tasks`, `DeviceProgress`). A task is one device over one window of at most 7 days (one call), not one device over its whole range.
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import zip_longest


@dataclass(frozen=True)
class RunWindow:
    """What the source was asked to read on this run."""

    now: datetime
    start: datetime | None = None
    end: datetime | None = None
    catch_up_days: int | None = None
    initial_days: int = 2

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def range_for(
        self, cursor: str | None, lookback: timedelta, retention: timedelta | None = None
    ) -> tuple[datetime, datetime]:
        """The [begin, end) to read for one cursor (a key's `polled_until`, ISO text, or None)."""
        floor = self.now - retention if retention else None
        if self.bounded:
            begin = self.start or floor or self.now - timedelta(days=self.initial_days)
            stop = min(self.end or self.now, self.now)
        elif self.catch_up_days is not None:
            begin, stop = self.now - timedelta(days=self.catch_up_days), self.now
        elif cursor:
            begin, stop = datetime.fromisoformat(cursor) - lookback, self.now
        else:
            begin, stop = self.now - timedelta(days=self.initial_days), self.now
        if floor is not None:
            begin = max(begin, floor)
        return begin, stop

    def advance(self, cursor: str | None, stop: datetime) -> str | None:
        """The cursor after reading up to `stop`: unchanged for bounded windows, never moved backwards."""
        if self.bounded:
            return cursor
        if cursor and datetime.fromisoformat(cursor) >= stop:
            return cursor
        return stop.isoformat()


def split(start: datetime, end: datetime, span: timedelta) -> list[tuple[datetime, datetime]]:
    """Cut [start, end) into consecutive windows no longer than `span`."""
    out = []
    cursor = start
    while cursor < end:
        stop = min(end, cursor + span)
        out.append((cursor, stop))
        cursor = stop
    return out


def batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for offset in range(0, len(items), size):
        yield list(items[offset : offset + size])


Task = tuple[str, datetime, datetime]


def window_tasks(plans: dict[str, tuple[datetime, datetime]], span: timedelta) -> list[Task]:
    """(imei, lo, hi) for every window of every device's [begin, stop), round-robin, longest first."""
    per_device = [
        [(imei, lo, hi) for lo, hi in split(begin, stop, span)] for imei, (begin, stop) in plans.items()
    ]
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
