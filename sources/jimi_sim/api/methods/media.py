"""Dashcam media methods: `jimi.device.jimi.media.URL` and `jimi.device.media.event.URL`, read-only.

Limits and codes as the spec has them: `jimi.device.jimi.media.URL` pages with a zero-based `page_no`
(default 0) and `page_size` (default 10), newest first; `jimi.device.media.event.URL` takes an IMEI list
(at most the account's batch limit, shape `imei_limit`), `page_no` from 1 and `page_size`, every parameter
required. `media_type` is accepted as the spec's 1/2/3 and as the production integration's photo/video (docs/jimi-api.md #43); `camera` as 1/2/3.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sources.jimi_sim.api.errors import ILLEGAL_DEVICE, invalid
from sources.jimi_sim.api.params import RETENTION, imei_list, int_param, one_device, window
from sources.jimi_sim.api.registry import MethodTable, Payload
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.api.wire.media import event_item, media_item
from sources.jimi_sim.api.wire.reports import paging
from sources.jimi_sim.world.media import device_media, media_events

METHODS = MethodTable()

_ONE_SECOND = timedelta(seconds=1)
_MEDIA_TYPES = {"1": {1}, "2": {2}, "3": {1, 2}, "photo": {1}, "video": {2}}
_CAMERAS = {"1": {1}, "2": {2}, "3": {1, 2}}
_NO_IMEI = (ILLEGAL_DEVICE, "imei doesn\u2019t exists")  # sic, the spec's message


def _choice(params: Mapping[str, str], name: str, options: dict[str, set[int]]) -> set[int]:
    value = params[name].strip().lower()
    if value not in options:
        raise invalid(name, f"must be one of {', '.join(options)}")
    return options[value]


@METHODS.method("jimi.device.jimi.media.URL", "imei", "camera", "media_type", blocking=True)
def media_url(sim: Simulator, params: Mapping[str, str]) -> Payload:
    device = one_device(sim, params, refusal=_NO_IMEI)
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


@METHODS.method(
    "jimi.device.media.event.URL",
    "imeis",
    "media_type",
    "start_time",
    "end_time",
    "page_no",
    "page_size",
    blocking=True,
)
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
        events += [
            (head, members) for head, members in media_events(files) if wanted in (None, head.event_type_id)
        ]
    events.sort(key=lambda event: (-event[0].created, event[0].imei))
    page = events[(page_no - 1) * page_size : page_no * page_size]
    shapes = sim.settings.shapes
    rows = [event_item(head, members, shapes) for head, members in page]
    if shapes.media_wire == "spec":
        return {"result": None, "data": paging(page_no, page_size, len(events), rows, shapes)}
    return {"result": rows}
