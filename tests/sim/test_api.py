"""The simulated open API: common checks, the three methods, exact wire shapes and types."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sim_support import DEVICE_LIST, NOW, TIME_RE, TOKEN_GET, TRACK_LIST, Sim, assert_refused

from sources.jimi.signing import format_time, password_md5, sign
from sources.jimi_sim.api.methods import METHODS
from sources.jimi_sim.world.model import day_start

DEVICE_KEYS = {
    "imei",
    "deviceName",
    "mcType",
    "mcTypeUseScope",
    "sim",
    "expiration",
    "activationTime",
    "reMark",
    "vehicleName",
    "vehicleIcon",
    "vehicleNumber",
    "vehicleModels",
    "carFrame",
    "driverName",
    "driverPhone",
    "enabledFlag",
    "engineNumber",
    "deviceGroupId",
    "deviceGroup",
}
POINT_TYPES = {
    "lat": float,
    "lng": float,
    "gpsTime": str,
    "direction": int,
    "gpsSpeed": int,
    "posType": int,
    "satellite": int,
    "ignition": str,
    "accStatus": str,
}


@pytest.fixture
def sim() -> Sim:
    return Sim()


# --- jimi.oauth.token.get -------------------------------------------------------------------------------


def test_token_get_returns_reference_shape_when_credentials_valid(sim: Sim) -> None:
    body = sim.token_body(expires_in=600)
    assert (body["code"], body["message"]) == (0, "success")
    result = body["result"]
    assert set(result) == {"appKey", "account", "accessToken", "expiresIn", "refreshToken", "time"}
    assert (result["appKey"], result["account"], result["time"]) == (
        "sim-app-key",
        "sim_fleet",
        "2026-11-20 12:00:00",
    )
    assert type(result["expiresIn"]) is int and result["expiresIn"] == 600
    assert re.fullmatch(r"[0-9a-f]{32}", result["accessToken"])
    assert result["refreshToken"] == result["accessToken"]


def test_token_get_refuses_1001_when_password_wrong(sim: Sim) -> None:
    assert_refused(sim.token_body(user_pwd_md5=password_md5("nope")), 1001, "Incorrect user name or password")


def test_token_get_refuses_1001_when_user_unknown(sim: Sim) -> None:
    assert_refused(sim.token_body(user_id="someone_else"), 1001, "Incorrect user name or password")


def test_token_get_refuses_1001_when_password_md5_upper_case(sim: Sim) -> None:
    body = sim.token_body(user_pwd_md5=password_md5(sim.settings.password).upper())
    assert_refused(body, 1001, "Incorrect user name or password")


@pytest.mark.parametrize("expires_in", [59, 7201, "soon"])
def test_token_get_refuses_1001_when_expires_in_out_of_range(sim: Sim, expires_in: object) -> None:
    assert_refused(sim.token_body(expires_in=expires_in), 1001, contains="expires_in")


def test_token_get_refuses_1006_when_called_again_within_interval() -> None:
    sim = Sim(token_get_min_interval_s=60.0)
    assert sim.token_body()["code"] == 0
    sim.clock.advance(59)
    assert_refused(sim.token_body(), 1006, "Illegal access, requests too frequent")
    sim.clock.advance(1)
    assert sim.token_body()["code"] == 0


def test_token_get_succeeds_when_version_0_9_without_sign(sim: Sim) -> None:
    params = sim.params(
        TOKEN_GET, user_id="sim_fleet", user_pwd_md5=password_md5("sim-password"), expires_in=60
    )
    params.update(v="0.9")
    del params["sign"]
    assert sim.post(params)["code"] == 0


def test_token_get_succeeds_when_body_is_json(sim: Sim) -> None:
    params: dict[str, object] = dict(
        sim.params(TOKEN_GET, user_id="sim_fleet", user_pwd_md5=password_md5("sim-password"), expires_in=7200)
    )
    params["expires_in"] = 7200  # a JSON number, signed as its string form "7200"
    body = sim.client.post("/route/rest", json=params).json()
    assert (body["code"], body["result"]["expiresIn"]) == (0, 7200)


# --- common parameters ------------------------------------------------------------------------------------


def test_request_refused_1001_when_signature_wrong(sim: Sim) -> None:
    params = sim.params(DEVICE_LIST, access_token=sim.token(), target="sim_fleet")
    params["target"] = "tampered"
    assert_refused(sim.post(params), 1001, "Illegal signature: sign does not match the parameters")


def test_request_refused_1001_when_signed_with_wrong_secret(sim: Sim) -> None:
    params = sim.params(DEVICE_LIST, secret="not-the-secret", access_token=sim.token(), target="sim_fleet")
    assert_refused(sim.post(params), 1001, contains="Illegal signature")


def test_request_refused_1001_when_sign_missing(sim: Sim) -> None:
    params = sim.params(DEVICE_LIST, access_token=sim.token(), target="sim_fleet")
    del params["sign"]
    assert_refused(sim.post(params), 1001, "Illegal parameter: sign is required")


def test_request_refused_1001_when_app_key_unknown(sim: Sim) -> None:
    params = sim.params(
        TOKEN_GET, user_id="sim_fleet", user_pwd_md5=password_md5("sim-password"), expires_in=60
    )
    params["app_key"] = "other-key"
    params["sign"] = sign(params, sim.settings.app_secret)
    body = sim.post(params)
    assert_refused(
        body, 1001, "Illegal parameter: app_key is invalid: no application is registered with this app_key"
    )
    assert sim.settings.app_secret not in body["message"]


@pytest.mark.parametrize("skew_minutes", [-11, 11])
def test_request_refused_1001_when_timestamp_skewed(sim: Sim, skew_minutes: int) -> None:
    params = sim.params(
        TOKEN_GET, user_id="sim_fleet", user_pwd_md5=password_md5("sim-password"), expires_in=60
    )
    params["timestamp"] = format_time(NOW + timedelta(minutes=skew_minutes))
    params["sign"] = sign(params, sim.settings.app_secret)
    assert_refused(
        sim.post(params),
        1001,
        "Illegal parameter: timestamp is out of range: it must be within "
        "10 minutes of the server time (2026-11-20 12:00:00 UTC)",
    )


@pytest.mark.parametrize("skew_minutes", [-10, 9])
def test_request_accepted_when_timestamp_within_10_minutes(sim: Sim, skew_minutes: int) -> None:
    params = sim.params(
        TOKEN_GET, user_id="sim_fleet", user_pwd_md5=password_md5("sim-password"), expires_in=60
    )
    params["timestamp"] = format_time(NOW + timedelta(minutes=skew_minutes))
    params["sign"] = sign(params, sim.settings.app_secret)
    assert sim.post(params)["code"] == 0


def test_request_refused_1001_when_timestamp_malformed(sim: Sim) -> None:
    params = sim.params(
        TOKEN_GET, user_id="sim_fleet", user_pwd_md5=password_md5("sim-password"), expires_in=60
    )
    params["timestamp"] = "2026-11-20T12:00:00Z"
    params["sign"] = sign(params, sim.settings.app_secret)
    assert_refused(
        sim.post(params), 1001, contains="timestamp must be a UTC time formatted yyyy-MM-dd HH:mm:ss"
    )


def test_request_refused_1001_when_method_unknown(sim: Sim) -> None:
    body = sim.call("jimi.device.teleport", access_token=sim.token())
    assert_refused(body, 1001, "Illegal parameter: method jimi.device.teleport not found")


@pytest.mark.parametrize("name", ["method", "timestamp", "app_key"])
def test_request_refused_1001_when_common_param_missing(sim: Sim, name: str) -> None:
    params = sim.params(
        TOKEN_GET, user_id="sim_fleet", user_pwd_md5=password_md5("sim-password"), expires_in=60
    )
    del params[name]
    params["sign"] = sign(params, sim.settings.app_secret)
    assert_refused(sim.post(params), 1001, f"Illegal parameter: {name} is required")


@pytest.mark.parametrize(
    ("method", "private", "absent"),
    [
        (DEVICE_LIST, {}, "target"),
        (TRACK_LIST, {"begin_time": "2026-11-19 00:00:00", "end_time": "2026-11-19 06:00:00"}, "imei"),
        (TRACK_LIST, {"imei": "869247069246806", "end_time": "2026-11-19 06:00:00"}, "begin_time"),
    ],
)
def test_request_refused_1001_when_private_param_missing(
    sim: Sim, method: str, private: dict, absent: str
) -> None:
    assert_refused(
        sim.call(method, access_token=sim.token(), **private),
        1001,
        f"Illegal parameter: {absent} is required",
    )


def test_request_refused_1004_when_token_missing(sim: Sim) -> None:
    assert_refused(sim.call(DEVICE_LIST, target="sim_fleet"), 1004, "Illegal access, token is invalid")


def test_request_refused_1004_when_token_unknown(sim: Sim) -> None:
    body = sim.call(DEVICE_LIST, access_token="0" * 32, target="sim_fleet")
    assert_refused(body, 1004, "Illegal access, token is invalid")


def test_request_refused_1004_when_token_expired(sim: Sim) -> None:
    token = sim.token(expires_in=60)
    sim.clock.advance(59)
    assert sim.call(DEVICE_LIST, access_token=token, target="sim_fleet")["code"] == 0
    sim.clock.advance(1)
    assert_refused(
        sim.call(DEVICE_LIST, access_token=token, target="sim_fleet"),
        1004,
        "Illegal access, token is invalid",
    )


def test_route_refuses_1007_when_http_method_is_get(sim: Sim) -> None:
    response = sim.client.get("/route/rest", params=sim.params(DEVICE_LIST, target="sim_fleet"))
    assert response.status_code == 200
    assert_refused(response.json(), 1007, "Illegal access, request method must be POST")


def test_health_answers_ok_when_get(sim: Sim) -> None:
    assert sim.client.get("/health").json() == {"status": "ok"}


def test_api_waits_configured_latency_when_method_has_one() -> None:
    sim = Sim(latency_s={DEVICE_LIST: 0.3})
    token = sim.token()
    started = time.perf_counter()
    assert sim.call(DEVICE_LIST, access_token=token, target="sim_fleet")["code"] == 0
    assert time.perf_counter() - started >= 0.3


def test_api_builds_the_answer_within_the_latency_when_building_is_slow(monkeypatch) -> None:
    """A latency of 1 s with 0.4 s of building answers after ~1 s, not 1.4 s."""
    spec = METHODS[DEVICE_LIST]

    def slow(sim, params):
        time.sleep(0.4)
        return spec.handler(sim, params)

    monkeypatch.setitem(METHODS, DEVICE_LIST, replace(spec, handler=slow, blocking=True))
    sim = Sim(latency_s={DEVICE_LIST: 1.0})
    token = sim.token()
    started = time.perf_counter()
    assert sim.call(DEVICE_LIST, access_token=token, target="sim_fleet")["code"] == 0
    assert 1.0 <= time.perf_counter() - started < 1.3


# --- jimi.user.device.list --------------------------------------------------------------------------------


def test_device_list_returns_reference_fields_and_types_when_target_is_account(sim: Sim) -> None:
    body = sim.call(DEVICE_LIST, access_token=sim.token(), target="sim_fleet")
    assert (body["code"], body["message"], len(body["result"])) == (0, "success", 25)
    for item in body["result"]:
        assert set(item) == DEVICE_KEYS
        assert type(item["enabledFlag"]) is int
        assert (
            item["vehicleModels"] is None and item["reMark"] == "" and item["mcTypeUseScope"] == "automobile"
        )
        assert TIME_RE.match(item["expiration"]) and TIME_RE.match(item["activationTime"])
        strings = DEVICE_KEYS - {"enabledFlag", "vehicleModels"}
        assert all(type(item[key]) is str for key in strings)
    assert [item["imei"] for item in body["result"]] == [device.imei for device in sim.fleet.devices]
    assert [item["enabledFlag"] for item in body["result"]] == [0 if k == 17 else 1 for k in range(25)]


def test_device_list_refuses_1001_when_target_unknown(sim: Sim) -> None:
    body = sim.call(DEVICE_LIST, access_token=sim.token(), target="nobody")
    assert_refused(body, 1001, "Account queried doesn\u2019t exist")


# --- jimi.device.track.list -------------------------------------------------------------------------------


def _busy_imei(sim: Sim) -> str:
    return next(device.imei for device in sim.fleet.devices if device.habits.reporting)


def test_track_list_returns_points_with_reference_types_when_window_valid(sim: Sim) -> None:
    imei = _busy_imei(sim)
    body = sim.track(imei, NOW - timedelta(days=7), NOW)
    assert (body["code"], body["message"]) == (0, "success")
    assert set(body["data"]) == {"mileage"} and type(body["data"]["mileage"]) is float
    points = body["result"]
    assert len(points) > 1000
    for point in points:
        assert {key: type(value) for key, value in point.items()} == POINT_TYPES
        assert point["ignition"] in ("ON", "OFF") and point["accStatus"] == point["ignition"]
        gps = point["posType"] == 1
        assert gps or (point["posType"], point["gpsSpeed"], point["satellite"]) == (2, -1, 0)
        assert (not gps or 0 <= point["gpsSpeed"] <= 130) and 0 <= point["direction"] <= 359
        assert TIME_RE.match(point["gpsTime"])
    times = [point["gpsTime"] for point in points]
    assert times == sorted(set(times))
    assert format_time(NOW - timedelta(days=7)) <= times[0] and times[-1] <= format_time(NOW)


def test_track_list_matches_fleet_points_when_same_window(sim: Sim) -> None:
    imei = _busy_imei(sim)
    begin, end = datetime(2026, 11, 18, 4, 0, tzinfo=UTC), datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    wire = sim.track(imei, begin, end)["result"]
    truth = sim.fleet.points(imei, begin, end + timedelta(seconds=1))
    assert len(wire) == len(truth) > 100
    for item, point in zip(wire, truth, strict=True):
        assert (item["lat"], item["lng"], item["gpsTime"]) == (
            point.lat,
            point.lng,
            format_time(point.gps_time),
        )
        speed = int(point.speed_kmh + 0.5) if point.pos_type == 1 else -1
        assert item["gpsSpeed"] == speed and item["direction"] == point.direction
        assert item["ignition"] == ("ON" if point.acc else "OFF") and item["satellite"] == point.satellites


def test_track_list_includes_both_ends_when_fixes_fall_on_them(sim: Sim) -> None:
    imei = _busy_imei(sim)
    trip = sim.fleet.day_plan(imei, date(2026, 11, 17)).trips[1]
    points = sim.track(imei, trip.start_time, trip.end_time)["result"]
    assert (points[0]["gpsTime"], points[-1]["gpsTime"]) == (
        format_time(trip.start_time),
        format_time(trip.end_time),
    )


def test_track_list_mileage_equals_trip_distance_when_window_is_one_trip(sim: Sim) -> None:
    imei = _busy_imei(sim)
    trip = sim.fleet.day_plan(imei, date(2026, 11, 17)).trips[2]
    body = sim.track(imei, trip.start_time, trip.end_time)
    assert body["data"]["mileage"] == round(trip.distance_km, 3)
    assert body["data"]["mileage"] > 2.0


def test_track_list_returns_empty_result_when_device_never_reports(sim: Sim) -> None:
    silent = sim.fleet.devices[13]
    body = sim.track(silent.imei, NOW - timedelta(days=2), NOW)
    assert (body["code"], body["result"], body["data"]) == (0, [], {"mileage": 0.0})


def test_track_list_truncates_at_now_when_end_within_skew(sim: Sim) -> None:
    imei = _busy_imei(sim)
    points = sim.track(imei, NOW - timedelta(hours=6), NOW + timedelta(minutes=9))["result"]
    assert points and points[-1]["gpsTime"] <= format_time(NOW)


def test_track_list_accepts_exactly_7_days_when_span_at_limit(sim: Sim) -> None:
    assert sim.track(_busy_imei(sim), NOW - timedelta(days=7), NOW)["code"] == 0


def test_track_list_refuses_1001_when_span_exceeds_7_days(sim: Sim) -> None:
    body = sim.track(_busy_imei(sim), NOW - timedelta(days=7, seconds=1), NOW)
    assert_refused(
        body, 1001, "Illegal parameter: end_time is too far from begin_time: the time span exceeds 7 days"
    )


def test_track_list_refuses_1001_when_begin_older_than_3_months(sim: Sim) -> None:
    begin = NOW - timedelta(days=90, seconds=1)
    body = sim.track(_busy_imei(sim), begin, begin + timedelta(days=1))
    assert_refused(
        body, 1001, "Illegal parameter: begin_time is too old: track data is kept for 3 months only"
    )


def test_track_list_refuses_1001_when_imei_has_comma(sim: Sim) -> None:
    imeis = ",".join(device.imei for device in sim.fleet.devices[:2])
    body = sim.track(imeis, NOW - timedelta(hours=1), NOW)
    assert_refused(
        body, 1001, "Illegal parameter: imei must be exactly one IMEI; this method does not take a list"
    )


def test_track_list_refuses_1002_when_imei_unknown(sim: Sim) -> None:
    body = sim.track("353419031939627", NOW - timedelta(hours=1), NOW)
    assert_refused(body, 1002, "IMEI does not exist{353419031939627}")


def test_track_list_refuses_1002_when_device_expired() -> None:
    sim = Sim(now=datetime(2040, 1, 1, tzinfo=UTC))
    imei = _busy_imei(sim)
    body = sim.track(imei, datetime(2039, 12, 31, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
    assert_refused(body, 1002, f"The device has expired{{{imei}}}")


def test_track_list_refuses_1001_when_end_after_now(sim: Sim) -> None:
    body = sim.track(_busy_imei(sim), NOW - timedelta(hours=1), NOW + timedelta(minutes=11))
    assert_refused(
        body,
        1001,
        "Illegal parameter: end_time must not be later than the current time (2026-11-20 12:00:00 UTC)",
    )


def test_track_list_refuses_1001_when_begin_not_before_end(sim: Sim) -> None:
    body = sim.track(_busy_imei(sim), NOW - timedelta(hours=1), NOW - timedelta(hours=1))
    assert_refused(body, 1001, "Illegal parameter: begin_time must be earlier than end_time")


def test_track_list_refuses_1001_when_time_malformed(sim: Sim) -> None:
    body = sim.call(
        TRACK_LIST,
        access_token=sim.token(),
        imei=_busy_imei(sim),
        begin_time="yesterday",
        end_time=format_time(NOW),
    )
    assert_refused(
        body, 1001, "Illegal parameter: begin_time must be a UTC time formatted yyyy-MM-dd HH:mm:ss"
    )


def test_track_list_points_cover_whole_night_when_window_spans_days(sim: Sim) -> None:
    imei = _busy_imei(sim)
    begin = day_start(date(2026, 11, 16))
    points = sim.track(imei, begin, begin + timedelta(days=2))["result"]
    gaps = [
        (datetime.fromisoformat(b["gpsTime"]) - datetime.fromisoformat(a["gpsTime"])).total_seconds()
        for a, b in itertools.pairwise(points)
    ]
    assert max(gaps) <= 900 + 60  # parked fixes every 5-15 min keep coming across midnight
