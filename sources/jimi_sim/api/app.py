"""The simulated Jimi open API over HTTP: POST /route/rest (form or JSON body) and GET /health.

This layer owns everything common to all methods (docs/jimi-api.md#calling-the-api): reading the parameters,
app key, calls per second, timestamp skew, MD5 signature, method lookup, access token, required private
parameters, the configured latency and the injected faults (faults.py). Refusals are HTTP 200 with
`{"code", "message", "result": null, "data": null}`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sources.jimi.signing import format_time, parse_time, sign, stringify
from sources.jimi_sim.api.errors import (
    PARAMETER_ERROR,
    SUCCESS,
    SYSTEM_BUSY,
    TOKEN_INVALID,
    TOKEN_INVALID_MESSAGE,
    TOO_FREQUENT,
    WRONG_HTTP_METHOD,
    ApiError,
    invalid,
    missing,
)
from sources.jimi_sim.api.methods import METHODS
from sources.jimi_sim.api.params import CLOCK_SKEW
from sources.jimi_sim.api.registry import Method
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.faults import abort_connection, html_5xx
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.fleet import Fleet

log = logging.getLogger(__name__)

_JSON = "application/json;charset=UTF-8"
_COMMON_REQUIRED = ("method", "timestamp", "app_key")


def create_app(settings: SimSettings, fleet: Fleet | None = None) -> Starlette:
    """The simulator as an ASGI app; `app.state.sim` exposes its fleet, clock and tokens to tests."""
    sim = Simulator.build(settings, fleet)

    async def route_rest(request: Request) -> Response:
        if request.method != "POST":
            return _refusal(ApiError(WRONG_HTTP_METHOD, "Illegal access, request method must be POST"))
        try:
            params = await _read_params(request)
        except ApiError as refusal:
            return _refusal(refusal)
        name = params.get("method", "")
        fault, index = sim.faults.decide(name) if sim.faults.active else (None, 0)
        if fault == "hang":  # a real hang: the client's timeout fires long before the answer comes
            await asyncio.sleep(sim.settings.hang_s)
        elif fault == "reset":
            if abort_connection(request.receive):
                return Response(b"")  # never sent: the connection is gone
            raise ConnectionResetError("simulated connection reset")  # in-process clients (TestClient)
        elif fault == "http_5xx":
            status = sim.faults.status_5xx(name, index)
            return Response(html_5xx(status), status_code=status, media_type="text/html")
        try:
            spec = _authorise(sim, params)
            _api_fault(sim, fault)
            # The configured latency is the time to the answer, as measured against the real API: the answer
            # is built while it runs, not after it. Built after it, a 7-day track answer (~0.13 s of CPU,
            # queued behind the others on a busy machine) added 0.2-0.5 s to a 2 s latency, and backfill
            # benchmarks measured the simulator instead of the client.
            answer_at = time.monotonic() + sim.settings.latency_for(spec.name)
            if spec.blocking:
                response = await run_in_threadpool(_answer, sim, spec, params)
            else:
                response = _answer(sim, spec, params)
            if (remaining := answer_at - time.monotonic()) > 0:
                await asyncio.sleep(remaining)
        except ApiError as refusal:
            response = _refusal(refusal)
        if fault == "truncated":
            response = Response(sim.faults.truncate(bytes(response.body), name, index), media_type=_JSON)
        return response

    async def health(_: Request) -> Response:
        return Response(orjson.dumps({"status": "ok"}), media_type=_JSON)

    app = Starlette(
        routes=[
            Route("/route/rest", route_rest, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
    app.state.sim = sim
    return app


def _api_fault(sim: Simulator, fault: str | None) -> None:
    """Faults that answer with a code in the body, after the call has passed the common checks."""
    if fault == "busy":
        raise ApiError(SYSTEM_BUSY, "System busy")
    if fault == "rate_limit":
        raise ApiError(TOO_FREQUENT, "Illegal access, requests too frequent")
    if fault == "token_revoked":
        sim.tokens.revoke_all()
        raise ApiError(TOKEN_INVALID, TOKEN_INVALID_MESSAGE)


def _answer(sim: Simulator, spec: Method, params: Mapping[str, str]) -> Response:
    try:
        payload = spec.handler(sim, params)
    except ApiError as refusal:
        return _refusal(refusal)
    except Exception:  # the real cloud answers -1 "system busy" rather than an HTTP error
        log.exception("simulator failure in %s", spec.name)
        return _refusal(ApiError(SYSTEM_BUSY, "System busy"))
    if isinstance(payload, bytes):
        return Response(payload, media_type=_JSON)
    return Response(orjson.dumps({"code": SUCCESS, "message": "success", **payload}), media_type=_JSON)


def _refusal(error: ApiError) -> Response:
    body = {"code": error.code, "message": error.message, "result": None, "data": None}
    return Response(orjson.dumps(body), media_type=_JSON)


async def _read_params(request: Request) -> dict[str, str]:
    """Query string plus body (body wins), stringified as signed; empty values dropped as the Java ref does."""
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "").lower()
    if "multipart/form-data" in content_type:
        form = await request.form()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
    else:
        raw = await request.body()
        if "json" in content_type or raw.lstrip().startswith(b"{"):
            params.update(_json_params(raw))
        elif raw:
            try:
                params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise ApiError(PARAMETER_ERROR, "Illegal parameter: the request body is not UTF-8") from None
    return {key: value for key, value in params.items() if key and value != ""}


def _json_params(raw: bytes) -> dict[str, str]:
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise ApiError(PARAMETER_ERROR, "Illegal parameter: the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(PARAMETER_ERROR, "Illegal parameter: the JSON body must be an object")
    params: dict[str, str] = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, dict | list):
            raise invalid(key, "must be a string or a number")
        params[key] = stringify(value)
    return params


def _authorise(sim: Simulator, params: Mapping[str, str]) -> Method:
    """Run the common checks in the order a caller can act on them; returns the method to call."""
    settings = sim.settings
    for name in _COMMON_REQUIRED:
        if name not in params:
            raise missing(name)
    version = params.get("v", "1.0")
    if version not in ("1.0", "0.9"):
        raise invalid("v", "must be 1.0 (or 0.9 to skip the signature check)")
    if params.get("sign_method", "md5").lower() != "md5":
        raise invalid("sign_method", "must be md5")
    if params.get("format", "json").lower() != "json":
        raise invalid("format", "must be json")
    if params["app_key"] != settings.app_key:
        raise invalid("app_key", "is invalid: no application is registered with this app_key")
    sim.limiter.check(params["app_key"])
    _check_timestamp(sim, params["timestamp"])
    if version == "1.0":
        _check_signature(params, settings.app_secret)
    spec = METHODS.get(params["method"])
    if spec is None:
        raise invalid("method", f"{params['method']} not found")
    if spec.needs_token:
        sim.tokens.check(params.get("access_token"), settings.app_key)
    for name in spec.required:
        if name not in params:
            raise missing(name)
    return spec


def _check_timestamp(sim: Simulator, text: str) -> None:
    try:
        stamp = parse_time(text)
    except ValueError:
        raise invalid("timestamp", "must be a UTC time formatted yyyy-MM-dd HH:mm:ss") from None
    now = sim.clock.now()
    if abs(stamp - now) > CLOCK_SKEW:
        minutes = CLOCK_SKEW // timedelta(minutes=1)
        raise invalid(
            "timestamp",
            f"is out of range: it must be within {minutes} minutes of the server time ({format_time(now)} UTC)",
        )


def _check_signature(params: Mapping[str, str], app_secret: str) -> None:
    received = params.get("sign")
    if received is None:
        raise missing("sign")
    if received.upper() != sign(params, app_secret):
        raise ApiError(PARAMETER_ERROR, "Illegal signature: sign does not match the parameters")
