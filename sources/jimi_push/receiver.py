"""The push receiver: an ASGI app that acknowledges a Jimi push only once it is durable on disk.

One POST route per push path (`settings.PUSH_PATHS`) and `GET /health`. A push is a form (urlencoded, or
multipart without files) with `token` and `data_list`. The reply `{"code":0,"msg":"success"}` is sent after
the landing `Committer` has flushed the payload to disk; that happens on its own thread, so a slow disk never
stalls the event loop. Everything refused gets a 4xx with `{"code": <status>, "msg": "<what is wrong>"}`
and lands nothing. Messages and logs name the problem, never a submitted value (the token least of all).

A plain ASGI callable rather than a framework app: a 50-item push is ~20 KB of percent-encoded JSON, and
per-request overhead is what decides whether durability costs throughput (bench/push_receiver.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from pathlib import Path

import orjson
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser

from . import settings
from .forms import parse_urlencoded
from .landing import SYNCFS_AVAILABLE, Committer, Payload

log = logging.getLogger("jimi_push.receiver")

PUSH_PATHS = frozenset(settings.PUSH_PATHS)
HEALTHY = b'{"code":0,"msg":"ok"}'


class Refused(Exception):
    """Input the receiver will not store; `status` doubles as the body's non-zero code."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.msg = status, msg


class ClientGone(Exception):
    """The client disconnected before its body arrived: there is no one to answer."""


async def read_body(receive, declared: bytes | None, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is larger than {limit} bytes")
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _once(body: bytes):
    yield body


async def parse_form(headers: Headers, body: bytes) -> list[tuple[str, str]]:
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        try:
            return parse_urlencoded(body, settings.MAX_FORM_FIELDS)
        except ValueError:  # UnicodeDecodeError included
            raise Refused(400, "the form is not valid UTF-8 urlencoded data") from None
    if media_type == "multipart/form-data":
        parser = MultiPartParser(
            headers,
            _once(body),
            max_files=0,
            max_fields=settings.MAX_FORM_FIELDS,
            max_part_size=len(body) + 1,
        )
        try:
            form = await parser.parse()
        except (MultiPartException, ValueError, KeyError):
            raise Refused(400, "the body is not valid multipart form data without files") from None
        return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    raise Refused(415, "the body must be a form (application/x-www-form-urlencoded or multipart/form-data)")


def single(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in pairs if key == name]
    if len(values) > 1:
        raise Refused(400, f"{name} is given more than once")
    return values[0] if values else None


def check_token(given: str | None, expected: bytes) -> None:
    if not given:
        raise Refused(401, "token is missing")
    # Constant time, and on bytes: compare_digest refuses non-ASCII str.
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected):
        raise Refused(403, "token is wrong")


def check_items(path: str, data_list: str | None) -> tuple[bytes, int]:
    """The `data_list` bytes to land (always a JSON array) and its item count."""
    if data_list is None:
        raise Refused(400, "data_list is missing")
    raw = data_list.encode("utf-8", "surrogatepass")
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Refused(400, "data_list is not valid JSON") from None
    if isinstance(items, dict) and path in settings.SINGLE_OBJECT_PATHS:
        return b"[" + raw + b"]", 1
    if not isinstance(items, list):
        raise Refused(400, "data_list must be a JSON array of objects")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Refused(400, f"data_list item {index} is not an object")
    return raw, len(items)


def _reply_body(status: int, msg: str) -> bytes:
    return orjson.dumps({"code": status, "msg": msg})


async def respond(send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class PushReceiver:
    """The ASGI app for one landing folder and one push token."""

    def __init__(
        self,
        landing: Path,
        token: str,
        max_body_bytes: int = settings.MAX_BODY_BYTES,
        use_syncfs: bool = SYNCFS_AVAILABLE,
    ) -> None:
        if not token:
            raise ValueError(f"no push token configured (set {settings.TOKEN_ENV})")
        self.landing = Path(landing)
        self._token = token.encode("utf-8")
        self.max_body_bytes = max_body_bytes
        self.committer = Committer(self.landing, use_syncfs)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/health":
            if method in ("GET", "HEAD"):
                await respond(send, 200, HEALTHY)
            else:
                await respond(send, 405, _reply_body(405, "method not allowed: use GET"))
            return
        name = path[1:]
        if name not in PUSH_PATHS:
            await respond(send, 404, _reply_body(404, "unknown path"))
            return
        if method != "POST":
            await respond(send, 405, _reply_body(405, "method not allowed: pushes are POSTs"))
            return
        try:
            status, msg = await self.push(name, scope, receive)
        except ClientGone:
            return
        await respond(send, status, settings.REPLY_OK if status == 200 else _reply_body(status, msg))

    async def push(self, path: str, scope, receive) -> tuple[int, str]:
        headers = Headers(raw=scope["headers"])
        try:
            body = await read_body(
                receive, headers.get("content-length", "").encode() or None, self.max_body_bytes
            )
            pairs = await parse_form(headers, body)
            check_token(single(pairs, "token"), self._token)
            items, count = check_items(path, single(pairs, "data_list"))
        except Refused as refused:
            client = scope.get("client") or ("?",)
            log.warning("refused /%s from %s: %s", path, client[0], refused.msg)
            return refused.status, refused.msg
        if not count:
            return 200, "success"
        fields = {key: value for key, value in pairs if key not in ("token", "data_list")}
        try:
            await asyncio.wrap_future(self.committer.submit(Payload(path, items, count, fields)))
        except OSError as exc:
            # Not the sender's fault: a 5xx makes it retry (3 times, 2 minutes apart).
            log.error("could not land /%s payload: %s", path, exc.strerror or type(exc).__name__)
            return 503, "the payload could not be stored; retry later"
        return 200, "success"

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Payloads already accepted are committed before the process exits.
                await asyncio.to_thread(self.committer.close)
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(
    landing: Path,
    token: str,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
    use_syncfs: bool = SYNCFS_AVAILABLE,
) -> PushReceiver:
    """The receiver for one landing folder and one push token."""
    return PushReceiver(landing, token, max_body_bytes, use_syncfs)
