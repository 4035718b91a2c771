"""Position, track, mileage and parking methods (docs/jimi-api.md#positions, #reports).

All read the same fleet: location.list is the newest arrived fix per device (devices without one are
silently left out), track.list the arrived fixes of one device (with the occasional duplicate and swapped
pair), track.mileage the completed trips of the day plans, the parking report their completed stops.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from sources.jimi_sim.api.errors import ILLEGAL_DEVICE, PARAMETER_ERROR, ApiError, invalid
from sources.jimi_sim.api.params import BUSINESS_EXCEPTION, check_account, imei_list, row_window, window
from sources.jimi_sim.api.registry import Answer, MethodTable, Payload
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.api.wire.devices import customer_name
from sources.jimi_sim.api.wire.reports import distance, mileage_trip, parking_row
from sources.jimi_sim.world.catalogue import Device
from sources.jimi_sim.world.model import Trip

METHODS = MethodTable()

TRACK_MAX_SPAN = timedelta(days=7)
TRACK_RETENTION = timedelta(days=90)
_ONE_SECOND = timedelta(seconds=1)  # both window ends are inclusive on the wire; fixes are whole seconds
_ILLEGAL_DEVICE = (ILLEGAL_DEVICE, "Illegal device")
# Trips and stops that start in a window have all ended this long after it (stops last days at most), so
# later clocks give the same report: the cache key stops following the clock there.
_SETTLED = timedelta(days=14)


def _check_map_type(params: Mapping[str, str]) -> None:
    # Outside China, Google's coordinates are WGS-84: GOOGLE and the default give the same numbers.
    if params.get("map_type", "GOOGLE").upper() != "GOOGLE":
        raise invalid("map_type", "must be GOOGLE or omitted")


@METHODS.method("jimi.user.device.location.list", "target", blocking=True)
def location_list(sim: Simulator, params: Mapping[str, str]) -> Answer:
    if params["target"] != sim.settings.user_id:
        raise ApiError(PARAMETER_ERROR, "The account does not exist")
    _check_map_type(params)
    now = sim.clock.now()
    return sim.sweep.answer(_audible(sim, sim.fleet.devices, now), now)


def locations(sim: Simulator, devices: list[Device]) -> list[dict[str, object]]:
    now = sim.clock.now()
    return sim.sweep.entries(_audible(sim, devices, now), now)


def _audible(sim: Simulator, devices: list[Device], now: datetime) -> list[Device]:
    """The devices not silenced by now (`--silence`): a silenced one is left out like one without a fix."""
    if not sim.settings.silence:
        return devices
    return [d for d in devices if (at := sim.settings.silenced_at(d.imei)) is None or at > now]


@METHODS.method("jimi.device.location.get", "imeis", blocking=True)
def location_get(sim: Simulator, params: Mapping[str, str]) -> Payload:
    devices = imei_list(sim, params, "imeis", _ILLEGAL_DEVICE)
    _check_map_type(params)
    account = sim.settings.user_id
    extra = {"account": account, "customerName": customer_name(account)}
    return {"result": [{**item, **extra} for item in locations(sim, devices)]}


@METHODS.method("jimi.device.track.list", "imei", "begin_time", "end_time", blocking=True)
def track_list(sim: Simulator, params: Mapping[str, str]) -> Answer:
    imei = params["imei"].strip()
    if "," in imei:
        raise invalid("imei", "must be exactly one IMEI; this method does not take a list")
    begin, end = window(sim, params, ("begin_time", "end_time"), TRACK_MAX_SPAN, "7 days", "track data")
    device = sim.fleet.device(imei)
    if device is None:
        raise ApiError(ILLEGAL_DEVICE, f"IMEI does not exist{{{imei}}}")
    if device.expiration <= sim.clock.now():
        raise ApiError(ILLEGAL_DEVICE, f"The device has expired{{{imei}}}")
    _check_map_type(params)
    spans = sim.fleet.visible_spans(imei, begin, end + _ONE_SECOND)
    metres = sum(columns.dist_sum(first, stop) for columns, first, stop in spans)
    if spans:
        metres -= spans[0][0].dist_sum(spans[0][1], spans[0][1] + 1)  # the first fix's step lies before
    return sim.track_wire.answer(imei, spans, round(metres / 1000, 3))


@METHODS.method("jimi.device.track.mileage", "imeis", "begin_time", "end_time", blocking=True)
def track_mileage(sim: Simulator, params: Mapping[str, str]) -> Payload:
    devices = imei_list(sim, params, "imeis", _ILLEGAL_DEVICE)
    begin, end = window(sim, params, ("begin_time", "end_time"), None)
    offset, size = row_window(params, picky=False, required=False)
    now, shapes = sim.clock.now(), sim.settings.shapes

    def build() -> list:
        rows, totals = [], []
        for device in devices:
            trips = [
                t for t in sim.fleet.records.trips(device.imei, begin, end + _ONE_SECOND) if t.end_time <= now
            ]
            for trip in trips:
                idle_s, top = _trip_stats(sim, device.imei, trip)
                rows.append(mileage_trip(device.imei, trip, idle_s, top, shapes))
            totals.append(
                {"imei": device.imei, "totalMileage": distance(sum(t.distance_km for t in trips), shapes)}
            )
        return [rows, totals]

    key = ("mileage", tuple(device.imei for device in devices), begin, end, min(now, end + _SETTLED))
    rows, totals = sim.report_rows.get(key, build)
    page = rows[offset:] if size is None else rows[offset : offset + size]
    return {"result": page, "data": totals}


def _trip_stats(sim: Simulator, imei: str, trip: Trip) -> tuple[int, float]:
    """(seconds standing with the engine on, top speed) within a trip: its traffic-light halts."""
    points = sim.fleet.points(imei, trip.start_time, trip.end_time + _ONE_SECOND)
    idle = sum(
        int((b.gps_time - a.gps_time).total_seconds())
        for a, b in itertools.pairwise(points)
        if a.speed_kmh == 0 and b.speed_kmh == 0 and a.acc
    )
    return idle, max((p.speed_kmh for p in points), default=0.0)


@METHODS.method(
    "jimi.open.platform.report.parking", "account", "imeis", "start_time", "end_time", blocking=True
)
def report_parking(sim: Simulator, params: Mapping[str, str]) -> Payload:
    started = time.perf_counter()
    check_account(sim, params, "account", BUSINESS_EXCEPTION)
    devices = imei_list(sim, params, "imeis", BUSINESS_EXCEPTION)
    begin, end = window(sim, params, ("start_time", "end_time"), None)
    shapes = sim.settings.shapes
    offset, size = row_window(params, picky=shapes.parking_paging == "picky", required=True)
    kinds = _parking_kinds(shapes.parking_acc_type, params.get("acc_type"))
    now = sim.clock.now()
    rows = sim.report_rows.get(
        (
            "parking",
            tuple(device.imei for device in devices),
            begin,
            end,
            frozenset(kinds),
            min(now, end + _SETTLED),
        ),
        lambda: [
            parking_row(device, stop)
            for device in devices
            for stop in sim.fleet.records.stops(device.imei, begin, end + _ONE_SECOND)
            if stop.kind in kinds and stop.end_time is not None and stop.end_time <= now
        ],
    )
    page = rows[offset : offset + (size or len(rows))]
    elapsed_ms = str(
        int((time.perf_counter() - started) * 1000)
    )  # "server processing time" (docs/jimi-api.md#reports)
    return {"result": None, "data": {"totalTime": elapsed_ms, "dataTotalRows": str(len(rows)), "rows": page}}


def _parking_kinds(variant: str, acc_type: str | None) -> set[str]:
    """Which stops an acc_type asks for, in the variant's dialect (docs/jimi-api.md #6)."""
    if variant == "01":
        # Production doc: "0" all stops, "1" ignition-off only; anything else silently gives no rows.
        return {"0": {"parking", "idling"}, "1": {"parking"}}.get((acc_type or "").strip(), set())
    text = (acc_type or "").strip().lower()
    if text not in ("on", "off"):
        raise ApiError(
            PARAMETER_ERROR, "Parameter validation failed: acc_type must be on (idling) or off (parking)"
        )
    return {"idling"} if text == "on" else {"parking"}
