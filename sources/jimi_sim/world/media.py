"""What a dashcam uploads: a clip per camera and a photo around each of its DVR alarms, and trip snapshots.

Derived from the same day records as the alarms and trips, so the media tell the alarms' story: a harsh
braking alarm (DVR id 145) at 08:12:31 has a 10-second video from the front camera (channel 1) and the
inward one (channel 2) plus a front photo, all uploaded shortly after. Every trip start also gets a
front-camera snapshot (no alarm). `jimi.device.jimi.media.URL` lists every file; `jimi.device.media.event.URL`
lists the alarm events with their files.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sources.jimi_sim.world.catalogue import Device

if TYPE_CHECKING:
    from sources.jimi_sim.world.fleet import Fleet

# The dashcam's DVR alarm ids (alarms.py maps vibration/overspeed/harsh acceleration/braking to these).
EVENT_TYPES = ("128", "135", "144", "145")
EVENT_NAMES = {
    "128": "DVR Vibration Alert",
    "135": "Overspeed Alert(DVR)",
    "144": "Sudden Acceleration Alert(DVR)",
    "145": "Sudden Deceleration Alert(DVR)",
}
FRONT, INWARD = 1, 2  # request channels; the catalogue answers 0/1 (shape media_camera)
PHOTO, VIDEO = 1, 2
CLIP_S = 10
UPLOAD_DELAY_S = 20  # a clip covers the alarm ±5 s and is on the platform ~20 s after the alarm
SNAPSHOT_DELAY_S = 30
FILE_HOST = "https://sim-file.jimi.invalid/normal/get?fileKey="


class MediaFile(NamedTuple):
    created: int  # epoch the file reached the platform
    imei: str
    camera: int  # 1 front, 2 inward
    media_type: int  # 1 photo, 2 video
    alarm_epoch: int | None  # the alarm it belongs to, None for a snapshot
    event_type_id: str | None
    lat: float
    lng: float
    size: int

    @property
    def key(self) -> str:
        stamp = datetime.fromtimestamp(self.created, UTC).strftime("%Y_%m_%d_%H_%M_%S")
        digest = hashlib.md5(
            f"{self.imei}/{self.created}/{self.camera}/{self.media_type}".encode()
        ).hexdigest()[:8]
        kind = "jpg" if self.media_type == PHOTO else "mp4"
        return f"{self.imei}_{digest}_{stamp}_{'I' if self.camera == INWARD else 'F'}.{kind}"

    @property
    def file_url(self) -> str:
        return FILE_HOST + self.key

    @property
    def thumb_url(self) -> str:
        return FILE_HOST + self.key.rsplit(".", 1)[0] + "_thumb.jpg"

    @property
    def mime_type(self) -> str:
        return "image/jpeg" if self.media_type == PHOTO else "video/mp4"


def _size(imei: str, epoch: int, camera: int, media_type: int) -> int:
    digest = int(hashlib.md5(f"size/{imei}/{epoch}/{camera}/{media_type}".encode()).hexdigest()[:8], 16)
    if media_type == PHOTO:
        return 80_000 + digest % 220_000
    return 1_500_000 + digest % 16_000_000


def device_media(fleet: Fleet, device: Device, start: datetime, end: datetime) -> list[MediaFile]:
    """Files a dashcam uploaded with start <= created < end, ascending by time (empty for other devices)."""
    if not device.equipment.is_dashcam:
        return []
    lo, hi = int(start.timestamp()), int(end.timestamp())
    now = int(fleet.clock.now().timestamp())
    margin = timedelta(seconds=max(UPLOAD_DELAY_S, SNAPSHOT_DELAY_S))
    files = []
    imei = device.imei
    for alarm in fleet.records.alarms(imei, start - margin, end):
        if alarm.type_id not in EVENT_TYPES:
            continue
        created = alarm.epoch + UPLOAD_DELAY_S
        for camera, media_type in ((FRONT, VIDEO), (INWARD, VIDEO), (FRONT, PHOTO)):
            files.append(
                MediaFile(
                    created,
                    imei,
                    camera,
                    media_type,
                    alarm.epoch,
                    alarm.type_id,
                    alarm.lat,
                    alarm.lng,
                    _size(imei, alarm.epoch, camera, media_type),
                )
            )
    for trip in fleet.records.trips(imei, start - margin, end):
        created = int(trip.start_time.timestamp()) + SNAPSHOT_DELAY_S
        first = fleet.points(imei, trip.start_time, trip.start_time + timedelta(seconds=SNAPSHOT_DELAY_S + 1))
        lat, lng = (first[-1].lat, first[-1].lng) if first else (0.0, 0.0)
        files.append(
            MediaFile(created, imei, FRONT, PHOTO, None, None, lat, lng, _size(imei, created, FRONT, PHOTO))
        )
    return sorted(f for f in files if lo <= f.created < hi and f.created <= now)


def media_events(files: list[MediaFile]) -> list[tuple[MediaFile, list[MediaFile]]]:
    """Alarm files grouped by event (imei, alarm time, type), in the order of the files."""
    groups: dict[tuple, list[MediaFile]] = {}
    for item in files:
        if item.alarm_epoch is not None:
            groups.setdefault((item.imei, item.alarm_epoch, item.event_type_id), []).append(item)
    return [(members[0], members) for members in groups.values()]
