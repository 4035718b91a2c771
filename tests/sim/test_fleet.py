"""The synthetic fleet: identity, determinism, plausibility of the motion, and exact ground truth."""

from __future__ import annotations

import hashlib
import itertools
import os
import statistics
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sim_support import ROOT

from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.catalogue import IMEI_PREFIX
from sources.jimi_sim.world.clock import SimClock
from sources.jimi_sim.world.fleet import Fleet
from sources.jimi_sim.world.geo import haversine_m
from sources.jimi_sim.world.model import LOCAL_TZ, Point, day_start

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAYS = [date(2026, 11, 5) + timedelta(days=k) for k in range(14)]  # 14 local days, all before NOW
WINDOW = (day_start(DAYS[0]), day_start(DAYS[-1] + timedelta(days=1)))
NAIROBI = (-1.29, 36.82)


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet(SimSettings(now=NOW))


@pytest.fixture(scope="module")
def reporting(fleet: Fleet) -> list:
    return [device for device in fleet.devices if device.habits.reporting]


@pytest.fixture(scope="module")
def two_weeks(fleet: Fleet, reporting: list) -> dict[str, list[Point]]:
    return {device.imei: fleet.points(device.imei, *WINDOW) for device in reporting}


def _luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def test_fleet_devices_are_identical_when_built_twice_with_same_seed() -> None:
    assert Fleet(SimSettings()).devices == Fleet(SimSettings()).devices


def test_fleet_imeis_are_unique_luhn_valid_15_digits_when_2000_devices() -> None:
    imeis = [device.imei for device in Fleet(SimSettings(devices=2000)).devices]
    assert len(set(imeis)) == 2000
    assert all(len(imei) == 15 and imei.isdigit() and imei.startswith(IMEI_PREFIX) for imei in imeis)
    assert all(_luhn_ok(imei) for imei in imeis)


def test_fleet_devices_keep_identity_when_fleet_grows() -> None:
    assert Fleet(SimSettings(devices=40)).devices[:25] == Fleet(SimSettings(devices=25)).devices


def test_fleet_plates_are_unique_kenyan_format_when_2000_devices() -> None:
    plates = [device.vehicle_number for device in Fleet(SimSettings(devices=2000)).devices]
    assert len(set(plates)) == 2000
    assert all(
        len(p) == 8 and p[:2] in ("KB", "KC", "KD") and p[3] == " " and p[4:7].isdigit() for p in plates
    )


def test_fleet_has_exactly_one_silent_device_when_default_size(fleet: Fleet) -> None:
    silent = [device for device in fleet.devices if not device.habits.reporting]
    assert [device.index for device in silent] == [13, 21]  # 21 is the expired one
    assert fleet.points(silent[0].imei, *WINDOW) == []
    assert fleet.day_plan(silent[0].imei, DAYS[3]).trips == ()


def test_fleet_points_are_identical_when_days_requested_in_different_orders(reporting: list) -> None:
    forward, backward = Fleet(SimSettings(now=NOW)), Fleet(SimSettings(now=NOW))
    imei = reporting[1].imei
    ahead = [forward.day_points(imei, day) for day in DAYS]
    behind = [backward.day_points(imei, day) for day in reversed(DAYS)][::-1]
    assert ahead == behind
    assert sum(len(points) for points in ahead) > 1000


def test_fleet_points_are_identical_when_clock_differs(reporting: list) -> None:
    imei = reporting[2].imei
    later = Fleet(SimSettings(now=NOW + timedelta(days=30)))
    assert later.points(imei, *WINDOW) == Fleet(SimSettings(now=NOW)).points(imei, *WINDOW)


_DIGEST_SCRIPT = """
import hashlib, sys
from datetime import date
from sources.jimi_sim.world.fleet import Fleet
from sources.jimi_sim.settings import SimSettings
fleet = Fleet(SimSettings())
points = fleet.day_points(fleet.devices[0].imei, date(2026, 11, 9))
print(hashlib.sha256(repr(points).encode()).hexdigest())
"""


