"""Conformance of the media, platform geofence, TAG and command methods: envelopes, types, paging, codes,
both wire shapes, and consistency with the fleet (fence alarms, alarm clips, visits)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sim_support import NOW, TIME_RE, Sim, assert_refused

from sources.jimi.signing import format_time
from sources.jimi_sim.api.shapes import parse_shapes
from sources.jimi_sim.world.fences import fence_book, visits
from sources.jimi_sim.world.media import EVENT_TYPES, device_media

B, E = format_time(NOW - timedelta(days=2)), format_time(NOW)
DOC = parse_shapes("media_wire=doc,tag_wire=doc,instruction_flags=booleans,fence_total_type=string")
DASHCAM, TAG, PLAIN = 8, 3, 0


@pytest.fixture(scope="module")
def sim() -> Sim:
    return Sim()


@pytest.fixture(scope="module")
def doc() -> Sim:
    return Sim(shapes=DOC)


def _imei(sim: Sim, index: int) -> str:
    return sim.fleet.devices[index].imei


def _media(sim: Sim, index: int, **params: object) -> dict:
    base = {"imei": _imei(sim, index), "camera": 1, "media_type": 2, "start_time": B, "end_time": E}
    return sim.call("jimi.device.jimi.media.URL", access_token=sim.token(), **{**base, **params})


def test_media_url_lists_front_videos_newest_first_as_spec_types_them(sim: Sim) -> None:
    body = _media(sim, DASHCAM, page_size=1000)
    rows = body["result"]
    files = device_media(
        sim.fleet, sim.fleet.devices[DASHCAM], NOW - timedelta(days=2), NOW + timedelta(seconds=1)
    )
    expected = [f for f in files if f.camera == 1 and f.media_type == 2]
    assert set(body) == {"code", "message", "result"} and len(rows) == len(expected) > 5
    assert [row["create_time"] for row in rows] == sorted((f.created for f in expected), reverse=True)
    for row in rows:
        assert set(row) == {
            "thumb_URL",
            "file_URL",
            "create_time",
            "mime_type",
            "media_type",
            "alarm_time",
            "camera",
            "file_size",
        }
        assert (
            type(row["create_time"]) is int
            and type(row["alarm_time"]) is int
            and type(row["file_size"]) is str
        )
        assert (row["camera"], row["media_type"], row["mime_type"]) == (0, 2, "video/mp4")


def test_media_url_pages_zero_based_without_overlap(sim: Sim) -> None:
    everything = [
        row["file_URL"] for row in _media(sim, DASHCAM, camera=3, media_type=3, page_size=1000)["result"]
    ]
    paged = []
    for page_no in range(100):
        page = _media(sim, DASHCAM, camera=3, media_type=3, page_no=page_no, page_size=7)["result"]
        paged += [row["file_URL"] for row in page]
        if len(page) < 7:
            break
    assert paged == everything and len(set(everything)) == len(everything) > 14
    assert (
        _media(sim, DASHCAM, camera=3, media_type=3)["result"]
        == _media(sim, DASHCAM, camera=3, media_type=3, page_size=1000)["result"][:10]
    )


def test_media_url_uses_jimi_api_md_types_when_doc_shape(doc: Sim) -> None:
    rows = _media(doc, DASHCAM, media_type="photo", page_size=1000)["result"]
    assert rows
    for row in rows:
        assert set(row) == {"thumb_URL", "file_URL", "create_time", "mime_type", "camera", "file_size"}
        assert TIME_RE.match(row["create_time"]) and type(row["file_size"]) is int
        assert (row["camera"], row["mime_type"]) == (1, "image/jpeg")


def test_media_url_refuses_bad_parameters_with_documented_codes(sim: Sim) -> None:
    assert_refused(_media(sim, DASHCAM, camera=4), 1001, contains="camera")
    assert_refused(_media(sim, DASHCAM, media_type="audio"), 1001, contains="media_type")
    assert_refused(_media(sim, DASHCAM, imei="869247060000000"), 1002, "imei doesn\u2019t exists")
    assert _media(sim, PLAIN)["result"] == []  # no camera, no files


def _events(sim: Sim, **params: object) -> dict:
    base = {
        "imeis": _imei(sim, DASHCAM),
        "media_type": 3,
        "start_time": B,
        "end_time": E,
        "page_no": 1,
        "page_size": 1000,
    }
    return sim.call("jimi.device.media.event.URL", access_token=sim.token(), **{**base, **params})


def test_media_events_attach_a_clip_per_camera_to_every_dvr_alarm(sim: Sim) -> None:
    body = _events(sim)
    assert body["result"] is None and set(body["data"]) == {
        "currentPage",
        "pageSize",
        "startRow",
        "endRow",
        "totalRecord",
        "totalPage",
        "result",
    }
    events = body["data"]["result"]
    device = sim.fleet.devices[DASHCAM]
    alarms = [
        a
        for a in sim.fleet.records.alarms(device.imei, NOW - timedelta(days=2, seconds=20), NOW)
        if a.type_id in EVENT_TYPES
    ]
    assert body["data"]["totalRecord"] == len(events) > 3
    assert {(e["alarm_time"], e["event_type_id"]) for e in events} <= {(a.epoch, a.type_id) for a in alarms}
    for event in events:
        assert type(event["alarm_time"]) is int and type(event["lat"]) is str and event["event_type"]
        kinds = sorted((f["camera"], f["media_type"]) for f in event["fileList"])
        assert kinds == [(1, 1), (1, 2), (2, 2)]  # front photo, front clip, inward clip
        assert all(type(f["file_size"]) is str for f in event["fileList"])


def test_media_events_page_by_page_no_and_filter_by_type(sim: Sim) -> None:
    everything = _events(sim)["data"]["result"]
    first, second = (_events(sim, page_no=n, page_size=2)["data"] for n in (1, 2))
    assert first["result"] + second["result"] == everything[:4] and first["totalRecord"] == len(everything)
    braking = _events(sim, event_type="145")["data"]["result"]
    assert braking == [e for e in everything if e["event_type_id"] == "145"]
    videos = _events(sim, media_type=2)["data"]["result"]
    assert all(f["media_type"] == 2 for e in videos for f in e["fileList"])


def test_media_events_come_as_result_array_when_doc_shape(doc: Sim) -> None:
    body = _events(doc)
    assert set(body) == {"code", "message", "result"} and body["result"]
    for event in body["result"]:
        assert set(event) == {"imei", "event_type", "lat", "lng", "alarm_time", "fileList"}
        assert event["event_type"] in EVENT_TYPES and TIME_RE.match(event["alarm_time"])


def test_media_events_refuse_missing_paging_and_too_many_imeis(sim: Sim) -> None:
    token = sim.token()
    body = sim.call(
        "jimi.device.media.event.URL",
        access_token=token,
        imeis=_imei(sim, DASHCAM),
        media_type=3,
        start_time=B,
        end_time=E,
        page_no=1,
    )
    assert_refused(body, 1001, contains="page_size")
    too_many = ",".join(f"8692470600{k:05d}" for k in range(51))
    assert_refused(_events(sim, imeis=too_many), 1001, contains="at most 50")


def _fences(sim: Sim, **params: object) -> dict:
    return sim.call("jimi.open.platform.fence.list", access_token=sim.token(), account="sim_fleet", **params)


def test_fence_list_pages_at_most_50_with_total_as_spec(sim: Sim) -> None:
    body = _fences(sim, page_size=50)
    book = fence_book(sim.fleet).active()
    assert body["result"]["total"] == len(book) == 9 and len(body["result"]["rows"]) == 9
    assert [row["fence_id"] for row in _fences(sim)["result"]["rows"]] == [
        f.fence_id for f in book
    ]  # default 10
    pages = [_fences(sim, page_no=n, page_size=4)["result"]["rows"] for n in (1, 2, 3, 4)]
    assert [len(page) for page in pages] == [4, 4, 1, 0]
    row = body["result"]["rows"][0]
    assert set(row) == {
        "fence_id",
        "fence_name",
        "fence_type",
        "fence_color",
        "coordinates",
        "radius",
        "description",
        "imeis",
        "alert_type",
        "stay_time_out",
        "stay_time_in",
        "account",
    }
    assert (row["fence_type"], row["radius"], row["alert_type"]) == ("circle", "600", "in,out")
    polygon = next(r for r in body["result"]["rows"] if r["fence_type"] == "polygon")
    assert polygon["radius"] == "" and 5 <= polygon["coordinates"].count(";") + 1 <= 7
    assert_refused(_fences(sim, page_size=51), 1001, contains="page_size")
    assert_refused(_fences(sim, page_no=0), 1001, contains="page_no")
    assert_refused(
        sim.call("jimi.open.platform.fence.list", access_token=sim.token(), account="other"),
        1100,
        "Business exception ",
    )


def test_fence_list_total_is_a_string_when_table_shape(doc: Sim) -> None:
    assert _fences(doc)["result"]["total"] == "9"


def test_depot_fences_are_the_fences_of_the_geofence_alarms() -> None:
    sim = Sim()
    fences = {f.fence_id: f for f in fence_book(sim.fleet).active()}
    seen = 0
    for device in sim.fleet.devices:
        for alarm in sim.fleet.records.alarms(device.imei, NOW - timedelta(days=7), NOW):
            if alarm.type_id in ("in", "out"):
                fence = fences[alarm.geoid]
                assert alarm.name == fence.name and device.imei in fence.imeis
                assert fence.contains(alarm.lat, alarm.lng) == (alarm.type_id == "in")
                seen += 1
    assert seen > 50


def test_visits_cover_polygons_and_circles_and_deleted_fences_leave_the_list() -> None:
    sim = Sim()
    found = visits(sim.fleet, NOW - timedelta(days=7), NOW)
    kinds = {f.fence_id: f.kind for f in fence_book(sim.fleet).active()}
    assert {kinds[fence_id] for _, fence_id, _, _ in found} == {"circle", "polygon"}
    assert all(left is None or left > entered for _, _, entered, left in found)
    gone = next(f.fence_id for f in fence_book(sim.fleet).active() if f.kind == "polygon")
    fence_book(sim.fleet).delete(gone)
    rows = _fences(sim, page_size=50)["result"]
    assert rows["total"] == 8 and gone not in {row["fence_id"] for row in rows["rows"]}


def test_tag_location_answers_newest_fix_for_tags_and_1100_for_others(sim: Sim, doc: Sim) -> None:
    token = sim.token()
    body = sim.call("jimi.device.location.getTagMsg", access_token=token, imei=_imei(sim, TAG))
    (row,) = body["result"]
    assert set(row) == {"lng", "lat", "gpsTime", "directions", "gpsSpeed", "positionType", "gpsNum"}
    assert (
        type(row["gpsTime"]) is int and row["positionType"] in ("1", "5") and type(row["directions"]) is str
    )
    both = sim.call(
        "jimi.device.location.getTagMsg", access_token=token, imeis=f"{_imei(sim, TAG)},{_imei(sim, 14)}"
    )
    assert len(both["result"]) == 2 and both["result"][0] == row
    assert_refused(
        sim.call("jimi.device.location.getTagMsg", access_token=token, imei=_imei(sim, PLAIN)), 1100
    )
    (text,) = doc.call("jimi.device.location.getTagMsg", access_token=doc.token(), imei=_imei(doc, TAG))[
        "result"
    ]
    assert (
        TIME_RE.match(text["gpsTime"])
        and text["positionType"] in ("GPS", "BEACON")
        and "directions" not in text
    )


def test_instruction_list_and_results_as_spec_and_as_booleans(sim: Sim, doc: Sim) -> None:
    token = sim.token()
    templates = sim.call("jimi.open.instruction.list", access_token=token, imei=_imei(sim, DASHCAM))["result"]
    assert {t["id"] for t in templates} >= {81, 96, 99, 201, 202} and all(
        t["isOffLine"] in ("0", "1") for t in templates
    )
    results = sim.call("jimi.open.instruction.result", access_token=token, imei=_imei(sim, DASHCAM))["result"]
    assert results and [r["sendTime"] for r in results] == sorted(
        (r["sendTime"] for r in results), reverse=True
    )
    assert all(TIME_RE.match(r["sendTime"]) and r["isExecute"] in ("0", "1", "3", "4") for r in results)
    assert all(r["receiveDevice"] == _imei(sim, DASHCAM) and r["sender"] == "sim_fleet" for r in results)
    flags = doc.call("jimi.open.instruction.result", access_token=doc.token(), imei=_imei(doc, DASHCAM))[
        "result"
    ]
    assert [type(r["isExecute"]) for r in flags] == [bool] * len(results)
    assert_refused(
        sim.call("jimi.open.instruction.result", access_token=token, imei="869247060000000"),
        1002,
        "Illegal device",
    )


def test_pending_command_becomes_final_when_clock_passes_its_execution() -> None:
    from sources.jimi_sim.world.commands import history

    sim = Sim()
    device = sim.fleet.devices[DASHCAM]
    command = history(sim.settings.seed, device, NOW)[0]
    assert command.status(command.sent) == "3" and command.reply(command.sent) == ""
    assert command.status(command.executed) == command.outcome in ("0", "1", "4")
