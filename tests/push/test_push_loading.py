"""Reading landed push files into typed tables: every family's mapping, duplicates, unreadable files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from push_samples import IMEI, IMEI_2, NOW, SAMPLES, land_samples

from sources.jimi_push import settings
from sources.jimi_push.helpers import connect, read_landed


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("samples") / "landing"
    batch = read_landed(land_samples(root))
    assert batch.quarantined == {}
    return {name: table.to_pylist() for name, table in batch.tables.items()}


def by(rows: list[dict], *columns: str) -> dict:
    return {tuple(row[column] for column in columns): row for row in rows}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-04 06:01:30", "2025-03-04 06:01:30"),
        ("2024-05-09 1:27:23", "2024-05-09 01:27:23"),
        ("250304061530", "2025-03-04 06:15:30"),
        ("20250304061530", "2025-03-04 06:15:30"),
        ("1741068930", "2025-03-04 06:15:30"),
        ("1741068930000", "2025-03-04 06:15:30"),
        ("2022-12-10T01:05:33.000Z", "2022-12-10 01:05:33"),
        ("", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_time_parser_reads_utc_when_given_each_push_time_format(value: str | None, expected: str | None):
    connection = connect()
    [(parsed,)] = connection.execute("select p_time(?)", [value]).fetchall()
    assert parsed == (utc(expected) if expected else None)


@pytest.mark.parametrize(("value", "volts"), [(12.6, 12.6), (13900.0, 13.9), (24.1, 24.1), (None, None)])
def test_volts_macro_reads_millivolts_when_value_is_above_100(value: float | None, volts: float | None):
    [(parsed,)] = connect().execute("select p_volts(?::double)", [value]).fetchall()
    assert parsed == volts


def test_read_landed_fills_a_table_per_family_when_given_every_sample(samples):
    assert {name: len(rows) for name, rows in samples.items()} == {
        "gps_fixes": 2,
        "alarms": 4,
        "obd_readings": 2,
        "fault_codes": 3,
        "trip_reports": 2,
        "heartbeats": 2,
        "device_events": 2,
        "fuel_readings": 3,
        "temperature_readings": 2,
        "lbs_readings": 1,
        "other_pushes": 15,
    }


def test_gps_fixes_use_polling_names_and_units_when_mapped(samples):
    fixes = by(samples["gps_fixes"], "gps_time")
    first = fixes[(utc("2025-03-04 06:01:30"),)]
    assert {
        key: first[key]
        for key in [
            "imei",
            "lat",
            "lng",
            "speed_kmh",
            "direction_deg",
            "satellites",
            "acc_on",
            "pos_type",
            "altitude_m",
            "odometer_km",
            "reuploaded",
        ]
    } == {
        "imei": IMEI,
        "lat": -1.29187,
        "lng": 36.82231,
        "speed_kmh": 23.0,
        "direction_deg": 184.0,
        "satellites": 10,
        "acc_on": True,
        "pos_type": 1,
        "altitude_m": 1661.0,
        "odometer_km": 18234.612,
        "reuploaded": False,
    }
    second = fixes[(utc("2025-03-04 06:01:40"),)]
    # (0, 0) is no fix; -1 speed and direction are unknown; "ON" and "2" arrive as text.
    assert (second["lat"], second["lng"], second["speed_kmh"], second["direction_deg"]) == (
        None,
        None,
        None,
        None,
    )
    assert (second["acc_on"], second["pos_type"], second["satellites"], second["reuploaded"]) == (
        True,
        2,
        0,
        True,
    )
    assert orjson.loads(second["raw_json"]) == SAMPLES["pushgps"][1]


def test_alarms_map_imei_type_and_time_when_push_names_differ(samples):
    alarms = {
        (row["imei"], row["alarm_type_id"], row["alarm_cleared"], row["alarm_time"], row["alarm_type_name"])
        for row in samples["alarms"]
    }
    assert alarms == {
        ("752533678900242", "1", False, utc("2026-01-07 11:06:04"), None),
        (IMEI_2, "256", False, utc("2026-01-07 11:06:05"), None),
        (IMEI, "6", True, utc("2026-01-07 11:20:00"), None),
        (IMEI, "3", False, utc("2026-01-07 12:00:00"), "Vibration alert"),
    }
    jtt = by(samples["alarms"], "alarm_type_id")[("256",)]
    assert (jtt["msg_class"], jtt["standard_alarm_value"], jtt["alarm_serial_no"], jtt["lat"]) == (
        1,
        2048,
        25075,
        22.576697,
    )


def test_obd_readings_keep_obd_json_and_extract_units_when_mapped(samples):
    readings = by(samples["obd_readings"], "imei")
    first = readings[(IMEI,)]
    assert (first["event_time"], first["engine_rpm"], first["coolant_temp_c"], first["fuel_level_pct"]) == (
        utc("2025-03-04 07:14:00"),
        2016.0,
        77.0,
        58.0,
    )
    assert (first["battery_voltage_v"], first["speed_kmh"], first["odometer_km"], first["acc_on"]) == (
        11.8,
        88.5,
        2049.6,
        True,
    )
    assert orjson.loads(first["obd_json"]) == orjson.loads(SAMPLES["pushobd"][0]["obdJson"])
    second = readings[(IMEI_2,)]
    assert (
        second["engine_rpm"],
        second["coolant_temp_c"],
        second["battery_voltage_v"],
        second["acc_on"],
    ) == (800.0, 65.0, 12.6, False)


def test_fault_codes_give_one_row_per_dtc_when_list_has_several(samples):
    codes = {
        (row["imei"], row["event_time"], row["fault_code"], row["fault_count"])
        for row in samples["fault_codes"]
    }
    assert codes == {
        (IMEI, utc("2025-03-04 07:15:00"), "P0301", 2),
        (IMEI, utc("2025-03-04 07:15:00"), "P0420", 2),
        (IMEI_2, utc("2025-03-04 07:17:00"), "U0100", 1),
    }


def test_trip_reports_parse_bcd_times_when_mapped(samples):
    trips = by(samples["trip_reports"], "trip_phase")
    end = trips[("end",)]
    assert (end["begin_time"], end["end_time"], end["duration_s"]) == (
        utc("2025-03-04 06:15:30"),
        utc("2025-03-04 07:25:45"),
        4215,
    )
    assert (end["distance_km"], end["fuel_l"], end["idle_s"], end["trip_seq"], end["end_lat"]) == (
        14.2,
        1.35,
        240.0,
        12,
        -1.265,
    )
    assert (trips[("start",)]["end_time"], trips[("start",)]["begin_time"]) == (
        None,
        utc("2025-03-04 06:15:30"),
    )


def test_small_families_map_units_when_mapped(samples):
    heartbeat = by(samples["heartbeats"], "imei")[(IMEI,)]
    assert (
        heartbeat["battery_pct"],
        heartbeat["gsm_signal_pct"],
        heartbeat["acc_on"],
        heartbeat["gps_fixed"],
        heartbeat["fuel_cut"],
    ) == (90.0, 80.0, True, True, False)
    assert {
        (row["event_type"], row["device_timezone"], row["utc_offset_min"]) for row in samples["device_events"]
    } == {
        ("LOGIN", "GMT+03:00", 180),
        ("LOGOUT", "GMT-05:30", -330),
    }
    fuel = {
        (
            row["sensor_id"],
            row["fuel_unit"],
            row["fuel_value"],
            row["fuel_l"],
            row["fuel_pct"],
            row["fuel_level_cm"],
        )
        for row in samples["fuel_readings"]
    }
    assert fuel == {
        (1, "L", 45.5, 45.5, None, None),
        (2, "%", 61.25, None, 61.25, None),
        (0, "cm", 12.34, None, None, 12.34),
    }
    assert {
        (row["imei"], row["temperature_c"], row["humidity_pct"]) for row in samples["temperature_readings"]
    } == {(IMEI, 4.5, 61.0), (IMEI_2, -18.2, None)}
    [lbs] = samples["lbs_readings"]
    assert (
        lbs["mcc"],
        lbs["mnc"],
        lbs["cell_count"],
        lbs["lac"],
        lbs["cell_id"],
        lbs["rssi"],
        lbs["post_type"],
    ) == (639, 2, 2, 40100, 23456, -67, "LBS")
    assert orjson.loads(lbs["cells_json"]) == [
        {"lac": 40100, "ci": 23456, "rssi": -67},
        {"lac": 40100, "ci": 23457, "rssi": -80},
    ]


def test_other_pushes_hold_raw_items_and_routed_ones_with_reason_when_no_typed_row(samples):
    rows = samples["other_pushes"]
    typed = set(settings.FAMILY_TABLES)
    assert {row["path"] for row in rows if row["reason"] is None} == set(settings.PUSH_PATHS) - typed
    assert {(row["path"], row["reason"]) for row in rows if row["reason"]} == {
        ("pushalarm", "missing alarm_type_id"),
        ("pushfaultinfo", "missing fault_code"),
    }
    assert {
        orjson.dumps(orjson.loads(row["raw_json"])) for row in rows if row["path"] == "pushresourcelist"
    } == {orjson.dumps(SAMPLES["pushresourcelist"][0])}


def test_read_landed_keeps_one_row_per_key_when_item_sits_in_two_files(tmp_path: Path):
    root = tmp_path / "landing"
    files = land_samples(root, ["pushgps", "pushalarm"]) + land_samples(
        root, ["pushgps", "pushalarm"], now=NOW.replace(minute=5)
    )
    batch = read_landed(files)
    assert batch.rows() == {"gps_fixes": 2, "alarms": 4, "other_pushes": 1}
    assert {row["received_at"] for row in batch.tables["gps_fixes"].to_pylist()} == {NOW.replace(minute=5)}


BAD_FILES = {
    "not json": (b"{oops", "not valid JSON"),
    "not utf-8": (
        b'{"path": "pushgps", "x": "\xff\xfe"}',
        "not readable as UTF-8 text (InvalidInputException)",
    ),
    "array": (b"[1, 2]", "not a JSON object"),
    "items not array": (
        b'{"path": "pushgps", "received_at": "2025-03-04T08:00:00.000000Z", "item_count": 1, "items": {}}',
        "items is missing or not an array",
    ),
    "unknown path": (
        b'{"path": "pushx", "received_at": "2025-03-04T08:00:00.000000Z", "item_count": 0, "items": []}',
        "path is missing or unknown",
    ),
    "wrong folder": (
        b'{"path": "pushhb", "received_at": "2025-03-04T08:00:00.000000Z", "item_count": 0, "items": []}',
        "path differs from the folder it landed in",
    ),
    "bad time": (
        b'{"path": "pushgps", "received_at": "yesterday", "item_count": 0, "items": []}',
        "received_at is not a UTC time",
    ),
    "truncated": (
        b'{"path": "pushgps", "received_at": "2025-03-04T08:00:00.000000Z", "item_count": 2, "items": [{}]}',
        "item_count differs from the number of items",
    ),
    "item not object": (
        b'{"path": "pushgps", "received_at": "2025-03-04T08:00:00.000000Z", "item_count": 2, "items": [{}, 3]}',
        "an item is not a JSON object",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_read_landed_quarantines_file_with_reason_when_it_cannot_be_read(tmp_path: Path, case: str):
    root = tmp_path / "landing"
    good = land_samples(root, ["pushgps"])
    bad = root / "pushgps" / "2025-03-04" / "20250304T080000.000000Z-bad.json"
    bad.write_bytes(BAD_FILES[case][0])
    batch = read_landed([*good, bad])
    assert batch.quarantined == {bad: BAD_FILES[case][1]}
    assert batch.readable == good
    assert batch.rows() == {"gps_fixes": 2}
