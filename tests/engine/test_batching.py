"""Loading a stream of tables in batches while it is still being fetched (orchestration/batching.py)."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest

from orchestration.engine.batching import TableBuffer, load_in_batches


def table(first: int, rows: int = 10) -> pa.Table:
    return pa.table({"n": pa.array(range(first, first + rows), pa.int64())})  # 8 bytes a row


def test_buffer_admits_one_table_beyond_its_bound_then_makes_the_producer_wait():
    buffer = TableBuffer(max_bytes=100)
    assert buffer.put(table(0, 20)) is True  # 160 bytes: an empty buffer takes it
    blocked = threading.Thread(target=buffer.put, args=(table(20),))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive() and buffer.held_bytes == 160
    assert [t.num_rows for t in buffer.take()] == [20]
    blocked.join(5)
    assert not blocked.is_alive() and buffer.held_bytes == 80


def test_buffer_hands_over_everything_queued_then_none_when_ended():
    buffer = TableBuffer(max_bytes=1000)
    for first in (0, 10, 20):
        buffer.put(table(first))
    buffer.end()
    assert [t["n"][0].as_py() for t in buffer.take()] == [0, 10, 20]
    assert buffer.take() is None


def test_buffer_raises_producer_error_after_the_tables_before_it():
    buffer = TableBuffer(max_bytes=1000)
    buffer.put(table(0))
    buffer.end(ValueError("API down"))
    assert len(buffer.take()) == 1
    with pytest.raises(ValueError, match="API down"):
        buffer.take()


def test_buffer_put_returns_false_when_cancelled_while_full():
    buffer = TableBuffer(max_bytes=10)
    buffer.put(table(0))
    outcome = []
    waiting = threading.Thread(target=lambda: outcome.append(buffer.put(table(10))))
    waiting.start()
    buffer.cancel()
    waiting.join(5)
    assert outcome == [False] and buffer.held_bytes == 0


def test_fetching_continues_while_a_load_is_in_progress():
    """The first load blocks until the producer has fetched everything after its batch: it can only be
    released if fetching goes on while a load runs."""
    loading, fetched_all = threading.Event(), threading.Event()

    def tables():
        for first in range(0, 100, 10):
            if first == 30:  # the rest only once the first batch is loading
                assert loading.wait(10)
            yield table(first)
        fetched_all.set()

    loads = []

    def load(batch, number):
        if number == 0:
            loading.set()
            assert fetched_all.wait(10), "fetching stopped while the first batch was loading"
        loads.append([t["n"][0].as_py() for t in batch])
        return number

    assert load_in_batches(tables(), load, batch_rows=30, max_bytes=10_000) == [0, 1]
    assert loads == [[0, 10, 20], [30, 40, 50, 60, 70, 80, 90]]


def counted(produced: list[int]):
    """Up to a thousand 10-row tables, each recorded in `produced` as the consumer draws it."""
    for first in range(0, 10_000, 10):
        produced.append(first)
        yield table(first)


def test_producer_waits_for_the_loads_when_buffer_is_full():
    """While the first batch loads, the producer fills the emptied buffer to its bound (two 80-byte tables)
    and stops with a third table in hand: exactly three tables beyond the batch, however long the load."""
    produced, seen = [], []

    def load(batch, number):
        if number == 0:
            time.sleep(0.5)
            seen.append((len(batch), len(produced)))
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        load_in_batches(counted(produced), load, batch_rows=10, max_bytes=160)
    ((batch, produced_during_load),) = seen
    assert produced_during_load == batch + 3


def test_load_failure_stops_the_producer_and_is_raised():
    produced, batches = [], []

    def load(batch, number):
        batches.append(len(batch))
        raise RuntimeError("warehouse busy")

    with pytest.raises(RuntimeError, match="warehouse busy"):
        load_in_batches(counted(produced), load, batch_rows=10, max_bytes=80)
    stopped_at = len(produced)
    time.sleep(0.3)
    assert len(produced) == stopped_at <= batches[0] + 2


def test_producer_failure_is_raised_after_earlier_batches_loaded():
    def tables():
        yield table(0)
        yield table(10)
        raise ConnectionError("retries exhausted")

    loads = []
    with pytest.raises(ConnectionError, match="retries exhausted"):
        load_in_batches(
            tables(), lambda batch, number: loads.append(len(batch)), batch_rows=10, max_bytes=10_000
        )
    assert loads in ([1, 1], [2])  # depending on whether the second table arrived before the first load
