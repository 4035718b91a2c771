"""Faults on demand: seeded, per-method rates of the ways the real cloud and its network misbehave.

API kinds, in the order they are tried for a call: `hang` (hold the request `hang_s` seconds, longer than
any client timeout, then answer), `reset` (abort the TCP connection with an RST, no answer), `http_5xx`
(a proxy's 502/503/504 HTML page), `busy` (code -1), `rate_limit` (a burst of 1006 over the next calls of
that method), `token_revoked` (every token revoked, 1004), `truncated` (a valid answer cut short: real
truncated bytes with a matching Content-Length). Push kinds: `push_duplicate` (a batch delivered twice),
`push_malformed` (one item of a batch broken).

Decisions depend only on (seed, method, how many calls of that method came before, kind), so the same
seed and the same sequence of requests give the same faults. Rules read `kind=rate` or
`kind=rate@method`, comma-separated (`JIMI_SIM_FAULTS`, `--fault`).
"""

from __future__ import annotations

import threading
import zlib
from collections import Counter, defaultdict
from typing import NamedTuple

from sources.jimi_sim.world.rand import noise

API_KINDS = ("hang", "reset", "http_5xx", "busy", "rate_limit", "token_revoked", "truncated")
PUSH_KINDS = ("push_duplicate", "push_malformed")
KINDS = API_KINDS + PUSH_KINDS
ANY_METHOD = "*"
BURST_CALLS = (2, 8)  # a 1006 burst refuses this many further calls of the method (inclusive range)
_HTTP_5XX = (502, 503, 504)


class FaultRule(NamedTuple):
    kind: str
    rate: float
    method: str = ANY_METHOD


def parse_faults(text: str) -> tuple[FaultRule, ...]:
    """`kind=rate[@method]` items separated by commas (a method name never contains a comma)."""
    rules = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, rest = item.partition("=")
        rate_text, _, method = rest.partition("@")
        kind = kind.strip()
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
        rate = float(rate_text)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate for {kind} must be between 0 and 1")
        rules.append(FaultRule(kind, rate, method.strip() or ANY_METHOD))
    return tuple(rules)


def _key(name: str) -> int:
    return zlib.crc32(name.encode())  # stable across processes, unlike hash()


class FaultInjector:
    """Decides, call by call, whether (and how) a method misbehaves. Thread-safe."""

    def __init__(self, seed: int, rules: tuple[FaultRule, ...]) -> None:
        self.seed = seed
        self.rules = rules
        self._calls: dict[str, int] = defaultdict(int)
        self._burst: dict[str, int] = defaultdict(int)
        # How many faults of each kind were injected per method: what tests compare a client's counts with.
        self.injected: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return any(rule.rate > 0 for rule in self.rules)

    def rate(self, kind: str, method: str) -> float:
        """The most specific rule wins: one naming the method, else one for every method."""
        specific = [r.rate for r in self.rules if r.kind == kind and r.method == method]
        general = [r.rate for r in self.rules if r.kind == kind and r.method == ANY_METHOD]
        return (specific or general or [0.0])[-1]

    def decide(self, method: str, kinds: tuple[str, ...] = API_KINDS) -> tuple[str | None, int]:
        """(the fault for this call or None, the call's index for this method)."""
        with self._lock:
            index = self._calls[method]
            self._calls[method] = index + 1
            if self._burst[method] > 0:
                self._burst[method] -= 1
                self.injected[method, "rate_limit"] += 1
                return "rate_limit", index
            for position, kind in enumerate(kinds):
                rate = self.rate(kind, method)
                if rate > 0 and noise(self.seed, _key(method), index, position) < rate:
                    if kind == "rate_limit":
                        low, high = BURST_CALLS
                        self._burst[method] = low + int(
                            noise(self.seed, _key(method), index, 99) * (high - low + 1)
                        )
                    self.injected[method, kind] += 1
                    return kind, index
            return None, index

    def status_5xx(self, method: str, index: int) -> int:
        return _HTTP_5XX[int(noise(self.seed, _key(method), index, 501) * len(_HTTP_5XX))]

    def truncate(self, body: bytes, method: str, index: int) -> bytes:
        """The body cut somewhere between 10 % and 90 % of its length (at least one byte short)."""
        if len(body) < 2:
            return b""
        cut = int(len(body) * (0.1 + 0.8 * noise(self.seed, _key(method), index, 502)))
        return body[: max(1, min(cut, len(body) - 1))]


def html_5xx(status: int) -> bytes:
    """What an overloaded reverse proxy in front of the API answers."""
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}[status]
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def abort_connection(receive: object) -> bool:
    """Reset the client's TCP connection (RST, no answer). False when no transport is reachable.

    uvicorn's `receive` is a bound method of its request cycle, which holds the asyncio transport; a zero
    linger makes close() send an RST, which is what a crashed balancer or NAT timeout looks like.
    """
    import socket
    import struct

    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()
    cycle.disconnected = True  # so uvicorn neither answers 500 nor logs a missing response
    return True
