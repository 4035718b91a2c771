"""Wire shapes of the platform geofence, TAG and command methods, typed as the vendor's examples type them.

Sources: docs/jimi-api.md#fences, #tag-locations, #commands (the vendor spec V2.7.14 against the earlier
production integration, #44-#46). Where they differ, a
`Shapes` variant picks the side (shapes.py: `fence_total_type`, `tag_wire`, `instruction_flags`).
"""

from __future__ import annotations

from sources.jimi_sim.api.shapes import Shapes
from sources.jimi_sim.timetext import epoch_text
from sources.jimi_sim.world.commands import Command, Template
from sources.jimi_sim.world.fences import Fence, polygon_text
from sources.jimi_sim.world.model import Point


def fence_item(fence: Fence, account: str) -> dict[str, object]:
    """One row of `jimi.open.platform.fence.list` (strings, as in the spec's example)."""
    return {
        "fence_id": fence.fence_id,
        "fence_name": fence.name,
        "fence_type": fence.kind,
        "fence_color": fence.color.lower(),
        "coordinates": polygon_text(fence.points),
        "radius": str(int(fence.radius_m)) if fence.radius_m is not None else "",
        "description": fence.description,
        "imeis": ",".join(fence.imeis),
        "alert_type": fence.alert_type,
        "stay_time_out": None,
        "stay_time_in": None,
        "account": account,
    }


def tag_item(point: Point, shapes: Shapes) -> dict[str, object]:
    """One `jimi.device.location.getTagMsg` row: the TAG's newest fix, located by beacon when parked."""
    beacon = point.speed_kmh == 0
    epoch = int(point.gps_time.timestamp())
    if shapes.tag_wire == "spec":
        return {
            "lng": point.lng,
            "lat": point.lat,
            "gpsTime": epoch,
            "directions": str(point.direction),
            "gpsSpeed": float(point.speed_kmh) if not beacon else -1.0,
            "positionType": "5" if beacon else "1",
            "gpsNum": point.satellites,
        }
    return {
        "lng": point.lng,
        "lat": point.lat,
        "gpsTime": epoch_text(epoch),
        "gpsSpeed": int(point.speed_kmh) if not beacon else -1,
        "positionType": "BEACON" if beacon else "GPS",
        "gpsNum": point.satellites,
    }


def _flag(value: bool, shapes: Shapes) -> object:
    return ("1" if value else "0") if shapes.instruction_flags == "strings" else value


def template_item(template: Template, shapes: Shapes) -> dict[str, object]:
    """One `jimi.open.instruction.list` row (`id` is a number in the spec's example)."""
    return {
        "id": template.template_id,
        "orderName": template.name,
        "orderContent": template.content,
        "orderExplain": template.explain,
        "orderMsg": "",
        "isOffLine": _flag(template.offline, shapes),
    }


def command_item(command: Command, now: int, account: str, shapes: Shapes) -> dict[str, object]:
    """One `jimi.open.instruction.result` row; with boolean flags isExecute only says executed or not."""
    status = command.status(now)
    executed: object = status if shapes.instruction_flags == "strings" else status == "1"
    return {
        "codeId": str(command.template.template_id),
        "code": command.text,
        "content": command.reply(now),
        "isExecute": executed,
        "sendTime": epoch_text(command.sent),
        "sender": account,
        "receiveDevice": command.imei,
        "isOffLine": _flag(command.template.offline, shapes),
        "idsource": command.template.name,
    }
