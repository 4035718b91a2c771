"""What a polling run did against the API, per endpoint and window: calls, retries by cause, errors, latency.

The client reports every HTTP attempt (`attempt`) and every retry (`count_retry`); the source opens a
`window(...)` around each unit of work (one IMEI batch over one time window, one fleet sweep, ...), so each
attempt is tallied under (the window open on this thread, the method called). Calls outside any window (the
device list, a token acquired before the first window) fall under the stats' default resource with no
window. Worker threads each open their own window, so a thread-local stack is enough; every counter is
updated under one lock because the source calls the API from a thread pool.

Error text is stored redacted: every secret the client registers (`add_secret`: app secret, password hash,
access and refresh tokens) is replaced before it is kept, so no record can leak one.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

# The causes a retry is counted under (the client's `JimiTransientError.cause`, plus 1004 re-logins).
RETRY_CAUSES = ("1006", "1004", "-1", "1005", "http", "timeout", "connection", "bad_body")
REDACTED = "***"


class WindowKey(NamedTuple):
    """One unit of work: a resource's call of one method over one time window for some devices."""

    resource: str
    method: str
    window_start: datetime | None
    window_end: datetime | None
    imeis: tuple[str, ...]


@dataclass
class Tally:
    """Counters of one (window, method)."""

    calls: int = 0
    errors: int = 0
    retries: Counter = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    call_seconds: Counter = field(default_factory=Counter)  # calls per wall-clock second (epoch second)
    rows_returned: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    status: str = "ok"
    error: str | None = None

    def span(self, started: datetime, finished: datetime) -> None:
        self.started_at = min(self.started_at or started, started)
        self.finished_at = max(self.finished_at or finished, finished)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every (non-trivial) secret replaced; longest first so a secret inside another goes too."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (no interpolation: the value of a real call)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class CallStats:
    """Counters a run reports; shared by the client's threads. `calls`/`retries` are the run's totals."""

    def __init__(self, resource: str = "") -> None:
        self.resource = resource
        self.calls = 0
        self.retries: dict[str, int] = {}
        self.tallies: dict[WindowKey, Tally] = {}
        # The keys of each window whatever the method, so a window's end reaches them without a scan.
        self._by_window: dict[WindowKey, list[WindowKey]] = {}
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self._local = threading.local()

    # -- what the source says ------------------------------------------------------------------

    @contextmanager
    def window(
        self,
        resource: str | None,
        method: str,
        start: datetime | None = None,
        end: datetime | None = None,
        imeis: Iterable[str] = (),
    ) -> Iterator[WindowHandle]:
        """Tally the calls made on this thread inside the block under this window; a raised error marks
        the window failed (with its redacted message) and propagates."""
        key = WindowKey(resource or self.resource, method, start, end, tuple(imeis))
        stack = self._stack()
        stack.append(key)
        started = datetime.now(UTC)
        handle = WindowHandle(self, key)
        try:
            yield handle
        except BaseException as exc:
            self._finish(key, started, f"{type(exc).__name__}: {exc}")
            raise
        else:
            self._finish(key, started, None)
        finally:
            stack.pop()

    def add_rows(self, key: WindowKey, rows: int) -> None:
        with self._lock:
            self._tally(key).rows_returned += rows

    # -- what the client says ------------------------------------------------------------------

    def add_secret(self, value: str | None) -> None:
        if value:
            with self._lock:
                self._secrets.add(str(value))

    def attempt(self, method: str, started: datetime, latency_s: float, failed: bool) -> None:
        """One HTTP attempt of `method` that took `latency_s`; `failed` when it did not return a usable answer."""
        with self._lock:
            self.calls += 1
            tally = self._tally(self._current(method))
            tally.calls += 1
            tally.errors += int(failed)
            tally.latencies_s.append(latency_s)
            tally.call_seconds[int(started.timestamp())] += 1
            if not self._stack():  # no window to take the span from: the attempt's own
                tally.span(started, datetime.now(UTC))

    def count_call(self) -> None:
        """Kept for callers that only count (no method, no latency)."""
        with self._lock:
            self.calls += 1

    def count_retry(self, cause: str, method: str | None = None) -> None:
        with self._lock:
            self.retries[cause] = self.retries.get(cause, 0) + 1
            if method is not None:
                self._tally(self._current(method)).retries[cause] += 1

    # -- reading -------------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = set(self._secrets)
        return redact(text, secrets)

    def window_rows(self) -> list[dict]:
        """One plain dict per (window, method): what `orchestration.ingest_log` records."""
        with self._lock:
            items = [(key, tally) for key, tally in self.tallies.items()]
            out = []
            for key, tally in items:
                per_minute: Counter = Counter()
                for second, count in tally.call_seconds.items():
                    per_minute[second // 60] += count
                out.append(
                    {
                        "resource": key.resource,
                        "method": key.method,
                        "window_start": key.window_start,
                        "window_end": key.window_end,
                        "imei": key.imeis[0] if len(key.imeis) == 1 else None,
                        "imeis": ",".join(key.imeis) or None,
                        "device_count": len(key.imeis),
                        "calls": tally.calls,
                        "errors": tally.errors,
                        **{
                            f"retries_{retry_column(cause)}": tally.retries.get(cause, 0)
                            for cause in RETRY_CAUSES
                        },
                        "rows_returned": tally.rows_returned,
                        "latency_p50_ms": _ms(percentile(tally.latencies_s, 0.50)),
                        "latency_p95_ms": _ms(percentile(tally.latencies_s, 0.95)),
                        "latency_max_ms": _ms(max(tally.latencies_s, default=None)),
                        "peak_calls_per_s": max(tally.call_seconds.values(), default=0),
                        "peak_calls_per_min": max(per_minute.values(), default=0),
                        "started_at": tally.started_at,
                        "finished_at": tally.finished_at,
                        "status": tally.status,
                        "error": redact(tally.error, self._secrets) if tally.error else None,
                    }
                )
        return out

    # -- internals -----------------------------------------------------------------------------

    def _stack(self) -> list[WindowKey]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _current(self, method: str) -> WindowKey:
        """The key a call of `method` on this thread counts under: its window, or the default resource."""
        stack = self._stack()
        if stack:
            window = stack[-1]
            return window if window.method == method else window._replace(method=method)
        return WindowKey(self.resource, method, None, None, ())

    def _tally(self, key: WindowKey) -> Tally:
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
            self._by_window.setdefault(key._replace(method=""), []).append(key)
        return tally

    def _finish(self, key: WindowKey, started: datetime, error: str | None) -> None:
        finished = datetime.now(UTC)
        with self._lock:
            tally = self._tally(key)
            # The window's own method, and any other method it called (a token mid-window), share its span.
            for other in self._by_window[key._replace(method="")]:
                self.tallies[other].span(started, finished)
            if error is not None:
                tally.status, tally.error = "failed", redact(error, self._secrets)


class WindowHandle:
    """What the source holds inside a window: where to add the rows the window returned."""

    def __init__(self, stats: CallStats, key: WindowKey) -> None:
        self._stats, self.key = stats, key

    def add_rows(self, rows: int) -> None:
        self._stats.add_rows(self.key, rows)


def retry_column(cause: str) -> str:
    return {"-1": "minus1"}.get(cause, cause)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)
