"""Access tokens of the simulated account: issue, check, expire, and the token.get frequency limit.

Tokens are random (they are credentials, not fleet data, so they need not be reproducible) and live in
memory only. Expiry and the frequency limit read the shared simulator clock, so tests move time instead
of sleeping.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sources.jimi_sim.api.errors import TOKEN_INVALID, TOKEN_INVALID_MESSAGE, TOO_FREQUENT, ApiError
from sources.jimi_sim.world.clock import SimClock


@dataclass(frozen=True)
class Grant:
    token: str
    app_key: str
    account: str
    issued_at: datetime
    expires_in: int

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)


class TokenStore:
    """In-memory grants keyed by token; thread-safe, since blocking handlers run in a thread pool."""

    def __init__(self, clock: SimClock, min_interval_s: float) -> None:
        self._clock = clock
        self._min_interval = timedelta(seconds=min_interval_s)
        self._grants: dict[str, Grant] = {}
        self._last_issue: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def issue(self, app_key: str, account: str, expires_in: int) -> Grant:
        """A new token, unless this app key got one less than the minimum interval ago (code 1006)."""
        now = self._clock.now()
        with self._lock:
            last = self._last_issue.get(app_key)
            if last is not None and now - last < self._min_interval:
                raise ApiError(TOO_FREQUENT, "Illegal access, requests too frequent")
            self._purge(now)
            grant = Grant(secrets.token_hex(16), app_key, account, now, expires_in)
            self._grants[grant.token] = grant
            self._last_issue[app_key] = now
            return grant

    def check(self, token: str | None, app_key: str) -> Grant:
        """The grant behind a token presented with this app key; 1004 if missing, unknown or expired."""
        grant = self._grants.get(token or "")
        if grant is None or grant.app_key != app_key or self._clock.now() >= grant.expires_at:
            raise ApiError(TOKEN_INVALID, TOKEN_INVALID_MESSAGE)
        return grant

    def refresh(self, token: str | None, refresh_token: str | None, app_key: str, expires_in: int) -> Grant:
        """A new token for a live one (the old one stops working); 1004 if it is unknown or expired."""
        with self._lock:
            grant = self._grants.get(token or "")
            if (
                grant is None
                or grant.app_key != app_key
                or refresh_token != grant.token
                or self._clock.now() >= grant.expires_at
            ):
                raise ApiError(TOKEN_INVALID, "Illegal request\uff0ctoken is invalid")
            del self._grants[grant.token]
            fresh = Grant(secrets.token_hex(16), app_key, grant.account, self._clock.now(), expires_in)
            self._grants[fresh.token] = fresh
            return fresh

    def revoke_all(self) -> None:
        """Forget every token (a fault: the platform revoked them mid-run)."""
        with self._lock:
            self._grants.clear()

    def _purge(self, now: datetime) -> None:
        expired = [token for token, grant in self._grants.items() if now >= grant.expires_at]
        for token in expired:
            del self._grants[token]


class CallLimiter:
    """Calls per second per app key over a sliding one-second window (wall time: a frozen test clock
    would otherwise pile every call into one second); beyond the limit the API answers 1006."""

    def __init__(self, max_per_s: float) -> None:
        self._max = max_per_s
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, app_key: str) -> None:
        if self._max <= 0:
            return
        now = time.monotonic()
        with self._lock:
            window = self._calls.setdefault(app_key, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self._max:
                raise ApiError(TOO_FREQUENT, "Illegal access, requests too frequent")
            window.append(now)
