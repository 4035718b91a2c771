"""Commands: `command_templates` (`open.instruction.list`) and `command_results` (`open.instruction.result`).

Both are read per device, without windows or pages. Templates are replaced on every load (what each device
supports now); results merge on IMEI + send time + template, so a command's status moves from pending to its
outcome. `per_device` is shared with the TAG locations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import settings
from ..decode import Shape, decode
from ..errors import JimiDeviceError
from ..fields import flag

if TYPE_CHECKING:
    from ..registry import Endpoint
    from ..run import SourceRun

log = logging.getLogger(__name__)

COMMAND_TEMPLATES = Shape(
    method=settings.INSTRUCTION_LIST,
    path=("result",),
    fields={
        "id": "VARCHAR",
        "orderName": "VARCHAR",
        "orderContent": "VARCHAR",
        "orderExplain": "VARCHAR",
        "orderMsg": "VARCHAR",
        "isOffLine": "VARCHAR",
    },
    select=f"""
        r.id as template_id,
        r.orderName as template_name,
        r.orderContent as template_content,
        r.orderExplain as template_explain,
        nullif(r.orderMsg, '') as template_help,
        {flag("r.isOffLine")} as supports_offline
    """,
    where="r.id is not null",
    keys=("imei", "template_id"),
    key_column="imei",
)

COMMAND_RESULTS = Shape(
    method=settings.INSTRUCTION_RESULT,
    path=("result",),
    fields={
        "codeId": "VARCHAR",
        "code": "VARCHAR",
        "content": "VARCHAR",
        "isExecute": "VARCHAR",
        "sendTime": "TIMESTAMP",
        "sender": "VARCHAR",
        "receiveDevice": "VARCHAR",
        "isOffLine": "VARCHAR",
        "idsource": "VARCHAR",
    },
    # isExecute: "0" failed, "1" executed, "3" waiting to be sent, "4" cancelled (spec); a boolean in
    # the production integration's table (docs/jimi-api.md #46), which only says executed or not (status_code stays null then).
    select=f"""
        coalesce(nullif(r.receiveDevice, ''), k) as imei,
        r.sendTime as send_time,
        r.codeId as template_id,
        r.code as command_text,
        nullif(r.content, '') as reply_content,
        try_cast(r.isExecute as smallint) as status_code,
        case try_cast(r.isExecute as smallint) when 0 then 'failed' when 1 then 'executed' when 3 then 'pending'
             when 4 then 'cancelled' end as status,
        coalesce(try_cast(r.isExecute as smallint) = 1, {flag("r.isExecute")}) as is_executed,
        {flag("r.isOffLine")} as is_offline,
        r.sender as sender,
        r.idsource as command_name
    """,
    where="r.sendTime is not null and r.codeId is not null",
    keys=("imei", "send_time", "template_id"),
)


def command_templates(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    return per_device(run, endpoint, COMMAND_TEMPLATES, run.pollable_imeis())


def command_results(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    return per_device(run, endpoint, COMMAND_RESULTS, run.pollable_imeis())


def per_device(run: SourceRun, endpoint: Endpoint, shape: Shape, imeis: list[str]) -> Iterator[pa.Table]:
    """One call of the endpoint's method per IMEI; a device that left the account mid-run is skipped with a
    warning, and the others still load."""

    def fetch(imei: str) -> pa.Table | None:
        try:
            return run.client.call(
                endpoint.method, {"imei": imei}, f"imei {imei}", decode=partial(decode, shape, key=imei)
            )
        except JimiDeviceError as exc:
            log.warning("skipping device: %s", exc)
            return None

    for _, table in run.concurrently([(imei,) for imei in imeis], fetch):
        if table is not None and table.num_rows:
            yield table
