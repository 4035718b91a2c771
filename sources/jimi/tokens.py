"""Access tokens shared by every process on the machine through an on-disk cache under a file lock.

The API answers `jimi.oauth.token.get` at most once a minute (1006 otherwise), and Dagster starts each run
in its own process, so an in-memory token would make concurrent runs fight. The cache file holds the
token (a secret: it is written with mode 0600 and never logged) and the time of the last login.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from filelock import FileLock

from . import settings
from .errors import JimiResponseError


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    acquired_at: datetime

    @classmethod
    def from_result(cls, result: object, now: datetime) -> Token:
        """Build from a token.get / token.refresh `result` (`expiresIn` may be a number or a string)."""
        if not isinstance(result, dict) or not result.get("accessToken"):
            raise JimiResponseError(settings.TOKEN_GET, None, "token answer has no accessToken")
        try:
            lifetime = int(float(result.get("expiresIn") or settings.TOKEN_LIFETIME_S))
        except (TypeError, ValueError):
            raise JimiResponseError(
                settings.TOKEN_GET, None, "token answer has a non-numeric expiresIn"
            ) from None
        access = str(result["accessToken"])
        return cls(access, str(result.get("refreshToken") or access), now + timedelta(seconds=lifetime), now)

    def usable(self, now: datetime, margin_s: float) -> bool:
        return self.expires_at - timedelta(seconds=margin_s) > now


class TokenCache:
    """A token per (URL, app key, user), kept in `folder`, shared across threads and processes."""

    def __init__(
        self,
        folder: Path,
        key: str,
        *,
        renew_margin_s: float = settings.TOKEN_RENEW_MARGIN_S,
        min_login_interval_s: float = settings.TOKEN_GET_MIN_INTERVAL_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        name = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.path = folder / f"token-{name}.json"
        self._lock = FileLock(str(self.path) + ".lock")
        self.renew_margin_s = renew_margin_s
        self.min_login_interval_s = min_login_interval_s
        self.clock = clock

    def get_or_acquire(self, acquire: Callable[[Token | None], Token], invalid: Token | None = None) -> Token:
        """The cached token if it is still good (and not the one the API just refused), else a new one.

        Acquisition happens under the lock, so two processes never log in at once, and never twice within
        `min_login_interval_s`: a caller that would must wait for the gap instead (1006 otherwise).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            cached, last_login = self._read()
            now = self.clock()
            if (
                cached is not None
                and cached.usable(now, self.renew_margin_s)
                and (invalid is None or cached.access_token != invalid.access_token)
            ):
                return cached
            if last_login is not None:
                wait = self.min_login_interval_s - (now - last_login).total_seconds()
                if wait > 0:
                    time.sleep(wait)
            token = acquire(cached if invalid is None else None)
            self._write(token)
            return token

    def _read(self) -> tuple[Token | None, datetime | None]:
        try:
            raw = json.loads(self.path.read_text())
            last_login = datetime.fromisoformat(raw["acquired_at"])
            token = Token(
                raw["access_token"],
                raw["refresh_token"],
                datetime.fromisoformat(raw["expires_at"]),
                last_login,
            )
            return token, last_login
        except (OSError, ValueError, KeyError, TypeError):
            # A missing or corrupt cache only costs a login.
            return None, None

    def _write(self, token: Token) -> None:
        payload = json.dumps(
            {
                "access_token": token.access_token,
                "refresh_token": token.refresh_token,
                "expires_at": token.expires_at.isoformat(),
                "acquired_at": token.acquired_at.isoformat(),
            }
        )
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(payload)
        os.replace(tmp, self.path)
