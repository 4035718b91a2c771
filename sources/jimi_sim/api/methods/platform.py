"""Platform geofence, TAG and command methods, read-only: nothing here changes the account.

Limits and codes as the spec has them: `jimi.open.platform.fence.list` pages with `page_no` >= 1 and
`page_size` 1-50 (default 10), an unknown account is 1100 "Business exception "; `getTagMsg` answers 1100
for a device that is not a TAG; the instruction methods take one IMEI.
"""

from __future__ import annotations

from collections.abc import Mapping

from sources.jimi_sim.api.errors import ILLEGAL_DEVICE, ApiError
from sources.jimi_sim.api.params import BUSINESS_EXCEPTION, check_account, imei_list, int_param, one_device
from sources.jimi_sim.api.registry import MethodTable, Payload
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.api.wire.platform import command_item, fence_item, tag_item, template_item
from sources.jimi_sim.world.commands import history, templates
from sources.jimi_sim.world.fences import fence_book
from sources.jimi_sim.world.whereabouts import latest_fix

METHODS = MethodTable()

FENCE_PAGE_MAX = 50


@METHODS.method("jimi.open.platform.fence.list", "account")
def fence_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    check_account(sim, params, "account", BUSINESS_EXCEPTION)
    page_no = int_param(params, "page_no", 1, 1_000_000, 1)
    page_size = int_param(params, "page_size", 1, FENCE_PAGE_MAX, 10)
    fences = fence_book(sim.fleet).active()
    page = fences[(page_no - 1) * page_size : page_no * page_size]
    total: object = len(fences) if sim.settings.shapes.fence_total_type == "number" else str(len(fences))
    return {"result": {"total": total, "rows": [fence_item(fence, sim.settings.user_id) for fence in page]}}


@METHODS.method("jimi.device.location.getTagMsg")
def tag_location(sim: Simulator, params: Mapping[str, str]) -> Payload:
    # One `imei` (spec, production) or an `imeis` list (the spec transcription's table; docs/jimi-api.md #45): both accepted.
    if "imei" in params:
        devices = [one_device(sim, params)]
    elif "imeis" in params:
        devices = imei_list(sim, params, "imeis", (ILLEGAL_DEVICE, "Illegal device"))
    else:
        raise ApiError(1001, "Illegal parameter: imei is required")
    if not all(device.equipment.is_tag for device in devices):
        raise ApiError(*BUSINESS_EXCEPTION)
    shapes = sim.settings.shapes
    fixes = [latest_fix(sim.fleet, device) for device in devices]
    return {"result": [tag_item(point, shapes) for point in fixes if point is not None]}


@METHODS.method("jimi.open.instruction.list", "imei")
def instruction_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    device = one_device(sim, params)
    return {"result": [template_item(template, sim.settings.shapes) for template in templates(device)]}


@METHODS.method("jimi.open.instruction.result", "imei")
def instruction_result(sim: Simulator, params: Mapping[str, str]) -> Payload:
    device = one_device(sim, params)
    now = sim.clock.now()
    epoch = int(now.timestamp())
    account, shapes = sim.settings.user_id, sim.settings.shapes
    return {
        "result": [
            command_item(command, epoch, account, shapes)
            for command in history(sim.settings.seed, device, now)
        ]
    }
