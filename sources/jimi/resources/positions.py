"""Positions: the fleet sweep (`live_locations`), GPS trails (`track_points`) and TAG/beacon fixes.

| resource | method | key | cursor |
|---|---|---|---|
| `live_locations` | `user.device.location.list` (every device's newest fix) | imei + gps_time | none: a history of sweeps |
| `track_points` | `device.track.list` (one IMEI, at most 7 days per call) | imei + gps_time | per device |
| `tag_locations` | `device.location.getTagMsg` (per TAG device) | imei + gps_time | none: a history of newest fixes |

The shapes below map each answer's API fields to our columns (see `decode.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import dlt
import pyarrow as pa

from .. import settings
from ..decode import Shape, decode
from ..errors import JimiDeviceError
from ..fields import epoch_or_text, known, on, pos_type, tag_pos_type
from ..paging import describe
from ..windows import DeviceProgress, window_tasks

if TYPE_CHECKING:
    from ..registry import Endpoint
    from ..run import SourceRun

log = logging.getLogger(__name__)

TRACK_POINTS = Shape(
    method=settings.TRACK_LIST,
    path=("result",),
    fields={
        "gpsTime": "TIMESTAMP",
        "lat": "DOUBLE",
        "lng": "DOUBLE",
        "gpsSpeed": "DOUBLE",
        "direction": "DOUBLE",
        "posType": "VARCHAR",
        "satellite": "DOUBLE",
        "ignition": "VARCHAR",
        "accStatus": "VARCHAR",
        "altitude": "DOUBLE",
    },
    select=f"""
        r.gpsTime as gps_time,
        r.lat as lat,
        r.lng as lng,
        {known("r.gpsSpeed")} as speed_kmh,
        {known("r.direction")} as direction_deg,
        {pos_type("r.posType")} as pos_type,
        r.satellite::smallint as satellites,
        {on("r.accStatus")} as acc_on,
        {on("r.ignition")} as ignition_on,
        r.altitude as altitude_m
    """,
    keys=("imei", "gps_time"),
    key_column="imei",
)

LIVE_LOCATIONS = Shape(
    method=settings.LOCATION_LIST,
    path=("result",),
    fields={
        "imei": "VARCHAR",
        "deviceName": "VARCHAR",
        "status": "VARCHAR",
        "posType": "VARCHAR",
        "lat": "DOUBLE",
        "lng": "DOUBLE",
        "gpsTime": "TIMESTAMP",
        "hbTime": "TIMESTAMP",
        "accStatus": "VARCHAR",
        "speed": "DOUBLE",
        "direction": "DOUBLE",
        "gpsNum": "DOUBLE",
        "gpsSignal": "DOUBLE",
        "activationFlag": "VARCHAR",
        "expireFlag": "VARCHAR",
        "electQuantity": "DOUBLE",
        "elecQuantity": "DOUBLE",
        "powerValue": "DOUBLE",
        "batteryPowerVal": "DOUBLE",
        "temperature": "DOUBLE",
        "trackerOil": "DOUBLE",
        "locDesc": "VARCHAR",
        "currentMileage": "DOUBLE",
    },
    select=f"""
        r.imei as imei,
        r.gpsTime as gps_time,
        r.hbTime as heartbeat_time,
        r.lat as lat,
        r.lng as lng,
        {known("r.speed")} as speed_kmh,
        {known("r.direction")} as direction_deg,
        {on("r.accStatus")} as acc_on,
        r.status = '1' as is_online,
        {pos_type("r.posType")} as pos_type,
        r.gpsNum::smallint as satellites,
        r.gpsSignal::smallint as gsm_signal_level,
        coalesce(r.electQuantity, r.elecQuantity) as battery_pct,
        r.powerValue as external_power_raw,
        r.batteryPowerVal as battery_power_raw,
        r.temperature as temperature_c,
        r.trackerOil as tracker_oil_raw,
        r.currentMileage as odometer_km,
        r.expireFlag = '0' as is_expired,
        r.activationFlag = '1' as is_activated,
        r.locDesc as location_desc,
        r.deviceName as device_name
    """,
    # Expired devices report lat/lng 0 and no fix time: not a position.
    where="r.imei is not null and r.gpsTime is not null and not (r.lat = 0 and r.lng = 0)",
    keys=("imei", "gps_time"),
)

TAG_LOCATIONS = Shape(
    method=settings.TAG_LOCATION,
    path=("result",),
    fields={
        "lng": "DOUBLE",
        "lat": "DOUBLE",
        "gpsTime": "VARCHAR",
        "directions": "DOUBLE",
        "gpsSpeed": "DOUBLE",
        "positionType": "VARCHAR",
        "gpsNum": "DOUBLE",
    },
    select=f"""
        {epoch_or_text("r.gpsTime")} as gps_time,
        r.lat as lat,
        r.lng as lng,
        {known("r.gpsSpeed")} as speed_kmh,
        {known("r.directions")} as direction_deg,
        {tag_pos_type("r.positionType")} as pos_type,
        r.gpsNum::smallint as satellites
    """,
    keys=("imei", "gps_time"),
    key_column="imei",
)


def live_locations(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    """One fleet sweep: every device's newest fix, in one call."""
    with run.client.stats.window(endpoint.name, endpoint.method) as tally:
        table = run.client.call(
            endpoint.method,
            {"target": run.account},
            f"account {run.account}",
            decode=partial(decode, LIVE_LOCATIONS),
        )
        tally.add_rows(table.num_rows)
    yield table


