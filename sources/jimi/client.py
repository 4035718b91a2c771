"""HTTP client for the Jimi open API: signed form POSTs, tokens shared on disk, typed errors, retries.

Every call is a form POST of the common parameters plus the method's own, signed with MD5
(`signing.py`). Errors arrive as HTTP 200 with a non-zero `code` in the body; they are raised as
`JimiApiError` subclasses whose messages name the method and the call's context but never a secret.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self, TypeVar, overload

import httpx
import orjson

from . import settings
from .callstats import CallStats
from .credentials import JimiCredentials
from .decode import MalformedBody
from .errors import (
    JimiApiError,
    JimiAuthError,
    JimiResponseError,
    JimiTransientError,
    error_for_code,
)
from .signing import format_time, sign, wire_params
from .tokens import Token, TokenCache

log = logging.getLogger(__name__)
T = TypeVar("T")
_CODE_AT_HEAD = re.compile(rb'^\s*\{\s*"code"\s*:\s*"?(-?\d+)"?\s*[,}]')


def _leading_code(content: bytes) -> int | None:
    """The `code` when it is the body's first key (as the API sends it), without parsing the rest."""
    match = _CODE_AT_HEAD.match(content[:64])
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class ClientTuning:
    """How hard the client works the API: retries, pacing, timeouts (`[sources.jimi]` settings)."""

    max_attempts: int = 6
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    # Client-side rate limit across the client's threads; 0 turns it off.
    calls_per_second: float = 10.0
    # Seconds per method before the HTTP read gives up (the method's own default otherwise).
    timeouts_s: Mapping[str, float] = field(default_factory=dict)