def test_fleet_points_are_identical_when_python_hash_seed_differs(fleet: Fleet) -> None:
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    local = hashlib.sha256(
        repr(fleet.day_points(fleet.devices[0].imei, date(2026, 11, 9))).encode()
    ).hexdigest()
    assert digests == {local}


def test_fleet_points_differ_when_seed_differs(reporting: list) -> None:
    imei_7, imei_8 = Fleet(SimSettings(seed=7)).devices[0].imei, Fleet(SimSettings(seed=8)).devices[0].imei
    day_7 = Fleet(SimSettings(seed=7, now=NOW)).day_points(imei_7, DAYS[2])
    day_8 = Fleet(SimSettings(seed=8, now=NOW)).day_points(imei_8, DAYS[2])
    assert imei_7 != imei_8
    assert [(p.lat, p.lng) for p in day_7] != [(p.lat, p.lng) for p in day_8]


def test_fleet_points_are_bounded_sorted_whole_seconds_when_window_given(
    fleet: Fleet, reporting: list
) -> None:
    start, end = datetime(2026, 11, 10, 7, 30, 15, tzinfo=UTC), datetime(2026, 11, 10, 9, 45, 0, tzinfo=UTC)
    for device in reporting[:5]:
        points = fleet.points(device.imei, start, end)
        times = [p.gps_time for p in points]
        assert all(start <= t < end for t in times)
        assert times == sorted(set(times))
        assert all(
            t.microsecond == 0 and t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times
        )
        assert all(round(p.lat, 6) == p.lat and round(p.lng, 6) == p.lng for p in points)


