"""Conformance of the device, position, token and rate methods: envelopes, field types, limits, codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sim_support import NOW, TIME_RE, Sim, assert_refused

from sources.jimi.signing import format_time
from sources.jimi_sim.api.shapes import parse_shapes

LOCATION_KEYS = {
    "imei",
    "deviceName",
    "icon",
    "status",
    "posType",
    "lat",
    "lng",
    "gpsTime",
    "hbTime",
    "accStatus",
    "speed",
    "direction",
    "gpsNum",
    "gpsSignal",
    "activationFlag",
    "expireFlag",
    "electQuantity",
    "powerValue",
    "batteryPowerVal",
    "temperature",
    "trackerOil",
    "locDesc",
    "currentMileage",
}
B, E = format_time(NOW - timedelta(days=2)), format_time(NOW)


@pytest.fixture(scope="module")
def sim() -> Sim:
    return Sim()


@pytest.fixture(scope="module")
def token(sim: Sim) -> str:
    return sim.token()


def _imeis(sim: Sim, *indices: int) -> str:
    return ",".join(sim.fleet.devices[k].imei for k in indices)


def test_location_list_returns_string_typed_entries_when_target_is_account(sim: Sim, token: str) -> None:
    body = sim.call("jimi.user.device.location.list", access_token=token, target="sim_fleet")
    assert set(body) == {"code", "message", "result"} and body["code"] == 0
    entries = {entry["imei"]: entry for entry in body["result"]}
    silent = sim.fleet.devices[13].imei
    assert silent not in entries and len(entries) == 24  # no fix: silently omitted
    for entry in entries.values():
        assert set(entry) == LOCATION_KEYS
        assert type(entry["lat"]) is float or entry["lat"] == 0
        strings = LOCATION_KEYS - {"lat", "lng", "temperature", "trackerOil", "locDesc"}
        assert all(type(entry[key]) is str for key in strings)
        assert entry["accStatus"] in ("0", "1") and entry["posType"] in ("GPS", "LBS")
        assert TIME_RE.match(entry["gpsTime"]) and entry["hbTime"] >= entry["gpsTime"]
    expired = entries[sim.fleet.devices[21].imei]
    assert (expired["lat"], expired["lng"], expired["expireFlag"], expired["status"]) == (0, 0, "0", "0")
    assert entries[sim.fleet.devices[6].imei]["temperature"] is not None  # reefer
    assert entries[sim.fleet.devices[4].imei]["trackerOil"] is not None  # fuel probe
    assert entries[sim.fleet.devices[0].imei]["temperature"] is None


def test_location_list_equals_latest_visible_fix_when_late_fixes_on() -> None:
    sim = Sim(late_share=0.11)
    entries = sim.call("jimi.user.device.location.list", access_token=sim.token(), target="sim_fleet")[
        "result"
    ]
    for entry in entries[:20]:
        if entry["expireFlag"] == "0":
            continue
        point = sim.fleet.visible_points(entry["imei"], NOW - timedelta(days=8), NOW + timedelta(seconds=1))[
            -1
        ]
        assert (entry["lat"], entry["lng"], entry["gpsTime"]) == (
            point.lat,
            point.lng,
            format_time(point.gps_time),
        )


def test_location_list_refuses_1001_when_target_unknown(sim: Sim, token: str) -> None:
    body = sim.call("jimi.user.device.location.list", access_token=token, target="other")
    assert_refused(body, 1001, "The account does not exist")


def test_location_get_adds_account_when_imeis_listed(sim: Sim, token: str) -> None:
    result = sim.call("jimi.device.location.get", access_token=token, imeis=_imeis(sim, 0, 1))["result"]
    assert [e["imei"] for e in result] == [sim.fleet.devices[0].imei, sim.fleet.devices[1].imei]
    assert (result[0]["account"], result[0]["customerName"]) == ("sim_fleet", "Sim Fleet")


def test_location_get_refuses_1001_when_more_than_50_imeis() -> None:
    sim = Sim(devices=120)
    body = sim.call("jimi.device.location.get", access_token=sim.token(), imeis=_imeis(sim, *range(51)))
    assert_refused(body, 1001, "Illegal parameter: imeis lists 51 IMEIs; at most 50 are allowed per call")
    spec = Sim(devices=120, shapes=parse_shapes("imei_limit=100"))
    assert (
        spec.call("jimi.device.location.get", access_token=spec.token(), imeis=_imeis(spec, *range(100)))[
            "code"
        ]
        == 0
    )


def test_location_get_refuses_1002_when_imei_unknown(sim: Sim, token: str) -> None:
    body = sim.call("jimi.device.location.get", access_token=token, imeis="353419031939627")
    assert_refused(body, 1002, "Illegal device")


def test_device_detail_returns_object_with_vin_key_per_shape(sim: Sim, token: str) -> None:
    result = sim.call("jimi.track.device.detail", access_token=token, imei=sim.fleet.devices[2].imei)[
        "result"
    ]
    assert (
        isinstance(result, dict) and result["vin"] == sim.fleet.devices[2].car_frame and "VIN" not in result
    )
    assert (result["status"], result["enabledFlag"], result["account"]) == ("1", 1, "sim_fleet")
    assert re.fullmatch(r"\d+\.\d", result["currentMileage"]) and isinstance(result["fuel_100km"], str)
    upper = Sim(shapes=parse_shapes("vin_key=VIN"))
    assert (
        "VIN"
        in upper.call(
            "jimi.track.device.detail", access_token=upper.token(), imei=upper.fleet.devices[2].imei
        )["result"]
    )


def test_device_detail_refuses_1002_when_imei_unknown(sim: Sim, token: str) -> None:
    assert_refused(sim.call("jimi.track.device.detail", access_token=token, imei="1"), 1002, "Illegal device")


def test_group_list_returns_groups_sorted_when_account_valid(sim: Sim, token: str) -> None:
    result = sim.call("jimi.device.group.list", access_token=token, account="sim_fleet")["result"]
    assert [g["group_name"] for g in result] == ["Deliveries", "Long haul", "Sales"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", g["group_id"]) for g in result)
    assert_refused(
        sim.call("jimi.device.group.list", access_token=token, account="x"), 1100, "Business exception "
    )


def test_token_refresh_issues_new_token_when_old_one_live() -> None:
    sim = Sim()
    grant = sim.token_body()["result"]
    body = sim.call(
        "jimi.oauth.token.refresh",
        access_token=grant["accessToken"],
        refresh_token=grant["refreshToken"],
        expires_in=600,
    )
    fresh = body["result"]["accessToken"]
    assert body["code"] == 0 and fresh != grant["accessToken"] and body["result"]["expiresIn"] == 600
    assert sim.call("jimi.user.device.list", access_token=fresh, target="sim_fleet")["code"] == 0
    old = sim.call("jimi.user.device.list", access_token=grant["accessToken"], target="sim_fleet")
    assert_refused(old, 1004, "Illegal access, token is invalid")


def test_token_refresh_refuses_1004_with_fullwidth_comma_when_token_expired() -> None:
    sim = Sim()
    grant = sim.token_body(expires_in=60)["result"]
    sim.clock.advance(60)
    body = sim.call(
        "jimi.oauth.token.refresh",
        access_token=grant["accessToken"],
        refresh_token=grant["refreshToken"],
        expires_in=600,
    )
    assert_refused(body, 1004, "Illegal request\uff0ctoken is invalid")


def test_token_get_returns_string_expires_in_when_shape_string() -> None:
    sim = Sim(shapes=parse_shapes("spec"))
    assert sim.token_body(expires_in=600)["result"]["expiresIn"] == "600"


def test_track_list_serves_strings_when_shape_strings() -> None:
    sim = Sim(shapes=parse_shapes("track_types=strings"))
    point = sim.track(sim.fleet.devices[0].imei, NOW - timedelta(hours=3), NOW)["result"][0]
    assert all(type(point[key]) is str for key in ("direction", "gpsSpeed", "posType", "satellite"))


def test_track_list_repeats_and_swaps_a_few_fixes_when_quirks_on() -> None:
    exact, quirky = Sim(), Sim(duplicate_share=0.01, disorder_share=0.01)
    imei = exact.fleet.devices[0].imei
    clean = exact.track(imei, NOW - timedelta(days=7), NOW)["result"]
    served = quirky.track(imei, NOW - timedelta(days=7), NOW)["result"]
    times = [p["gpsTime"] for p in served]
    assert len(served) > len(clean) and sorted(set(times)) == [p["gpsTime"] for p in clean]
    assert times != sorted(times)
    assert quirky.track(imei, NOW - timedelta(days=7), NOW)["result"] == served  # the same every call


def test_api_refuses_1006_when_calls_per_second_exceed_limit() -> None:
    sim = Sim(max_calls_per_s=5.0)
    token = sim.token()
    codes = [
        sim.call("jimi.user.device.list", access_token=token, target="sim_fleet")["code"] for _ in range(8)
    ]
    assert codes[:4] == [0, 0, 0, 0] and 1006 in codes[4:]
