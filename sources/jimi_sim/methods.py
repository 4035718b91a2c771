"""The API methods the simulator serves, registered by name with their private parameters.

A method is one decorated function, here (tokens, account and devices) or in a sibling module that
imports `method` (methods_track.py: positions, tracks, mileage, parking; methods_reports.py: alarms and
OBD). The HTTP layer does the common checks (signature, timestamp, token, required parameters) from the
registration and calls the handler with the validated parameters. A handler returns the success payload
(`result` and/or `data`, as the method's documented envelope has them), or the whole serialised body,
or raises ApiError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sources.jimi.signing import format_time, password_md5
from sources.jimi_sim.errors import ILLEGAL_DEVICE, PARAMETER_ERROR, ApiError, invalid
from sources.jimi_sim.params import BUSINESS_EXCEPTION, CLOCK_SKEW, check_account, int_param
from sources.jimi_sim.state import Simulator
from sources.jimi_sim.tokens import Grant
from sources.jimi_sim.wire import detail_item, device_item
from sources.jimi_sim.wire_reports import group_item

Payload = dict[str, object]
Answer = Payload | bytes  # bytes: the whole success body, already serialised (track.list's fast path)
Handler = Callable[[Simulator, Mapping[str, str]], Answer]

__all__ = ["CLOCK_SKEW", "METHODS", "Method", "method"]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    required: tuple[str, ...]
    needs_token: bool = True
    # Heavy handlers run in a worker thread so a long query never stalls other requests.
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


def _grant_payload(sim: Simulator, grant: Grant) -> Payload:
    expires_in: object = grant.expires_in
    if sim.settings.shapes.expires_in_type == "string":
        expires_in = str(grant.expires_in)
    return {
        "result": {
            "appKey": grant.app_key,
            "account": grant.account,
            "accessToken": grant.token,
            "expiresIn": expires_in,
            "refreshToken": grant.token,
            "time": format_time(grant.issued_at),
        }
    }


@method("jimi.oauth.token.get", "user_id", "user_pwd_md5", "expires_in", needs_token=False)
def token_get(sim: Simulator, params: Mapping[str, str]) -> Payload:
    expires_in = int_param(params, "expires_in", 60, 7200)
    settings = sim.settings
    # The hash is compared as sent: the spec demands lower-case hex, and a client sending upper case
    # should learn that here rather than from the real cloud.
    if params["user_id"] != settings.user_id or params["user_pwd_md5"] != password_md5(settings.password):
        raise ApiError(PARAMETER_ERROR, "Incorrect user name or password")
    return _grant_payload(sim, sim.tokens.issue(settings.app_key, settings.user_id, expires_in))


# The token check is the handler's own: a refused refresh has its own message (full-width comma, §4.2).
@method("jimi.oauth.token.refresh", "access_token", "refresh_token", "expires_in", needs_token=False)
def token_refresh(sim: Simulator, params: Mapping[str, str]) -> Payload:
    expires_in = int_param(params, "expires_in", 60, 7200)
    grant = sim.tokens.refresh(
        params["access_token"], params["refresh_token"], sim.settings.app_key, expires_in
    )
    return _grant_payload(sim, grant)


@method("jimi.user.device.list", "target")
def device_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    if params["target"] != sim.settings.user_id:
        raise ApiError(PARAMETER_ERROR, "Account queried doesn\u2019t exist")
    return {"result": [device_item(device) for device in sim.fleet.devices]}


@method("jimi.track.device.detail", "imei")
def device_detail(sim: Simulator, params: Mapping[str, str]) -> Payload:
    imei = params["imei"].strip()
    if "," in imei:
        raise invalid("imei", "must be exactly one IMEI; this method does not take a list")
    device = sim.fleet.device(imei)
    if device is None:
        raise ApiError(ILLEGAL_DEVICE, "Illegal device")
    now = sim.clock.now()
    moment = min(now, device.expiration)
    odometer = sim.fleet.records.odometer_km(imei, int(moment.timestamp()))
    return {"result": detail_item(device, sim.settings.user_id, odometer, sim.settings.shapes)}


@method("jimi.device.group.list", "account")
def group_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    check_account(sim, params, "account", BUSINESS_EXCEPTION)
    groups = {device.group_id: device.group_name for device in sim.fleet.devices}
    return {"result": [group_item(gid, name) for gid, name in sorted(groups.items(), key=lambda g: g[1])]}


# Register the sibling modules' methods (imported for their decorators).
from sources.jimi_sim import methods_extra, methods_reports, methods_track  # noqa: F401
