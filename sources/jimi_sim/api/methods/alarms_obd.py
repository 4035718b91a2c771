"""Alarm and OBD methods (docs/jimi-api.md#alarms-and-obd): paged with `page_no`/`page_size`.

alarm.list answers newest first, at most 1000 rows per query window (silently capped: later pages come
back empty), no total; without begin/end it covers the last month. Its page_size follows the `alarm_paging`
shape (docs/jimi-api.md #10): 1-100 (strict), or up to 1000 answered with at most 100 rows (lenient); an unknown
`page` is ignored like any unknown parameter, so paging by it answers the first page every time. The OBD
methods put their rows in a `data` paging object whose `startRow`/`endRow`/`totalPage` follow the
`obd_paging` shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sources.jimi_sim.api.errors import ILLEGAL_DEVICE, ApiError, invalid, missing
from sources.jimi_sim.api.params import BUSINESS_EXCEPTION, check_account, imei_list, int_param, window
from sources.jimi_sim.api.registry import MethodTable, Payload
from sources.jimi_sim.api.shapes import Shapes
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.api.wire.reports import alarm_row, fault_row, obd_row, paging
from sources.jimi_sim.world.catalogue import Device

METHODS = MethodTable()

ALARM_MAX_SPAN = timedelta(days=31)
ALARM_MAX_ROWS = 1000
ALARM_PAGE_ROWS = 100  # the spec's largest page_size; the lenient shape answers no more rows than this
ALARM_LENIENT_PAGE_SIZE = 1000  # docs/jimi-api.md #10: "Results per page (max 1000)"
OBD_MAX_SPAN = timedelta(days=31)
_ONE_SECOND = timedelta(seconds=1)
_ILLEGAL_DEVICE = (ILLEGAL_DEVICE, "Illegal device")


@METHODS.method("jimi.device.alarm.list", blocking=True)
def alarm_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    if "imeis" in params:
        devices = imei_list(sim, params, "imeis", _ILLEGAL_DEVICE)
    elif "imei" in params:
        if "," in params["imei"]:
            raise invalid("imei", "must be one IMEI; use imeis for a list")
        devices = imei_list(sim, params, "imei", _ILLEGAL_DEVICE)
    else:
        raise ApiError(1001, "Illegal parameter: imei or imeis is required")
    now = sim.clock.now()
    given = [name for name in ("begin_time", "end_time") if name in params]
    if not given:
        begin, end = now - ALARM_MAX_SPAN, now
    elif len(given) == 1:
        raise missing("end_time" if given == ["begin_time"] else "begin_time")
    else:
        begin, end = window(sim, params, ("begin_time", "end_time"), ALARM_MAX_SPAN, "one month")
    page_no = int_param(params, "page_no", 1, 1_000_000, 1)
    page_size = _alarm_page_size(params, sim.settings.shapes)
    wanted = params.get("alertTypeId")
    until = min(end + _ONE_SECOND, now + _ONE_SECOND)

    def build() -> list:
        found = [
            (alarm, device)
            for device in devices
            for alarm in sim.fleet.records.alarms(device.imei, begin, until)
            if wanted is None or alarm.type_id == wanted
        ]
        found.sort(key=lambda pair: (-pair[0].epoch, pair[1].imei))
        return found[:ALARM_MAX_ROWS]

    found = sim.report_rows.get(("alarms", _imeis(devices), begin, until, wanted), build)
    page = found[(page_no - 1) * page_size : page_no * page_size]
    account, shapes = sim.settings.user_id, sim.settings.shapes
    return {"result": [alarm_row(device, alarm, account, shapes) for alarm, device in page]}


def _alarm_page_size(params: Mapping[str, str], shapes: Shapes) -> int:
    """Rows per page. Lenient: a larger page_size is accepted but pages (and page_no) count in 100 rows."""
    if shapes.alarm_paging == "lenient":
        return min(int_param(params, "page_size", 1, ALARM_LENIENT_PAGE_SIZE, 50), ALARM_PAGE_ROWS)
    return int_param(params, "page_size", 1, ALARM_PAGE_ROWS, 50)


def _obd_query(sim: Simulator, params: Mapping[str, str]) -> tuple[list[Device], object, object, int, int]:
    check_account(sim, params, "account", BUSINESS_EXCEPTION)
    devices = imei_list(sim, params, "imeis", BUSINESS_EXCEPTION)
    begin, end = window(sim, params, ("start_time", "end_time"), OBD_MAX_SPAN, "31 days")
    page_no = int_param(params, "page_no", 1, 1_000_000, 1)
    page_size = int_param(params, "page_size", 1, 100, 10)
    return devices, begin, min(end, sim.clock.now()) + _ONE_SECOND, page_no, page_size


@METHODS.method("jimi.device.obd.list", "account", "imeis", "start_time", "end_time", blocking=True)
def obd_list(sim: Simulator, params: Mapping[str, str]) -> Payload:
    devices, begin, end, page_no, page_size = _obd_query(sim, params)
    rows = sim.report_rows.get(
        ("obd", _imeis(devices), begin, end),
        lambda: sorted(
            (
                (reading, device)
                for device in devices
                for reading in sim.fleet.records.obd(device.imei, begin, end)
            ),
            key=lambda pair: (pair[0].epoch, pair[1].imei),
        ),
    )
    page = rows[(page_no - 1) * page_size : page_no * page_size]
    shapes = sim.settings.shapes
    body = [obd_row(device, reading, shapes) for reading, device in page]
    return {
        "data": paging(page_no, page_size, len(rows), body, shapes)
    }  # no top-level result (docs/jimi-api.md#envelopes)


@METHODS.method("jimi.device.obd.fault", "account", "imeis", "start_time", "end_time", blocking=True)
def obd_fault(sim: Simulator, params: Mapping[str, str]) -> Payload:
    devices, begin, end, page_no, page_size = _obd_query(sim, params)
    rows = sim.report_rows.get(
        ("dtcs", _imeis(devices), begin, end),
        lambda: sorted(
            (
                (fault, device)
                for device in devices
                for fault in sim.fleet.records.dtcs(device.imei, begin, end)
            ),
            key=lambda pair: (pair[0].epoch, pair[1].imei),
        ),
    )
    page = rows[(page_no - 1) * page_size : page_no * page_size]
    body = [fault_row(device, fault) for fault, device in page]
    return {"result": None, "data": paging(page_no, page_size, len(rows), body, sim.settings.shapes)}


def _imeis(devices: list[Device]) -> tuple[str, ...]:
    return tuple(device.imei for device in devices)
