"""Decoding one raw answer into a typed Arrow table (`sources.jimi.decode`): the rows kept, the columns'
types and nullability, and the envelopes that are not a plain list."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pytest

from sources.jimi.decode import MalformedBody, decode
from sources.jimi.errors import JimiResponseError
from sources.jimi.resources.positions import TAG_LOCATIONS, TRACK_POINTS

IMEI = "860000000000001"


def fix(time: object, **more: object) -> dict:
    point = {
        "lat": -1.19,
        "lng": 36.97,
        "gpsTime": time,
        "direction": 90,
        "gpsSpeed": 30,
        "posType": 1,
        "satellite": 9,
        "ignition": "ON",
        "accStatus": "ON",
    }
    point.update(more)
    return point


def answer(result: object) -> bytes:
    return orjson.dumps({"code": 0, "message": "success", "result": result})


def test_decode_drops_fixes_without_a_time_when_gps_time_is_missing_null_or_unreadable():
    points = [fix("2026-11-19 12:00:00"), fix(None), fix("2026-11-19 12:00:20"), fix("not a time"), fix("")]
    points.append({key: value for key, value in fix("x").items() if key != "gpsTime"})

    table = decode(TRACK_POINTS, answer(points), IMEI)

    assert table.column("gps_time").to_pylist() == [
        datetime(2026, 11, 19, 12, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 19, 12, 0, 20, tzinfo=UTC),
    ]
    assert table.column("imei").to_pylist() == [IMEI, IMEI]


def test_decode_keeps_every_fix_and_declares_keys_not_null_when_all_have_a_time():
    points = [fix(f"2026-11-19 12:00:{second:02d}", gpsSpeed=second) for second in range(0, 60, 10)]

    table = decode(TRACK_POINTS, answer(points), IMEI)

    assert table.num_rows == 6
    assert table.column("speed_kmh").to_pylist() == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    assert [(field.name, field.nullable) for field in table.schema][:3] == [
        ("imei", False),
        ("gps_time", False),
        ("lat", True),
    ]
    assert table.schema.field("gps_time").type == pa.timestamp("us", tz="UTC")


def test_decode_drops_only_the_tag_locations_whose_time_is_unreadable_and_says_so(caplog):
    body = orjson.dumps(
        {
            "code": 0,
            "result": [
                {"gpsTime": "2026-11-19 12:00:00", "lat": 1.0, "lng": 2.0},
                {"gpsTime": "garbage", "lat": 3.0, "lng": 4.0},
            ],
        }
    )

    table = decode(TAG_LOCATIONS, body, IMEI)

    assert table.column("gps_time").to_pylist() == [datetime(2026, 11, 19, 12, 0, 0, tzinfo=UTC)]
    assert table.column("lat").to_pylist() == [1.0]
    assert [record.getMessage() for record in caplog.records] == [
        f"{TAG_LOCATIONS.method}: 1 of 2 rows dropped, missing a key (gps_time)"
    ]


@pytest.mark.parametrize("result", [None, []])
def test_decode_gives_no_rows_when_result_is_null_or_empty(result):
    assert decode(TRACK_POINTS, answer(result), IMEI).num_rows == 0


def test_decode_reads_a_lone_object_as_one_row_when_result_is_not_a_list():
    table = decode(TRACK_POINTS, answer(fix("2026-11-19 12:00:00")), IMEI)

    assert table.column("gps_time").to_pylist() == [datetime(2026, 11, 19, 12, 0, 0, tzinfo=UTC)]


def test_decode_raises_malformed_body_when_the_body_is_truncated():
    body = answer([fix("2026-11-19 12:00:00")])

    with pytest.raises(MalformedBody, match="body is not JSON"):
        decode(TRACK_POINTS, body[: len(body) // 2], IMEI)


def test_decode_names_the_path_when_result_is_a_list_of_numbers():
    with pytest.raises(JimiResponseError, match="`result` is a list, not a list of objects"):
        decode(TRACK_POINTS, answer([1, 2]), IMEI)
