"""Which time range a resource reads on a run, and cutting it into windows and batches the API accepts.

Three modes:
- incremental (the schedule): from the stored cursor minus the resource's lookback, up to now; a key
  without a cursor starts `initial_days` back. The cursor moves to the end of the range, but only when the
  whole range was read (dlt commits resource state with the load, so a failed run moves nothing).
- bounded (a backfill window, `start`/`end`): exactly that range; the stored cursors are not touched.
- catch-up (`catch_up_days`): the trailing days again, for rows that reach the API late; cursors only move
  forward.
Every range is clipped to what the API keeps (the GPS trail: 89 days).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


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

    def range_for(self, cursor: str | None, lookback: timedelta, retention: timedelta | None = None) -> tuple[datetime, datetime]:
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
