"""The registry of Jimi resources: one entry per table the source loads, and the cadences they poll at.

Everything else is derived from it: the dlt resources (`jimi_source`), the Dagster assets and their specs,
which assets are daily-partitioned (those with a cursor), the polling jobs and their schedules, and the
pipelines a run uses. Adding an endpoint is one `Endpoint` here, its fetch/decode function in
`resources/`, and its dbt staging model (plus a simulator method when the simulator should serve it);
`tests/source/test_registry.py` checks that the registry and the Dagster asset graph agree.

Cursors:
- `device`: one cursor per device (`track_points`: each device's trail is read up to where it was read).
- `resource`: one cursor for the whole resource, moved when every window of the run was read.
- none: the resource reads what the account has now (the device list, the fleet sweep, fences, ...).
Every resource with a cursor keeps history: it is partitioned by day in Dagster and can be backfilled, and a
bounded window (a backfill) never moves its cursor. `span` is the longest window one call may cover; the
lookback is re-read by every incremental run for rows that reach the API a little late.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from . import settings
from .resources import alarms_obd, commands, devices, fences, media, positions, reports
from .run import SourceRun

if TYPE_CHECKING:
    from dlt.common.schema.typing import TDeleteInsertStrategyDict, TTableSchemaColumns, TWriteDispositionDict


@dataclass(frozen=True)
class Cadence:
    """A group of resources polled together by one Dagster job on one schedule."""

    cron: str
    description: str


# The default schedules (each cron can be overridden, see the README); `catch_up` re-reads the trailing days of
# every resource with a cursor, and its job is the one to backfill by partition.
CADENCES: dict[str, Cadence] = {
    "sweep": Cadence("* * * * *", "The fleet sweep, every minute."),
    "track_points": Cadence("*/30 * * * *", "GPS trails, every 30 minutes (35-minute lookback)."),
    "trips_and_parking": Cadence("*/15 * * * *", "Mileage and parking reports, every 15 minutes."),
    "alarms": Cadence("*/5 * * * *", "Alarms, every 5 minutes."),
    "obd": Cadence("0 * * * *", "OBD readings and fault codes, hourly."),
    "devices": Cadence("0 3 * * *", "The device list and groups, daily."),
    "media": Cadence("*/15 * * * *", "Dashcam media and alarm clips, every 15 minutes."),
    "geofences": Cadence("5 * * * *", "Platform geofences and their devices, hourly."),
    "tags": Cadence("*/5 * * * *", "TAG/beacon locations, every 5 minutes."),
    "commands": Cadence("20 * * * *", "Command history and outcomes, hourly."),
    "command_templates": Cadence("15 3 * * *", "Command templates per device, daily."),
}
CATCH_UP = Cadence(
    "30 2 * * *",
    "Every history resource: the nightly catch-up (the trailing 7 days again, for data that reaches the API "
    "late), and the job to backfill by partition.",
)


@dataclass(frozen=True)
class Endpoint:
    """One resource of the source: the table it fills, the method it reads, and how."""

    name: str
    method: str
    key: tuple[str, ...]
    rows: Callable[[SourceRun, Endpoint], Iterator[object]]
    cadence: str
    description: str
    disposition: Literal["merge", "replace"] = "merge"
    cursor: Literal["device", "resource"] | None = None
    span: timedelta | None = None
    lookback: timedelta | None = None
    # dlt column hints, for resources yielding Python rows (Arrow tables carry their own types).
    columns: TTableSchemaColumns | None = None

    @property
    def history(self) -> bool:
        """Keeps history behind a cursor: daily partitions, backfills, the nightly catch-up."""
        return self.cursor is not None

    @property
    def write_disposition(self) -> TWriteDispositionDict | TDeleteInsertStrategyDict:
        # delete-insert (not insert-only, which is faster) because it also collapses duplicates inside one
        # load: the API repeats fixes within an answer and at window boundaries.
        if self.disposition == "replace":
            return {"disposition": "replace"}
        return {"disposition": "merge", "strategy": "delete-insert"}


_H = timedelta(hours=1)
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "devices",
        settings.DEVICE_LIST,
        ("imei",),
        devices.devices,
        "devices",
        "The account's devices (`user.device.list` + `track.device.detail`), merged on IMEI.",
        columns=devices.DEVICE_COLUMNS,
    ),
    Endpoint(
        "device_groups",
        settings.GROUP_LIST,
        ("group_id",),
        devices.device_groups,
        "devices",
        "Device groups (`device.group.list`), merged on group id.",
        columns=devices.GROUP_COLUMNS,
    ),
    Endpoint(
        "live_locations",
        settings.LOCATION_LIST,
        ("imei", "gps_time"),
        positions.live_locations,
        "sweep",
        "Every fleet sweep's fixes (`user.device.location.list`), kept once per device and fix time.",
    ),
    Endpoint(
        "track_points",
        settings.TRACK_LIST,
        ("imei", "gps_time"),
        positions.track_points,
        "track_points",
        "GPS fixes (`device.track.list`), incremental per device, one row per device and fix time.",
        cursor="device",
        span=settings.TRACK_MAX_SPAN,
        lookback=timedelta(minutes=35),
    ),
    Endpoint(
        "trips",
        settings.TRACK_MILEAGE,
        ("imei", "start_time"),
        reports.trips,
        "trips_and_parking",
        "Trips of the mileage report (`device.track.mileage`), one row per device and start time.",
        cursor="resource",
        span=timedelta(days=7),
        lookback=2 * _H,
    ),
    Endpoint(
        "parking",
        settings.PARKING,
        ("imei", "start_time"),
        reports.parking,
        "trips_and_parking",
        "Parking and idling stops (`open.platform.report.parking`), one row per device and start time.",
        cursor="resource",
        span=timedelta(days=7),
        lookback=2 * _H,
    ),
    Endpoint(
        "alarms",
        settings.ALARM_LIST,
        ("imei", "alarm_time", "alarm_type_id"),
        alarms_obd.alarms,
        "alarms",
        "Alarms (`device.alarm.list`), one row per device, time and type; capped windows are split.",
        cursor="resource",
        span=timedelta(days=30),
        lookback=timedelta(minutes=30),
    ),
    Endpoint(
        "obd_readings",
        settings.OBD_LIST,
        ("imei", "report_time"),
        alarms_obd.obd_readings,
        "obd",
        "OBD readings (`device.obd.list`), one row per device and report time.",
        cursor="resource",
        span=timedelta(days=31),
        lookback=_H,
    ),
    Endpoint(
        "obd_faults",
        settings.OBD_FAULT,
        ("imei", "event_time", "fault_code"),
        alarms_obd.obd_faults,
        "obd",
        "OBD fault codes (`device.obd.fault`), one row per device, time and code.",
        cursor="resource",
        span=timedelta(days=31),
        lookback=_H,
    ),
    Endpoint(
        "media_files",
        settings.MEDIA_URL,
        media.MEDIA_FILES.keys,
        media.media_files,
        "media",
        "Dashcam photos and videos (`device.jimi.media.URL`), one row per file; URLs as given.",
        cursor="resource",
        span=timedelta(days=7),
        lookback=2 * _H,
    ),
    Endpoint(
        "event_media",
        settings.MEDIA_EVENT_URL,
        media.EVENT_MEDIA_KEYS,
        media.event_media,
        "media",
        "Files attached to alarm events (`device.media.event.URL`), one row per event file.",
        cursor="resource",
        span=timedelta(days=7),
        lookback=2 * _H,
    ),
    Endpoint(
        "platform_geofences",
        settings.FENCE_LIST,
        ("fence_id",),
        fences.platform_geofences,
        "geofences",
        "Platform geofences (`open.platform.fence.list`), replaced on every load.",
        disposition="replace",
    ),
    Endpoint(
        "geofence_devices",
        settings.FENCE_LIST,
        ("fence_id", "imei"),
        fences.geofence_devices,
        "geofences",
        "Devices bound to each platform geofence (the fences' `imeis`), replaced on every load.",
        disposition="replace",
    ),
    Endpoint(
        "tag_locations",
        settings.TAG_LOCATION,
        ("imei", "gps_time"),
        positions.tag_locations,
        "tags",
        "Newest fixes of TAG/beacon devices (`device.location.getTagMsg`), kept once per fix.",
    ),
    Endpoint(
        "command_results",
        settings.INSTRUCTION_RESULT,
        ("imei", "send_time", "template_id"),
        commands.command_results,
        "commands",
        "Commands sent to devices and their outcome (`open.instruction.result`).",
    ),
    Endpoint(
        "command_templates",
        settings.INSTRUCTION_LIST,
        ("imei", "template_id"),
        commands.command_templates,
        "command_templates",
        "Command templates each device supports (`open.instruction.list`), replaced.",
        disposition="replace",
    ),
)
BY_NAME: dict[str, Endpoint] = {endpoint.name: endpoint for endpoint in ENDPOINTS}
HISTORY: tuple[str, ...] = tuple(endpoint.name for endpoint in ENDPOINTS if endpoint.history)
KEYS: dict[str, tuple[str, ...]] = {endpoint.name: endpoint.key for endpoint in ENDPOINTS}


def endpoint(name: str) -> Endpoint:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no Jimi resource {name!r}; known: {', '.join(BY_NAME)}") from None


def cadence_resources(cadence: str) -> tuple[str, ...]:
    return tuple(endpoint.name for endpoint in ENDPOINTS if endpoint.cadence == cadence)