class JimiClient:
    """A thread-safe client; one per pipeline run is enough, tokens are shared between processes anyway."""

    def __init__(
        self,
        credentials: JimiCredentials,
        token_cache: TokenCache,
        tuning: ClientTuning | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.BaseTransport | None = None,
        stats: CallStats | None = None,
    ) -> None:
        tuning = tuning or ClientTuning()
        self.credentials = credentials
        self.tokens = token_cache
        self.max_attempts = tuning.max_attempts
        self.backoff_s = tuning.backoff_s
        self.max_backoff_s = tuning.max_backoff_s
        self.min_interval_s = 1.0 / tuning.calls_per_second if tuning.calls_per_second > 0 else 0.0
        self.timeouts_s = {**settings.METHOD_TIMEOUT_S, **tuning.timeouts_s}
        self.clock = clock
        self.stats = stats if stats is not None else CallStats()
        self.stats.add_secret(credentials.app_secret)
        self.stats.add_secret(credentials.password_md5)
        self._http = httpx.Client(transport=transport, timeout=settings.DEFAULT_TIMEOUT_S)
        self._pace_lock = threading.Lock()
        self._next_call_at = 0.0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public calls -------------------------------------------------------------------------

    @overload
    def call(
        self, method: str, params: Mapping[str, object], context: str = "", decode: None = None
    ) -> dict: ...

    @overload
    def call(
        self, method: str, params: Mapping[str, object], context: str = "", *, decode: Callable[[bytes], T]
    ) -> T: ...

    def call(
        self,
        method: str,
        params: Mapping[str, object],
        context: str = "",
        decode: Callable[[bytes], T] | None = None,
    ) -> dict | T:
        """Call an authenticated method; return the parsed body (code 0 guaranteed), or `decode(raw body)`.

        Transient failures are retried with backoff; an invalid token is re-acquired once. `decode` runs
        inside the retry loop, so a body it finds malformed (`MalformedBody`) is fetched again, never
        loaded. `context` (window, devices) is added to error messages.
        """
        token = self._token()
        reacquired = False
        while True:
            try:
                return self._call_with_retries(
                    method, {**params, "access_token": token.access_token}, context, decode
                )
            except JimiApiError as exc:
                if exc.code != settings.CODE_TOKEN_INVALID or reacquired:
                    raise
                log.info("%s: token refused (1004), acquiring a new one", method)
                self.stats.count_retry("1004", method)
                token = self._known(self.tokens.get_or_acquire(self._acquire, invalid=token))
                reacquired = True

    # -- tokens -------------------------------------------------------------------------------

    def _token(self) -> Token:
        return self._known(self.tokens.get_or_acquire(self._acquire))

    def _known(self, token: Token) -> Token:
        """Register the token's values as secrets, so no recorded error can carry them."""
        self.stats.add_secret(token.access_token)
        self.stats.add_secret(token.refresh_token)
        return token

    def _acquire(self, previous: Token | None) -> Token:
        """Get a token from the API: refresh the previous one while it lives, else log in."""
        creds = self.credentials
        now = self.clock()
        if previous is not None and previous.expires_at > now:
            try:
                body = self._call_with_retries(
                    settings.TOKEN_REFRESH,
                    {
                        "access_token": previous.access_token,
                        "refresh_token": previous.refresh_token,
                        "expires_in": settings.TOKEN_LIFETIME_S,
                    },
                    "token refresh",
                )
                return Token.from_result(body.get("result"), now)
            except JimiApiError as exc:
                log.info("token refresh refused (code %s), logging in again", exc.code)
        params = {
            "user_id": creds.user_id,
            "user_pwd_md5": creds.password_md5,
            "expires_in": settings.TOKEN_LIFETIME_S,
        }
        try:
            body = self._call_with_retries(settings.TOKEN_GET, params, f"user {creds.user_id}")
        except JimiApiError as exc:
            if exc.code in (settings.CODE_PARAMETER, settings.CODE_ILLEGAL_DEVICE):
                raise JimiAuthError(
                    settings.TOKEN_GET,
                    exc.code,
                    f"{exc.server_message} — check the app key, app secret, user id and password "
                    f"for {creds.base_url}",
                    f"user {creds.user_id}",
                ) from None
            raise
        return Token.from_result(body.get("result"), now)

    # -- transport ----------------------------------------------------------------------------

    def _call_with_retries(
        self,
        method: str,
        params: Mapping[str, object],
        context: str,
        decode: Callable[[bytes], T] | None = None,
    ) -> dict | T:
        attempt = 1
        while True:
            try:
                return self._post(method, params, context, decode)
            except JimiTransientError as exc:
                if attempt >= self.max_attempts:
                    raise exc.exhausted(attempt) from None
                self.stats.count_retry(exc.cause, method)
                delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)
                log.warning("%s (%s): %s; retry %d in %.1fs", method, context, exc.cause, attempt, delay)
                time.sleep(delay)
                attempt += 1

    def _post(
        self, method: str, params: Mapping[str, object], context: str, decode: Callable[[bytes], T] | None
    ) -> dict | T:
        """One attempt, reported to the stats with its latency and whether it failed."""
        self._pace()
        started, clock = datetime.now(UTC), time.perf_counter()
        failed = True
        try:
            result = self._attempt(method, params, context, decode)
            failed = False
            return result
        finally:
            self.stats.attempt(method, started, time.perf_counter() - clock, failed)

    def _attempt(
        self, method: str, params: Mapping[str, object], context: str, decode: Callable[[bytes], T] | None
    ) -> dict | T:
        creds = self.credentials
        form: dict[str, object] = {
            "method": method,
            "timestamp": format_time(self.clock()),
            "app_key": creds.app_key,
            "sign_method": "md5",
            "v": "1.0",
            "format": "json",
            **params,
        }
        # Sign exactly the strings that are posted.
        wired = wire_params(form)
        wired["sign"] = sign(wired, creds.app_secret)
        timeout = self.timeouts_s.get(method, settings.DEFAULT_TIMEOUT_S)
        try:
            response = self._http.post(creds.base_url, data=wired, timeout=timeout)
        except httpx.TimeoutException:
            raise JimiTransientError(method, "timeout", f"no answer within {timeout:.0f}s", context) from None
        except httpx.TransportError as exc:
            raise JimiTransientError(method, "connection", type(exc).__name__, context) from None
        if response.status_code >= 500:
            raise JimiTransientError(method, "http", f"HTTP {response.status_code}", context)
        if response.status_code != 200:
            raise JimiResponseError(method, None, f"unexpected HTTP {response.status_code}", context)
        content = response.content
        if decode is not None and _leading_code(content) == settings.CODE_OK:
            # The common case of a big answer: skip the Python parse, the decoder reads the JSON itself.
            try:
                return decode(content)
            except MalformedBody as exc:
                raise JimiTransientError(method, "bad_body", str(exc), context) from None
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            # A truncated or non-JSON body is never loaded; it is usually a proxy hiccup, so retry.
            raise JimiTransientError(
                method, "bad_body", f"body is not JSON ({len(response.content)} bytes)", context
            ) from None
        if not isinstance(body, dict) or "code" not in body:
            raise JimiTransientError(method, "bad_body", "body has no 'code' field", context)
        try:
            code = int(body["code"])
        except (TypeError, ValueError):
            raise JimiResponseError(method, None, f"non-numeric code {body['code']!r}", context) from None
        if code != settings.CODE_OK:
            raise error_for_code(method, code, str(body.get("message") or ""), context)
        if decode is not None:
            try:
                return decode(content)
            except MalformedBody as exc:
                raise JimiTransientError(method, "bad_body", str(exc), context) from None
        return body

    def _pace(self) -> None:
        """Client-side rate limit: space calls at least `min_interval_s` apart across threads."""
        if not self.min_interval_s:
            return
        with self._pace_lock:
            now = time.monotonic()
            wait = self._next_call_at - now
            self._next_call_at = max(now, self._next_call_at) + self.min_interval_s
        if wait > 0:
            time.sleep(wait)