def fetch_track(client, imei: str, begin: datetime, end: datetime) -> pa.Table:
    """`track.list`: one IMEI, at most 7 days (the caller splits), no paging."""
    return client.call(
        settings.TRACK_LIST,
        {"imei": imei, "begin_time": begin, "end_time": end},
        describe([imei], begin, end),
        decode=partial(decode, TRACK_POINTS, key=imei),
    )


def track_points(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    """Each device's trail from its own cursor, one task per device and 7-day window (windows.py says why),
    a device's cursor moving once all its windows were read. A device the API refuses mid-run (it left the
    account or expired) is skipped with a warning; the fleet still loads and its cursor stays."""
    window = run.window
    cursors = {} if window.bounded else dlt.current.resource_state().setdefault("polled_until", {})
    lookback = run.lookback(endpoint)
    plans = {
        imei: window.range_for(cursors.get(imei), lookback, settings.TRACK_RETENTION)
        for imei in run.pollable_imeis()
    }
    assert endpoint.span is not None
    tasks = window_tasks({imei: plan for imei, plan in plans.items() if plan[0] < plan[1]}, endpoint.span)
    progress = DeviceProgress(tasks)

    def fetch(imei: str, lo: datetime, hi: datetime) -> pa.Table | None:
        if progress.skipped(imei):
            return None
        try:
            with run.client.stats.window(endpoint.name, endpoint.method, lo, hi, [imei]) as tally:
                table = fetch_track(run.client, imei, lo, hi)
                tally.add_rows(table.num_rows)
            return table
        except JimiDeviceError as exc:
            log.warning("skipping device: %s", exc)
            progress.skip(imei)
            return None

    for (imei, _, _), table in run.concurrently(tasks, fetch):
        if table is not None and table.num_rows:
            yield table
        if progress.consumed(imei) and not window.bounded:
            cursors[imei] = window.advance(cursors.get(imei), plans[imei][1])


def tag_locations(run: SourceRun, endpoint: Endpoint) -> Iterator[pa.Table]:
    """The newest fix of every TAG device (found by model: the `tag_models` setting)."""
    from .commands import per_device

    tags = {model.upper() for model in run.tag_models}
    if not tags:
        log.info("tag_locations: no tag_models configured, so no device is polled as a TAG")
    yield from per_device(
        run, endpoint, TAG_LOCATIONS, run.imeis_of_models(lambda model: model in tags) if tags else []
    )
