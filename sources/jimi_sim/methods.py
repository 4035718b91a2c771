"""The API methods the simulator serves, registered by name with their private parameters.

Adding a method (location.list, mileage, parking, alarms, OBD, ...) is one decorated function here (or in a
sibling module that imports `method`): the HTTP layer does the common checks (signature, timestamp,
token, required parameters) from the registration and calls the handler with the validated parameters.
A handler returns the success payload (`result`, and `data` where the method has one) or raises ApiError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sources.jimi.signing import format_time, parse_time, password_md5
from sources.jimi_sim.errors import ILLEGAL_DEVICE, PARAMETER_ERROR, ApiError, invalid
from sources.jimi_sim.state import Simulator
from sources.jimi_sim.wire import device_item, track_point

Payload = dict[str, object]
Handler = Callable[[Simulator, Mapping[str, str]], Payload]

TRACK_MAX_SPAN = timedelta(days=7)
TRACK_RETENTION = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    required: tuple[str, ...]
    needs_token: bool = True
    # Heavy handlers run in a worker thread so a long track query never stalls other requests.
    blocking: bool = False


METHODS: dict[str, Method] = {}


def method(
    name: str, *required: str, needs_token: bool = True, blocking: bool = False
) -> Callable[[Handler], Handler]:
    """Register a handler for an API method name with its required private parameters."""

    def register(handler: Handler) -> Handler:
        METHODS[name] = Method(name, handler, required, needs_token, blocking)
        return handler

    return register


@method("jimi.oauth.token.get", "user_id", "user_pwd_md5", "expires_in", needs_token=False)
def token_get(sim: Simulator, params: Mapping[str, str]) -> Payload:
    expires_in = _int_param(params, "expires_in", 60, 7200)
    settings = sim.settings
    # The hash is compared as sent: the spec demands lower-case hex, and a client sending upper case
    # should learn that here rather than from the real cloud.
    if params["user_id"] != settings.user_id or params["user_pwd_md5"] != password_md5(settings.password):
        raise ApiError(PARAMETER_ERROR, "Incorrect user name or password")
    grant = sim.tokens.issue(settings.app_key, settings.user_id, expires_in)
    return {
        "result": {
            "appKey": grant.app_key,
            "account": grant.account,
            "accessToken": grant.token,
            "expiresIn": grant.expires_in,
            "refreshToken": grant.token,
            "time": format_time(grant.issued_at),
        }
    }


@method("jimi.user.device.list", "target")
def device_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    if params["target"] != sim.settings.user_id:
        raise ApiError(PARAMETER_ERROR, "Account queried doesn\u2019t exist")
    return {"result": [device_item(device) for device in sim.fleet.devices]}


@method("jimi.device.track.list", "imei", "begin_time", "end_time", blocking=True)
def track_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    imei = params["imei"].strip()
    if "," in imei:
        raise invalid("imei", "must be exactly one IMEI; this method does not take a list")
    begin, end = _time_param(params, "begin_time"), _time_param(params, "end_time")
    _check_track_window(sim.clock.now(), begin, end)
    device = sim.fleet.device(imei)
    if device is None:
        raise ApiError(ILLEGAL_DEVICE, f"IMEI does not exist{{{imei}}}")
    if device.expiration <= sim.clock.now():
        raise ApiError(ILLEGAL_DEVICE, f"The device has expired{{{imei}}}")
    # Both ends are inclusive on the wire; fixes are whole seconds, so one more second covers `end`.
    points = sim.fleet.points(imei, begin, end + timedelta(seconds=1))
    metres = sum(point.dist_m for point in points[1:])  # the first fix's step lies before the window
    return {"result": [track_point(point) for point in points], "data": {"mileage": round(metres / 1000, 3)}}


def _check_track_window(now: datetime, begin: datetime, end: datetime) -> None:
    if begin >= end:
        raise invalid("begin_time", "must be earlier than end_time")
    if end > now + CLOCK_SKEW:
        raise invalid("end_time", f"must not be later than the current time ({format_time(now)} UTC)")
    if end - begin > TRACK_MAX_SPAN:
        raise invalid("end_time", "is too far from begin_time: the time span exceeds 7 days")
    if begin < now - TRACK_RETENTION:
        raise invalid("begin_time", "is too old: track data is kept for 3 months only")


def _int_param(params: Mapping[str, str], name: str, low: int, high: int) -> int:
    try:
        value = int(params[name])
    except ValueError:
        raise invalid(name, f"must be an integer between {low} and {high}") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return value


def _time_param(params: Mapping[str, str], name: str) -> datetime:
    try:
        return parse_time(params[name])
    except ValueError:
        raise invalid(name, "must be a UTC time formatted yyyy-MM-dd HH:mm:ss") from None
