"""Token, account and device methods: token get and refresh, the device list and detail, device groups."""

from __future__ import annotations

from collections.abc import Mapping

from sources.jimi.signing import format_time, password_md5
from sources.jimi_sim.api.errors import ILLEGAL_DEVICE, PARAMETER_ERROR, ApiError, invalid
from sources.jimi_sim.api.params import BUSINESS_EXCEPTION, check_account, int_param
from sources.jimi_sim.api.registry import MethodTable, Payload
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.api.tokens import Grant
from sources.jimi_sim.api.wire.devices import detail_item, device_item, group_item

METHODS = MethodTable()


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


@METHODS.method("jimi.oauth.token.get", "user_id", "user_pwd_md5", "expires_in", needs_token=False)
def token_get(sim: Simulator, params: Mapping[str, str]) -> Payload:
    expires_in = int_param(params, "expires_in", 60, 7200)
    settings = sim.settings
    # The hash is compared as sent: the spec demands lower-case hex, and a client sending upper case
    # should learn that here rather than from the real cloud.
    if params["user_id"] != settings.user_id or params["user_pwd_md5"] != password_md5(settings.password):
        raise ApiError(PARAMETER_ERROR, "Incorrect user name or password")
    return _grant_payload(sim, sim.tokens.issue(settings.app_key, settings.user_id, expires_in))


# The token check is the handler's own: a refused refresh has its own message (full-width comma, docs/jimi-api.md#tokens).
@METHODS.method("jimi.oauth.token.refresh", "access_token", "refresh_token", "expires_in", needs_token=False)
def token_refresh(sim: Simulator, params: Mapping[str, str]) -> Payload:
    expires_in = int_param(params, "expires_in", 60, 7200)
    grant = sim.tokens.refresh(
        params["access_token"], params["refresh_token"], sim.settings.app_key, expires_in
    )
    return _grant_payload(sim, grant)


@METHODS.method("jimi.user.device.list", "target")
def device_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    if params["target"] != sim.settings.user_id:
        raise ApiError(PARAMETER_ERROR, "Account queried doesn\u2019t exist")
    return {"result": [device_item(device) for device in sim.fleet.devices]}


@METHODS.method("jimi.track.device.detail", "imei")
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


@METHODS.method("jimi.device.group.list", "account")
def group_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    check_account(sim, params, "account", BUSINESS_EXCEPTION)
    groups = {device.group_id: device.group_name for device in sim.fleet.devices}
    return {"result": [group_item(gid, name) for gid, name in sorted(groups.items(), key=lambda g: g[1])]}
