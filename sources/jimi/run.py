"""What every resource of one source run shares: the client, the run's window, the device roster, the pool.

A `SourceRun` is made once per `jimi_source(...)` call. The resources (`resources/`) are plain functions of
it and their registry entry, so each reads like a verified dlt source's resource: "this endpoint, over these
windows and devices, with this cursor". The device list is read at most once per run, by whichever resource
needs it first; the cursor helpers (`cursor_range`, `windowed`) are the one place a resource-level cursor moves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

import dlt
import pyarrow as pa

from . import settings
from .client import JimiClient
from .helpers import as_rows
from .windows import RunWindow, batches, split

if TYPE_CHECKING:
    from .registry import Endpoint

log = logging.getLogger(__name__)


@dataclass
class SourceRun:
    """The shared state of one source run (see the module docstring)."""

    client: JimiClient
    window: RunWindow
    max_workers: int = 4
    imeis: Sequence[str] | None = None
    # Overrides the track lookback (the `lookback_minutes` setting); the registry has every other one.
    track_lookback: timedelta | None = None
    # Which devices have cameras (model prefixes) and which are TAGs (models): `[sources.jimi]` settings.
    media_models: Sequence[str] = settings.MEDIA_MODEL_PREFIXES
    tag_models: Sequence[str] = ()
    mileage_distance_unit: str = "auto"
    # What the parking report accepted (acc_type, paging): probed once per run (resources/reports.py).
    parking_dialect: dict = field(default_factory=dict)
    # What two resources of one run read once and share (the fence listing: resources/fences.py).
    shared: dict = field(default_factory=dict)
    _devices: tuple[dict, ...] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def account(self) -> str:
        return self.client.credentials.account

    def device_rows(self) -> tuple[dict, ...]:
        """The account's device list (`user.device.list`), read once per run."""
        from .resources.devices import device_row

        with self._lock:
            if self._devices is None:
                method = settings.DEVICE_LIST
                # No resource named: the list is tallied under whichever resource needs it first.
                with self.client.stats.window(None, method) as tally:
                    body = self.client.call(method, {"target": self.account}, f"account {self.account}")
                    self._devices = tuple(device_row(item) for item in as_rows(body.get("result"), method))
                    tally.add_rows(len(self._devices))
            return self._devices

    def pollable_imeis(self) -> list[str]:
        """Enabled, unexpired devices (restricted to `imeis` when given): the rest answer 1002."""
        moment = self.window.now
        chosen = [
            row["imei"]
            for row in self.device_rows()
            if row["enabled"] is not False and (row["expires_at"] is None or row["expires_at"] > moment)
        ]
        return [imei for imei in chosen if imei in set(self.imeis)] if self.imeis is not None else chosen

    def imeis_of_models(self, match: Callable[[str], bool]) -> list[str]:
        models = {row["imei"]: (row.get("model") or "") for row in self.device_rows()}
        return [imei for imei in self.pollable_imeis() if match(models.get(imei, "").upper())]

    def lookback(self, endpoint: Endpoint) -> timedelta:
        if self.track_lookback is not None and endpoint.name == "track_points":
            return self.track_lookback
        return endpoint.lookback or timedelta(0)

    def concurrently(self, tasks: Iterable[tuple], work: Callable) -> Iterator[tuple[tuple, Any]]:
        return run_concurrently(tasks, work, self.max_workers)

    def windowed(
        self, endpoint: Endpoint, tasks_for: Callable[[datetime, datetime], list[tuple]], fetch: Callable
    ) -> Iterator[pa.Table]:
        """The tables of `fetch(*task)` for every task of every window of the run's range, with one cursor for
        the whole resource that moves only once every window was read (dlt commits it with the load)."""
        state = None if self.window.bounded else dlt.current.resource_state()
        cursor = state.get("polled_until") if state is not None else None
        begin, stop = self.window.range_for(cursor, self.lookback(endpoint), settings.REPORT_RETENTION)
        assert endpoint.span is not None, f"{endpoint.name} has no window span"
        tasks = [task for lo, hi in split(begin, stop, endpoint.span) for task in tasks_for(lo, hi)]
        for _, tables in self.concurrently(tasks, fetch):
            yield from (table for table in tables if table.num_rows)
        if state is not None:
            state["polled_until"] = self.window.advance(cursor, stop)

    def batch_windows(
        self, endpoint: Endpoint, fetch: Callable[[list[str], datetime, datetime], list[pa.Table]]
    ) -> Iterator[pa.Table]:
        """`windowed` over the pollable devices in batches of the API's IMEI limit, each call of
        `fetch(imeis, lo, hi)` tallied as one window of the run's call stats."""

        def recorded(imeis: list[str], lo: datetime, hi: datetime) -> list[pa.Table]:
            with self.client.stats.window(endpoint.name, endpoint.method, lo, hi, imeis) as tally:
                tables = fetch(imeis, lo, hi)
                tally.add_rows(sum(table.num_rows for table in tables))
            return tables

        def tasks(lo: datetime, hi: datetime) -> list[tuple]:
            return [(batch, lo, hi) for batch in batches(self.pollable_imeis(), settings.IMEI_BATCH)]

        return self.windowed(endpoint, tasks, recorded)


def run_concurrently(tasks: Iterable[tuple], work: Callable, max_workers: int) -> Iterator[tuple[tuple, Any]]:
    """Run `work(*task)` for every task on a bounded pool; yield (task, result) as each completes.

    At most twice `max_workers` tasks are in flight, so a consumer slower than the API holds the pool back
    instead of piling up answers (a long backfill stays flat in memory).
    """
    pending = iter(list(tasks))
    workers = max(1, max_workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {}
        for task in islice(pending, 2 * workers):
            futures[pool.submit(work, *task)] = task
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                task = futures.pop(future)
                yield task, future.result()
                for more in islice(pending, 1):
                    futures[pool.submit(work, *more)] = more
