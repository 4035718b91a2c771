"""Conformance of the report methods (mileage, parking, alarms, OBD): envelopes, types, paging, shapes, codes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sim_support import NOW, TIME_RE, Sim, assert_refused

from sources.jimi.signing import format_time
from sources.jimi_sim.api.rowcache import RowCache
from sources.jimi_sim.api.shapes import parse_shapes
from sources.jimi_sim.api.wire.reports import obd_time

B, E = format_time(NOW - timedelta(days=2)), format_time(NOW)


@pytest.fixture(scope="module")
def sim() -> Sim:
    return Sim()


@pytest.fixture(scope="module")
def token(sim: Sim) -> str:
    return sim.token()


def _imeis(sim: Sim, *indices: int) -> str:
    return ",".join(sim.fleet.devices[k].imei for k in indices)


def test_mileage_returns_completed_trips_and_totals_in_km_when_default(sim: Sim, token: str) -> None:
    body = sim.call(
        "jimi.device.track.mileage", access_token=token, imeis=_imeis(sim, 0, 1), begin_time=B, end_time=E
    )
    assert set(body) == {"code", "message", "result", "data"}
    trips = sim.fleet.records.trips(
        sim.fleet.devices[0].imei, NOW - timedelta(days=2), NOW + timedelta(seconds=1)
    )
    done = [t for t in trips if t.end_time <= NOW]
    rows = [row for row in body["result"] if row["imei"] == sim.fleet.devices[0].imei]
    assert [row["startTime"] for row in rows] == [format_time(t.start_time) for t in done]
    assert [row["distance"] for row in rows] == [round(t.distance_km, 3) for t in done]
    row = rows[0]
    assert (
        type(row["startLat"]) is float and type(row["runTimeSecond"]) is int and type(row["maxSpeed"]) is int
    )
    assert row["runTimeSecond"] == int((done[0].end_time - done[0].start_time).total_seconds())
    assert body["data"][0] == {
        "imei": sim.fleet.devices[0].imei,
        "totalMileage": round(sum(t.distance_km for t in done), 3),
    }


def test_mileage_uses_metres_and_elapsed_when_shapes_say_so() -> None:
    sim = Sim(shapes=parse_shapes("mileage_unit=m,mileage_duration_key=elapsed"))
    other = Sim()
    km = other.call(
        "jimi.device.track.mileage",
        access_token=other.token(),
        imeis=_imeis(sim, 0),
        begin_time=B,
        end_time=E,
    )
    body = sim.call(
        "jimi.device.track.mileage", access_token=sim.token(), imeis=_imeis(sim, 0), begin_time=B, end_time=E
    )
    assert "elapsed" in body["result"][0] and "runTimeSecond" not in body["result"][0]
    assert body["result"][0]["distance"] == pytest.approx(km["result"][0]["distance"] * 1000, abs=0.1)


def test_mileage_pages_with_start_row_when_page_size_given(sim: Sim, token: str) -> None:
    whole = sim.call(
        "jimi.device.track.mileage", access_token=token, imeis=_imeis(sim, 0), begin_time=B, end_time=E
    )["result"]
    page = sim.call(
        "jimi.device.track.mileage",
        access_token=token,
        imeis=_imeis(sim, 0),
        begin_time=B,
        end_time=E,
        start_row=3,
        page_size=2,
    )
    assert page["result"] == whole[2:4]


def _parking(sim: Sim, token: str, **extra: object) -> dict:
    params = {
        "account": "sim_fleet",
        "imeis": _imeis(sim, 0),
        "start_time": B,
        "end_time": E,
        "start_row": 1,
        "page_size": 50,
    }
    return sim.call("jimi.open.platform.report.parking", access_token=token, **{**params, **extra})


def test_parking_returns_iso_rows_in_data_when_acc_type_off(sim: Sim, token: str) -> None:
    body = _parking(sim, token, acc_type="off")
    assert body["result"] is None and set(body["data"]) == {"totalTime", "dataTotalRows", "rows"}
    rows = body["data"]["rows"]
    stops = [
        s
        for s in sim.fleet.records.stops(
            sim.fleet.devices[0].imei, NOW - timedelta(days=2), NOW + timedelta(seconds=1)
        )
        if s.kind == "parking" and s.end_time is not None and s.end_time <= NOW
    ]
    assert body["data"]["dataTotalRows"] == str(len(stops)) == str(len(rows))
    assert rows[0]["startTime"] == format_time(stops[0].start_time).replace(" ", "T") + ".000Z"
    assert (
        rows[0]["durSecond"]
        == rows[0]["stopSecond"]
        == str(int((stops[0].end_time - stops[0].start_time).total_seconds()))
    )
    assert all(row["acc"] == "off" and type(row["lat"]) is float for row in rows)


def test_parking_returns_idling_rows_when_acc_type_on(sim: Sim, token: str) -> None:
    rows = _parking(sim, token, acc_type="on")["data"]["rows"]
    assert rows and all(row["acc"] == "on" for row in rows)


def test_parking_refuses_1001_when_page_size_100_and_paging_picky(sim: Sim, token: str) -> None:
    assert_refused(_parking(sim, token, acc_type="off", page_size=100), 1001, "Parameter validation failed")
    assert_refused(_parking(sim, token, acc_type="off", start_row=2), 1001, "Parameter validation failed")
    lenient = Sim(shapes=parse_shapes("parking_paging=lenient"))
    assert _parking(lenient, lenient.token(), acc_type="off", page_size=100)["code"] == 0


def test_parking_answers_by_01_dialect_when_shape_01() -> None:
    sim = Sim(shapes=parse_shapes("parking_acc_type=01"))
    token = sim.token()
    every = _parking(sim, token, acc_type="0")["data"]["rows"]
    parking = _parking(sim, token, acc_type="1")["data"]["rows"]
    assert {row["acc"] for row in every} == {"on", "off"} and {row["acc"] for row in parking} == {"off"}
    assert _parking(sim, token, acc_type="off")["data"]["rows"] == []  # the other dialect: silently nothing
    assert _parking(sim, token, acc_type="on")["data"]["rows"] == []  # nor the spec's words
    default = Sim()
    assert_refused(_parking(default, default.token(), acc_type="0"), 1001, contains="acc_type must be on")


def test_parking_refuses_1100_when_account_wrong(sim: Sim, token: str) -> None:
    assert_refused(_parking(sim, token, acc_type="off", account="x"), 1100, "Business exception ")


def test_alarm_list_returns_newest_first_with_live_keys_when_window_given(sim: Sim, token: str) -> None:
    result = sim.call(
        "jimi.device.alarm.list",
        access_token=token,
        imeis=_imeis(sim, *range(10)),
        begin_time=B,
        end_time=E,
        page_size=100,
    )["result"]
    assert len(result) == 100 and [r["alertTime"] for r in result] == sorted(
        (r["alertTime"] for r in result), reverse=True
    )
    row = result[0]
    assert set(row) == {
        "deviceName",
        "imei",
        "model",
        "account",
        "alertTypeId",
        "alarmTypeName",
        "alertTime",
        "positioningTime",
        "lat",
        "lng",
        "speed",
        "geoid",
    }
    assert type(row["speed"]) is str and type(row["alertTypeId"]) is str and type(row["lat"]) is float
    fences = [r for r in result if r["alertTypeId"] in ("in", "out")]
    assert fences and all(r["alarmTypeName"].startswith("Depot ") and len(r["geoid"]) == 32 for r in fences)


def test_alarm_list_caps_at_1000_rows_when_paging_past_it() -> None:
    sim = Sim()
    token = sim.token()
    begin = format_time(NOW - timedelta(days=12))
    pages = [
        sim.call(
            "jimi.device.alarm.list",
            access_token=token,
            imeis=_imeis(sim, *range(12)),
            begin_time=begin,
            end_time=E,
            page_no=n,
            page_size=100,
        )["result"]
        for n in range(1, 13)
    ]
    assert [len(page) for page in pages] == [100] * 10 + [0, 0]


def test_alarm_list_refuses_1001_when_window_over_a_month_or_page_size_over_100(sim: Sim, token: str) -> None:
    long = sim.call(
        "jimi.device.alarm.list",
        access_token=token,
        imei=sim.fleet.devices[0].imei,
        begin_time=format_time(NOW - timedelta(days=32)),
        end_time=E,
    )
    assert_refused(
        long, 1001, "Illegal parameter: end_time is too far from begin_time: the time span exceeds one month"
    )
    big = sim.call(
        "jimi.device.alarm.list", access_token=token, imei=sim.fleet.devices[0].imei, page_size=500
    )
    assert_refused(big, 1001, "Illegal parameter: page_size must be between 1 and 100")


def test_alarm_list_defaults_to_last_50_of_month_when_no_window(sim: Sim, token: str) -> None:
    result = sim.call("jimi.device.alarm.list", access_token=token, imeis=_imeis(sim, 0, 1))["result"]
    assert len(result) == 50 and result[-1]["alertTime"] >= format_time(NOW - timedelta(days=31))


def test_alarm_list_uses_alert_type_name_when_shape_spec() -> None:
    sim = Sim(shapes=parse_shapes("spec"))
    row = sim.call("jimi.device.alarm.list", access_token=sim.token(), imei=sim.fleet.devices[0].imei)[
        "result"
    ][0]
    assert "alertTypeName" in row and "alarmTypeName" not in row


def _alarm_keys(page: list[dict]) -> list[tuple[str, str, str]]:
    return [(row["imei"], row["alertTime"], row["alertTypeId"]) for row in page]


def test_alarm_list_answers_100_rows_to_page_size_500_and_ignores_page_when_paging_lenient() -> None:
    sim = Sim(shapes=parse_shapes("alarm_paging=lenient"))
    token, imeis, begin = sim.token(), _imeis(sim, *range(12)), NOW - timedelta(days=9)

    def answer(**paging: object) -> dict:
        return sim.call(
            "jimi.device.alarm.list",
            access_token=token,
            imeis=imeis,
            begin_time=format_time(begin),
            end_time=E,
            **paging,
        )

    found = [
        (alarm.epoch, device.imei, alarm.type_id)
        for device in sim.fleet.devices[:12]
        for alarm in sim.fleet.records.alarms(device.imei, begin, NOW + timedelta(seconds=1))
    ]
    found.sort(key=lambda row: (-row[0], row[1]))
    assert len(found) > 1000
    # the answer is capped at 1000 rows, newest first
    newest = [
        (imei, format_time(datetime.fromtimestamp(epoch, UTC)), kind) for epoch, imei, kind in found[:1000]
    ]
    first = answer(page_size=500)["result"]
    assert _alarm_keys(first) == newest[:100]
    for n in (1, 2, 7):  # the production client's `page` is unknown to the API: the first page every time
        assert answer(page=n, page_size=500)["result"] == first
    # page_no, the documented name, still pages, in pages of the 100 rows answered
    pages = [_alarm_keys(answer(page_no=n, page_size=500)["result"]) for n in range(1, 12)]
    assert [len(rows) for rows in pages] == [100] * 10 + [0]
    assert [row for rows in pages for row in rows] == newest
    assert_refused(answer(page_size=1001), 1001, "Illegal parameter: page_size must be between 1 and 1000")


def test_alarm_list_refuses_page_size_500_in_both_presets_when_paging_strict() -> None:
    for shapes in ("production", "spec"):
        sim = Sim(shapes=parse_shapes(shapes))
        assert sim.settings.shapes.alarm_paging == "strict"
        big = sim.call(
            "jimi.device.alarm.list", access_token=sim.token(), imeis=_imeis(sim, 0, 1), page=1, page_size=500
        )
        assert_refused(big, 1001, "Illegal parameter: page_size must be between 1 and 100")


def _obd(sim: Sim, method: str, **extra: object) -> dict:
    params = {"account": "sim_fleet", "imeis": _imeis(sim, 2, 9, 16), "start_time": B, "end_time": E}
    return sim.call(method, access_token=sim.token(), **{**params, **extra})


def test_obd_list_returns_zeroed_paging_and_unpadded_times_when_default() -> None:
    sim = Sim()
    body = _obd(sim, "jimi.device.obd.list", page_size=100)
    assert set(body) == {"code", "message", "data"}  # no top-level result in the example
    data = body["data"]
    assert (data["currentPage"], data["pageSize"], data["startRow"], data["endRow"], data["totalPage"]) == (
        1,
        100,
        0,
        0,
        0,
    )
    assert data["totalRecord"] > 100 and len(data["result"]) == 100
    row = data["result"][0]
    assert (
        all(type(v) is str for k, v in row.items() if k != "remainingFuel") and row["remainingFuel"] is None
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2}", row["dataReportTime"])
    assert not any(re.search(r" 0\d:", r["dataReportTime"]) for r in data["result"])  # never a padded hour
    assert obd_time(1715218043, sim.settings.shapes) == "2024-05-09 1:27:23"  # the spec example's instant


def test_obd_list_computes_paging_when_shape_computed() -> None:
    sim = Sim(shapes=parse_shapes("obd_paging=computed,obd_time=padded"))
    data = _obd(sim, "jimi.device.obd.list", page_no=2, page_size=10)["data"]
    assert (data["startRow"], data["endRow"], data["totalPage"]) == (11, 20, -(-data["totalRecord"] // 10))
    assert all(TIME_RE.match(r["dataReportTime"]) for r in data["result"])


def test_obd_fault_returns_null_result_and_dtcs_when_month_window() -> None:
    sim = Sim()
    body = _obd(sim, "jimi.device.obd.fault", start_time=format_time(NOW - timedelta(days=31)))
    assert body["result"] is None and body["data"]["totalRecord"] >= 1
    row = body["data"]["result"][0]
    assert set(row) == {"imei", "deviceName", "faultCode", "faultDetail", "eventTime"}
    assert re.fullmatch(r"[PBCU]\d{4}", row["faultCode"])


def test_obd_list_refuses_1001_when_span_over_31_days() -> None:
    sim = Sim()
    body = _obd(sim, "jimi.device.obd.list", start_time=format_time(NOW - timedelta(days=32)))
    assert_refused(
        body, 1001, "Illegal parameter: end_time is too far from start_time: the time span exceeds 31 days"
    )


def test_paged_reports_build_rows_once_and_follow_the_clock_when_read_page_by_page() -> None:
    sim = Sim()
    pages = [
        _obd(sim, "jimi.device.obd.list", page_no=page, page_size=10)["data"]["result"] for page in (1, 2, 3)
    ]
    assert len(sim.app.state.sim.report_rows._rows) == 1  # one query, three pages: its rows were built once
    full = _obd(sim, "jimi.device.obd.list", page_size=30)["data"]["result"]
    assert pages[0] + pages[1] + pages[2] == full
    # A window reaching up to now: a later clock is another query, so trips completed since then appear.
    imeis = [device.imei for device in sim.fleet.devices]

    def completed() -> int:
        now = sim.clock.now()
        return sum(
            1
            for imei in imeis
            for trip in sim.fleet.records.trips(imei, NOW - timedelta(days=2), NOW + timedelta(seconds=1))
            if trip.end_time <= now
        )

    def mileage() -> list:
        return sim.call(
            "jimi.device.track.mileage",
            access_token=sim.token(),
            imeis=",".join(imeis),
            begin_time=B,
            end_time=E,
        )["result"]

    before, expected_before = mileage(), completed()
    sim.clock.advance(6 * 3600)
    later, expected_later = mileage(), completed()
    assert (len(before), len(later)) == (expected_before, expected_later)
    assert expected_later > expected_before  # some trip was under way at NOW


def test_row_cache_keeps_the_newest_queries_when_full() -> None:
    cache = RowCache(size=2)
    built: list[str] = []
    for key in ("a", "b", "a", "c", "b"):
        cache.get(key, lambda key=key: built.append(key) or [key])
    assert built == ["a", "b", "c", "b"]  # "a" reused; "b" dropped when "c" came, built again