def test_fleet_points_stop_at_now_when_window_reaches_future(reporting: list) -> None:
    clock = SimClock(NOW)
    fleet = Fleet(SimSettings(now=NOW), clock=clock)
    imei = reporting[0].imei
    points = fleet.points(imei, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert points[-1].gps_time <= NOW
    clock.advance(6 * 3600)
    later = fleet.points(imei, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert later[: len(points)] == points
    assert points[-1].gps_time < later[-1].gps_time <= NOW + timedelta(hours=6)


def test_fleet_points_raise_keyerror_when_imei_unknown(fleet: Fleet) -> None:
    with pytest.raises(KeyError):
        fleet.points("000000000000000", *WINDOW)


def test_fleet_point_fields_are_plausible_when_two_weeks(two_weeks: dict[str, list[Point]]) -> None:
    points = [p for series in two_weeks.values() for p in series]
    assert len(points) > 100_000
    assert all(0.0 <= p.speed_kmh <= 130.0 and round(p.speed_kmh, 1) == p.speed_kmh for p in points)
    gps = [p for p in points if p.pos_type == 1]
    lbs = [p for p in points if p.pos_type == 2]
    assert len(gps) + len(lbs) == len(points) and 0 < len(lbs) < len(points) // 100
    assert all(0 <= p.direction <= 359 and 4 <= p.satellites <= 14 for p in gps)
    assert all((p.speed_kmh, p.satellites, p.acc) == (0.0, 0, False) for p in lbs)
    assert all(abs(p.lat - NAIROBI[0]) < 0.5 and abs(p.lng - NAIROBI[1]) < 0.5 for p in points)
    assert max(p.speed_kmh for p in points) >= 60.0


def test_fleet_implied_speeds_match_reported_when_consecutive_moving_fixes(
    two_weeks: dict[str, list[Point]],
) -> None:
    ratios, fastest = [], 0.0
    for series in two_weeks.values():
        for a, b in itertools.pairwise(series):
            seconds = (b.gps_time - a.gps_time).total_seconds()
            implied = haversine_m(a.lat, a.lng, b.lat, b.lng) / seconds * 3.6
            if a.acc and b.acc and a.speed_kmh > 10 and b.speed_kmh > 10:
                ratios.append(implied / ((a.speed_kmh + b.speed_kmh) / 2))
                fastest = max(fastest, implied)
    ratios.sort()
    assert len(ratios) > 50_000
    assert 0.97 <= statistics.median(ratios) <= 1.03
    assert ratios[len(ratios) // 20] >= 0.8 and ratios[-len(ratios) // 20] <= 1.2  # 90 % within ±20 %
    assert fastest <= 101.0  # the chord between fixes never beats the top cruise speed


def test_fleet_vehicles_are_parked_at_base_when_night(fleet: Fleet, reporting: list) -> None:
    for device in reporting:
        base_lat, base_lng = device.base_latlng
        for day in DAYS:
            night = day_start(day) + timedelta(hours=3, minutes=30)  # 03:30 EAT
            points = fleet.points(device.imei, night, night + timedelta(hours=1))
            assert points, (device.imei, day)
            assert all(p.speed_kmh == 0 and not p.acc for p in points)
            assert all(haversine_m(p.lat, p.lng, base_lat, base_lng) < 6.0 for p in points)


def test_fleet_working_days_have_trips_and_plausible_distance_when_two_weeks(
    fleet: Fleet, reporting: list
) -> None:
    working = off = 0
    for device in reporting:
        for day in DAYS:
            plan = fleet.day_plan(device.imei, day)
            if plan.day_off:
                off += 1
                assert plan.trips == () and plan.stops == ()
                continue
            working += 1
            assert len(plan.trips) >= 2
            assert 20.0 <= plan.distance_km <= 400.0
            assert all(2.0 <= trip.distance_km <= 60.0 for trip in plan.trips)
    assert working + off == len(reporting) * 14 == 23 * 14
    assert 0.6 * (working + off) <= working < working + off


def test_fleet_day_off_has_only_parked_fixes_when_weekly_rest(fleet: Fleet, reporting: list) -> None:
    rests = [(d, day) for d in reporting for day in DAYS[1:] if fleet.day_plan(d.imei, day).day_off]
    rests = [(d, day) for d, day in rests if fleet.day_plan(d.imei, day - timedelta(days=1)).day_off]
    assert rests  # some vehicles rest two days running (weekends)
    device, day = rests[0]
    points = fleet.day_points(device.imei, day)
    assert (
        24 * 3600 // device.habits.parked_interval_s - 1
        <= len(points)
        <= 24 * 3600 // device.habits.parked_interval_s
    )
    assert all(p.speed_kmh == 0 and not p.acc and p.dist_m == 0 for p in points)


def test_fleet_trip_distance_equals_haversine_sum_when_recomputed_from_points(
    fleet: Fleet, reporting: list
) -> None:
    for device in reporting[:6]:
        plan = fleet.day_plan(device.imei, DAYS[4])
        for trip in plan.trips:
            points = fleet.points(device.imei, trip.start_time, trip.end_time + timedelta(seconds=1))
            assert (points[0].gps_time, points[-1].gps_time) == (trip.start_time, trip.end_time)
            assert (points[0].lat, points[0].lng, points[-1].lat, points[-1].lng) == (
                trip.start_lat,
                trip.start_lng,
                trip.end_lat,
                trip.end_lng,
            )
            metres = sum(haversine_m(a.lat, a.lng, b.lat, b.lng) for a, b in itertools.pairwise(points))
            assert trip.distance_km == pytest.approx(sum(p.dist_m for p in points[1:]) / 1000, rel=1e-12)
            gaps = {(b.gps_time - a.gps_time).total_seconds() for a, b in itertools.pairwise(points[:-1])}
            if len(gaps) == 1:  # no tunnel: the points' chord lengths are the road distance
                assert trip.distance_km == pytest.approx(metres / 1000, rel=1e-9)
            else:  # across a tunnel the chord is shorter than the road driven
                assert metres / 1000 < trip.distance_km
            assert points[0].acc and all(p.acc for p in points[1:-1])


def test_fleet_stops_separate_trips_when_day_plan(fleet: Fleet, reporting: list) -> None:
    device = reporting[0]
    plan = fleet.day_plan(device.imei, DAYS[1])
    assert len(plan.stops) == len(plan.trips)  # one after each trip, the last is the night parking
    for trip, stop in zip(plan.trips, plan.stops, strict=True):
        assert stop.start_time == trip.end_time and (stop.lat, stop.lng) == (trip.end_lat, trip.end_lng)
    for stop, following in zip(plan.stops, plan.trips[1:], strict=False):
        assert stop.end_time == following.start_time
    night = plan.stops[-1]
    assert night.kind == "parking" and night.end_time > day_start(DAYS[2])
    for stop in plan.stops[:-1]:
        inside = fleet.points(device.imei, stop.start_time + timedelta(seconds=1), stop.end_time)
        assert all(p.speed_kmh == 0 and p.acc == (stop.kind == "idling") for p in inside)
        assert stop.kind in ("parking", "idling")


def test_fleet_trip_crosses_midnight_with_continuous_points_when_late_shift(
    fleet: Fleet, reporting: list
) -> None:
    crossings = [
        (device, trip)
        for device in reporting
        for day in DAYS
        for trip in fleet.day_plan(device.imei, day).trips
        if trip.start_time < day_start(day + timedelta(days=1)) < trip.end_time
    ]
    assert len(crossings) >= 3
    device, trip = crossings[0]
    midnight = day_start(trip.start_time.astimezone(LOCAL_TZ).date() + timedelta(days=1))
    before = fleet.day_points(device.imei, midnight.astimezone(LOCAL_TZ).date() - timedelta(days=1))
    after = fleet.day_points(device.imei, midnight.astimezone(LOCAL_TZ).date())
    last_before, first_after = before[-1], after[0]
    assert trip.start_time < last_before.gps_time < midnight <= first_after.gps_time < trip.end_time
    gap = (first_after.gps_time - last_before.gps_time).total_seconds()
    assert 0 < gap <= device.habits.moving_interval_s
    assert first_after.acc and first_after.dist_m == pytest.approx(
        haversine_m(last_before.lat, last_before.lng, first_after.lat, first_after.lng)
    )


def test_fleet_moving_fixes_follow_device_interval_when_driving(fleet: Fleet, reporting: list) -> None:
    device = reporting[3]
    for trip in fleet.day_plan(device.imei, DAYS[5]).trips:
        points = fleet.points(device.imei, trip.start_time, trip.end_time + timedelta(seconds=1))
        gaps = [(b.gps_time - a.gps_time).total_seconds() for a, b in itertools.pairwise(points)]
        regular = [gap for gap in gaps[:-1] if gap == device.habits.moving_interval_s]
        assert len(regular) >= len(gaps) - 2  # all but a tunnel's gap (a minute or more without fixes)
        assert 0 < gaps[-1] <= device.habits.moving_interval_s


def test_fleet_traffic_halts_keep_ignition_on_when_within_trip(fleet: Fleet, reporting: list) -> None:
    halted = 0
    for device in reporting[:8]:
        for trip in fleet.day_plan(device.imei, DAYS[6]).trips:
            inner = fleet.points(device.imei, trip.start_time + timedelta(seconds=1), trip.end_time)
            halted += sum(1 for p in inner if p.speed_kmh == 0)
            assert all(p.acc for p in inner)
    assert halted >= 20


def test_fleet_parked_fixes_follow_device_interval_when_night(fleet: Fleet, reporting: list) -> None:
    device = reporting[4]
    night = day_start(DAYS[7]) + timedelta(hours=1)
    points = fleet.points(device.imei, night, night + timedelta(hours=3))
    gaps = {(b.gps_time - a.gps_time).total_seconds() for a, b in itertools.pairwise(points)}
    assert gaps == {device.habits.parked_interval_s}
    assert len({(p.lat, p.lng) for p in points}) > 1  # GPS drift, not a frozen coordinate
