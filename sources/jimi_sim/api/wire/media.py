"""Wire shapes of the dashcam media methods, typed as the vendor's examples type them.

Sources: docs/jimi-api.md#media (the vendor spec V2.7.14 against the earlier production integration, #43). Where
they differ,
the `media_wire` shape picks the side.
"""

from __future__ import annotations

from sources.jimi_sim.api.shapes import Shapes
from sources.jimi_sim.timetext import epoch_text
from sources.jimi_sim.world.media import EVENT_NAMES, FRONT, MediaFile


def _time(epoch: int | None, spec: bool) -> object:
    if epoch is None:
        return None
    return epoch if spec else epoch_text(epoch)


def media_item(item: MediaFile, shapes: Shapes) -> dict[str, object]:
    """One `jimi.device.jimi.media.URL` row."""
    if shapes.media_wire == "spec":
        return {
            "thumb_URL": item.thumb_url,
            "file_URL": item.file_url,
            "create_time": item.created,
            "mime_type": item.mime_type,
            "media_type": item.media_type,
            "alarm_time": item.alarm_epoch,
            "camera": 0 if item.camera == FRONT else 1,  # the response's 0 front / 1 inward
            "file_size": str(item.size),
        }
    return {
        "thumb_URL": item.thumb_url,
        "file_URL": item.file_url,
        "create_time": epoch_text(item.created),
        "mime_type": item.mime_type,
        "camera": item.camera,
        "file_size": item.size,
    }


def event_item(head: MediaFile, files: list[MediaFile], shapes: Shapes) -> dict[str, object]:
    """One `jimi.device.media.event.URL` event with its fileList."""
    spec = shapes.media_wire == "spec"
    file_list = [
        {
            "media_type": item.media_type,
            "mime_type": item.mime_type,
            "thumb_URL": item.thumb_url,
            "file_URL": item.file_url,
            "camera": item.camera,
            "file_size": str(item.size) if spec else item.size,
        }
        for item in files
    ]
    if spec:
        return {
            "imei": head.imei,
            "event_type_id": head.event_type_id,
            "event_type": EVENT_NAMES[head.event_type_id or ""],
            "lat": f"{head.lat:.6f}",
            "lng": f"{head.lng:.6f}",
            "alarm_time": head.alarm_epoch,
            "create_time": head.created,
            "fileList": file_list,
        }
    return {
        "imei": head.imei,
        "event_type": head.event_type_id,
        "lat": head.lat,
        "lng": head.lng,
        "alarm_time": epoch_text(head.alarm_epoch or 0),
        "fileList": file_list,
    }
