"""The push sender: POSTs every push family to a receiver, live or replaying a past window.

Like the IoT Hub (docs/jimi-api.md#delivery-contract): one form POST per batch to `{base}/{family}` with fields
`token` and `data_list` (a JSON array as a string, at most 50 items); a delivery counts when the receiver
answers HTTP 2xx and, if its body is JSON with a `code`, code 0. A failed delivery is retried 3 times,
`retry_interval_s` apart (2 minutes, as the real sender), then dropped. Retries never hold up newer
batches. Push faults (`push_duplicate`, `push_malformed`) come from the same seeded injector as the API's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import orjson

from sources.jimi_sim.faults import PUSH_KINDS, FaultInjector
from sources.jimi_sim.push.feed import FAMILIES, Item, PushFeed
from sources.jimi_sim.push.wire import malformed
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.fleet import Fleet
from sources.jimi_sim.world.rand import noise

log = logging.getLogger("jimi_sim.push")

BATCH_SIZE = 50
RETRIES = 3
RETRY_INTERVAL_S = 120.0
REPLAY_SLICE_S = 900  # replays generate and send a quarter of an hour of arrivals at a time


@dataclass
class PushStats:
    """What a sender run did; `items` counts delivered items per family."""

    batches: int = 0
    delivered: int = 0
    retries: int = 0
    dropped: int = 0
    duplicates: int = 0
    malformed: int = 0
    items: Counter = field(default_factory=Counter)


class PushSender:
    """Delivers a fleet's push items to one receiver."""

    def __init__(
        self,
        settings: SimSettings,
        base_url: str,
        token: str | None = None,
        *,
        fleet: Fleet | None = None,
        families: tuple[str, ...] = FAMILIES,
        retry_interval_s: float = RETRY_INTERVAL_S,
        retries: int = RETRIES,
        concurrency: int = 4,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.token = settings.push_token if token is None else token
        self.fleet = fleet if fleet is not None else Fleet(settings)
        self.feed = PushFeed(self.fleet, families)
        self.retry_interval_s, self.retries = retry_interval_s, retries
        self.faults = FaultInjector(settings.seed, settings.faults)
        self.stats = PushStats()
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._client = client
        self._timeout = timeout_s
        self._pending: set[asyncio.Task] = set()
        self._owned = False

    async def replay(self, start: datetime, end: datetime) -> PushStats:
        """Send everything that arrived in [start, end), then wait for the retries to settle."""
        self._open()
        try:
            lo, hi = int(start.timestamp()), int(end.timestamp())
            while lo < hi:
                upper = min(lo + REPLAY_SLICE_S, hi)
                await self._send(self.feed.items(lo, upper))
                lo = upper
        finally:
            await self._drain()
        return self.stats

    async def live(
        self, poll_s: float = 5.0, start: datetime | None = None, duration_s: float | None = None
    ) -> PushStats:
        """Send arrivals as the clock reaches them (from `start`, or now) until cancelled or duration ends."""
        clock = self.fleet.clock
        lo = int((start or clock.now()).timestamp())
        began = asyncio.get_running_loop().time()
        self._open()
        try:
            while duration_s is None or asyncio.get_running_loop().time() - began < duration_s:
                hi = int(clock.now().timestamp()) + 1
                while lo < hi:  # catch up in slices after a pause or a start in the past
                    upper = min(lo + REPLAY_SLICE_S, hi)
                    await self._send(self.feed.items(lo, upper))
                    lo = upper
                await asyncio.sleep(poll_s)
        finally:
            await self._drain()
        return self.stats

    def _open(self) -> None:
        self._owned = self._client is None
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)

    async def _send(self, items: list[Item]) -> None:
        batches: dict[str, list[dict[str, object]]] = {}
        ordered: list[tuple[str, list[dict[str, object]]]] = []
        for _, family, item in items:
            batch = batches.get(family)
            if batch is None or len(batch) >= BATCH_SIZE:
                batch = batches[family] = []
                ordered.append((family, batch))
            batch.append(item)
        await asyncio.gather(*(self._batch(family, batch) for family, batch in ordered))

    async def _batch(self, family: str, batch: list[dict[str, object]]) -> None:
        fault, index = self.faults.decide(family, PUSH_KINDS) if self.faults.active else (None, 0)
        if fault == "push_malformed":
            at = int(noise(self.settings.seed, index, 7) * len(batch))
            batch = [*batch[:at], malformed(batch[at], noise(self.settings.seed, index, 8)), *batch[at + 1 :]]
            self.stats.malformed += 1
        body = orjson.dumps(batch).decode()
        self.stats.batches += 1
        copies = 2 if fault == "push_duplicate" else 1
        self.stats.duplicates += copies - 1
        for _ in range(copies):
            if not await self._post(family, body):
                self._spawn(self._retry(family, body, len(batch)))
            else:
                self._delivered(family, len(batch))

    async def _retry(self, family: str, body: str, count: int) -> None:
        for attempt in range(1, self.retries + 1):
            await asyncio.sleep(self.retry_interval_s)
            self.stats.retries += 1
            if await self._post(family, body):
                self._delivered(family, count)
                return
            log.info("%s: retry %d of %d failed", family, attempt, self.retries)
        self.stats.dropped += 1
        log.warning("%s: dropped a batch of %d items after %d retries", family, count, self.retries)

    async def _post(self, family: str, body: str) -> bool:
        assert self._client is not None
        async with self._limit:
            try:
                response = await self._client.post(
                    f"{self.base_url}/{family}", data={"token": self.token, "data_list": body}
                )
            except httpx.HTTPError as exc:
                log.info("%s: delivery failed: %s", family, type(exc).__name__)
                return False
        if not 200 <= response.status_code < 300:
            return False
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return True
        return not isinstance(answer, dict) or answer.get("code", 0) in (0, "0")

    def _delivered(self, family: str, count: int) -> None:
        self.stats.delivered += 1
        self.stats.items[family] += count

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[arg-type]
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending))
        if self._client is not None and self._owned:
            await self._client.aclose()
            self._client = None
