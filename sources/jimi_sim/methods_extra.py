"""Media, platform geofence, TAG and command methods — read-only ones; nothing here changes the account.

Limits and codes as the spec has them: `jimi.device.jimi.media.URL` pages with a zero-based `page_no`
(default 0) and `page_size` (default 10), newest first; `jimi.device.media.event.URL` takes an IMEI list
(at most the account's batch limit, shape `imei_limit`), `page_no` from 1 and `page_size`, every parameter
required; `jimi.open.platform.fence.list` pages with `page_no` >= 1 and `page_size` 1-50 (default 10), an
unknown account is 1100 "Business exception "; `getTagMsg` answers 1100 for a device that is not a TAG.
`media_type` is accepted as the spec's 1/2/3 and as jimi-api.md's photo/video; `camera` as 1/2/3.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sources.jimi_sim.catalogue import Device
from sources.jimi_sim.commands import history, templates
from sources.jimi_sim.errors import ILLEGAL_DEVICE, ApiError, invalid
from sources.jimi_sim.fences import fence_book
from sources.jimi_sim.media import device_media, media_events
from sources.jimi_sim.methods import Payload, method
from sources.jimi_sim.params import BUSINESS_EXCEPTION, RETENTION, check_account, imei_list, int_param, window
from sources.jimi_sim.state import Simulator
from sources.jimi_sim.whereabouts import latest_fix
from sources.jimi_sim.wire_extra import (
    command_item,
    event_item,
    fence_item,
    media_item,
    tag_item,
    template_item,
)
from sources.jimi_sim.wire_reports import paging

FENCE_PAGE_MAX = 50
_ONE_SECOND = timedelta(seconds=1)
_MEDIA_TYPES = {"1": {1}, "2": {2}, "3": {1, 2}, "photo": {1}, "video": {2}}
_CAMERAS = {"1": {1}, "2": {2}, "3": {1, 2}}
_NO_IMEI = (ILLEGAL_DEVICE, "imei doesn\u2019t exists")  # sic, the spec's message


def _one_device(sim: Simulator, params: Mapping[str, str], name: str = "imei", refusal=(ILLEGAL_DEVICE, "Illegal device")) -> Device:
    imei = params[name].strip()
    if "," in imei:
        raise invalid(name, "must be exactly one IMEI")
    device = sim.fleet.device(imei)
    if device is None:
        raise ApiError(*refusal)
    return device


def _choice(params: Mapping[str, str], name: str, options: dict[str, set[int]]) -> set[int]:
    value = params[name].strip().lower()
    if value not in options:
        raise invalid(name, f"must be one of {', '.join(options)}")
    return options[value]


@method("jimi.device.jimi.media.URL", "imei", "camera", "media_type", blocking=True)
def media_url(sim: Simulator, params: Mapping[str, str]) -> Payload:
    device = _one_device(sim, params, refusal=_NO_IMEI)
    cameras = _choice(params, "camera", _CAMERAS)
    kinds = _choice(params, "media_type", _MEDIA_TYPES)
    now = sim.clock.now()
    if "start_time" in params or "end_time" in params:
        begin, end = window(sim, params, ("start_time", "end_time"), None)
    else:
        begin, end = now - RETENTION, now
    page_no = int_param(params, "page_no", 0, 1_000_000, 0)  # zero-based, as the spec says
    page_size = int_param(params, "page_size", 1, 1_000, 10)
    files = [
        item
        for item in device_media(sim.fleet, device, begin, min(end, now) + _ONE_SECOND)
        if item.camera in cameras and item.media_type in kinds
    ]
    files.sort(key=lambda item: (-item.created, item.camera, item.media_type))  # newest first, as the example
    page = files[page_no * page_size : (page_no + 1) * page_size]
    return {"result": [media_item(item, sim.settings.shapes) for item in page]}


@method("jimi.device.media.event.URL", "imeis", "media_type", "start_time", "end_time", "page_no", "page_size", blocking=True)
def media_event_url(sim: Simulator, params: Mapping[str, str]) -> Payload:
    devices = imei_list(sim, params, "imeis", _NO_IMEI)
    kinds = _choice(params, "media_type", _MEDIA_TYPES)
    begin, end = window(sim, params, ("start_time", "end_time"), None)
    page_no = int_param(params, "page_no", 1, 1_000_000)
    page_size = int_param(params, "page_size", 1, 1_000)
    wanted = params.get("event_type")
    until = min(end, sim.clock.now()) + _ONE_SECOND
    events = []
    for device in devices:
        files = [item for item in device_media(sim.fleet, device, begin, until) if item.media_type in kinds]
        events += [(head, members) for head, members in media_events(files) if wanted in (None, head.event_type_id)]
    events.sort(key=lambda event: (-event[0].created, event[0].imei))
    page = events[(page_no - 1) * page_size : page_no * page_size]
    shapes = sim.settings.shapes
    rows = [event_item(head, members, shapes) for head, members in page]
    if shapes.media_wire == "spec":
        return {"result": None, "data": paging(page_no, page_size, len(events), rows, shapes)}
    return {"result": rows}


@method("jimi.open.platform.fence.list", "account")
def fence_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    check_account(sim, params, "account", BUSINESS_EXCEPTION)
    page_no = int_param(params, "page_no", 1, 1_000_000, 1)
    page_size = int_param(params, "page_size", 1, FENCE_PAGE_MAX, 10)
    fences = fence_book(sim.fleet).active()
    page = fences[(page_no - 1) * page_size : page_no * page_size]
    total: object = len(fences) if sim.settings.shapes.fence_total_type == "number" else str(len(fences))
    return {"result": {"total": total, "rows": [fence_item(fence, sim.settings.user_id) for fence in page]}}


@method("jimi.device.location.getTagMsg")
def tag_location(sim: Simulator, params: Mapping[str, str]) -> Payload:
    # One `imei` (spec, jimi-api.md) or an `imeis` list (the Spanish transcription's table): both accepted.
    if "imei" in params:
        devices = [_one_device(sim, params)]
    elif "imeis" in params:
        devices = imei_list(sim, params, "imeis", (ILLEGAL_DEVICE, "Illegal device"))
    else:
        raise ApiError(1001, "Illegal parameter: imei is required")
    if not all(device.equipment.is_tag for device in devices):
        raise ApiError(*BUSINESS_EXCEPTION)
    shapes = sim.settings.shapes
    fixes = [latest_fix(sim.fleet, device) for device in devices]
    return {"result": [tag_item(point, shapes) for point in fixes if point is not None]}


@method("jimi.open.instruction.list", "imei")
def instruction_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    device = _one_device(sim, params)
    return {"result": [template_item(template, sim.settings.shapes) for template in templates(device)]}


@method("jimi.open.instruction.result", "imei")
def instruction_result(sim: Simulator, params: Mapping[str, str]) -> Payload:
    device = _one_device(sim, params)
    now = sim.clock.now()
    epoch = int(now.timestamp())
    account, shapes = sim.settings.user_id, sim.settings.shapes
    return {"result": [command_item(command, epoch, account, shapes) for command in history(sim.settings.seed, device, now)]}
