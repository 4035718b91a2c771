"""Loading a stream of Arrow tables in batches while it is still being fetched, in bounded memory.

A backfill's tables come from the API (slow, on a thread pool) and go to the warehouse in batches (under
the writer lock). `load_in_batches` runs the two at once: a producer thread walks the stream into a
`TableBuffer`, and the caller's thread loads a batch whenever enough rows have arrived. The buffer is
bounded by bytes, not by a count of tables (the tables of one resource range from a few rows to a week of
fixes), so a producer faster than the loads (an API without latency) waits instead of piling up answers,
and the memory of a backfill does not depend on how many days it covers. While the loads keep up, the
producer never waits for one: a load only takes what has already arrived.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar

import pyarrow as pa

T = TypeVar("T")


class TableBuffer:
    """A FIFO of tables between one producer and one consumer, holding at most `max_bytes` (one table
    more than that is always admitted into an empty buffer, so a single large table cannot block forever)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._tables: deque[pa.Table] = deque()
        self._bytes = 0
        self._ended = False
        self._error: BaseException | None = None
        self._cancelled = False
        self._changed = threading.Condition()

    @property
    def held_bytes(self) -> int:
        with self._changed:
            return self._bytes

    def put(self, table: pa.Table) -> bool:
        """Queue `table`, waiting while the buffer is full; False (nothing queued) once cancelled."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._cancelled or not self._tables or self._bytes < self.max_bytes
            )
            if self._cancelled:
                return False
            self._tables.append(table)
            self._bytes += table.nbytes
            self._changed.notify_all()
            return True

    def end(self, error: BaseException | None = None) -> None:
        """No more tables will come; `error` (the producer's failure) is raised once the rest is taken."""
        with self._changed:
            self._ended, self._error = True, error
            self._changed.notify_all()

    def cancel(self) -> None:
        """The consumer gives up: a waiting or later `put` returns False."""
        with self._changed:
            self._cancelled = True
            self._tables.clear()
            self._bytes = 0
            self._changed.notify_all()

    def take(self) -> list[pa.Table] | None:
        """Every table queued so far (waiting for one); None once the stream ended and all were taken."""
        with self._changed:
            self._changed.wait_for(lambda: self._tables or self._ended)
            if not self._tables:
                if self._error is not None:
                    raise self._error
                return None
            tables = list(self._tables)
            self._tables.clear()
            self._bytes = 0
            self._changed.notify_all()
            return tables


def load_in_batches(
    tables: Iterable[pa.Table], load: Callable[[list[pa.Table], int], T], batch_rows: int, max_bytes: int
) -> list[T]:
    """Iterate `tables` on a producer thread and `load(batch, number)` every `batch_rows` rows of them on
    this one (the rest at the end); returns what each load returned. A failure on either side stops both
    and is raised here; the batches loaded before it stay loaded."""
    buffer = TableBuffer(max_bytes)

    def produce() -> None:
        try:
            for table in tables:
                if not buffer.put(table):
                    return
        except BaseException as exc:  # noqa: BLE001 — handed to the loading thread, which raises it
            buffer.end(exc)
        else:
            buffer.end()

    producer = threading.Thread(target=produce, name="fetch-batches", daemon=True)
    producer.start()
    results: list[T] = []
    batch: list[pa.Table] = []
    rows = 0
    try:
        while (arrived := buffer.take()) is not None:
            batch += arrived
            rows += sum(table.num_rows for table in arrived)
            if rows >= batch_rows:
                results.append(_load(load, batch, len(results)))
                batch, rows = [], 0
        if batch:
            results.append(_load(load, batch, len(results)))
    finally:
        buffer.cancel()
    return results


def _load(load: Callable[[list[pa.Table], int], T], batch: list[pa.Table], number: int) -> T:
    result = load(batch, number)
    batch.clear()
    # A dlt run leaves reference cycles behind (failed configuration lookups keep tracebacks whose frames
    # hold the run's objects), and they reach the batch's tables; left to the garbage collector's own pace
    # they outlive several batches, so a 90-day backfill peaked ~100 MiB higher than a 30-day one.
    gc.collect()
    return result
