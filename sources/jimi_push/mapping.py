"""How each push family becomes a typed table: DuckDB SQL over the landed items (one JSON item per row).

Every value is read as text and converted defensively (`p_num`, `p_flag`, `p_time`: the same field
arrives as a number or a string, `1`/`"ON"`, `yyyy-MM-dd HH:mm:ss` with an unpadded hour, BCD
`yyMMddHHmmss`, Unix seconds or milliseconds). Times are UTC (every push time is UTC+0, docs/jimi-api.md#times).
Column names follow the polling tables where the meaning is the same (`imei`, `gps_time`, `lat`, `lng`,
`speed_kmh`, `direction_deg`, `acc_on`, `alarm_time`, `alarm_type_id`, `alarm_type_name`). A family's
`base` columns are computed first (nested JSON that may arrive as an object or as a JSON string), its
`columns` from them; README.md in this folder lists the push field behind every column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import settings

MACROS = r"""
create or replace temp macro p_text(v) as nullif(trim(v), '');
create or replace temp macro p_num(v) as try_cast(nullif(trim(v), '') as double);
create or replace temp macro p_int(v) as try_cast(round(try_cast(nullif(trim(v), '') as double)) as bigint);
create or replace temp macro p_flag(v) as case upper(trim(v))
    when '1' then true when 'ON' then true when 'TRUE' then true
    when '0' then false when 'OFF' then false when 'FALSE' then false end;
create or replace temp macro p_time(v) as (case
    when nullif(trim(v), '') is null then null
    when regexp_full_match(trim(v), '[0-9]{12}') then try_strptime(trim(v), '%y%m%d%H%M%S')
    when regexp_full_match(trim(v), '[0-9]{14}') then try_strptime(trim(v), '%Y%m%d%H%M%S')
    when regexp_full_match(trim(v), '[0-9]{10}(\.0*)?')
        then make_timestamp(try_cast(try_cast(trim(v) as double) as bigint) * 1000000)
    when regexp_full_match(trim(v), '[0-9]{13}(\.0*)?')
        then make_timestamp(try_cast(try_cast(trim(v) as double) as bigint) * 1000)
    else try_strptime(trim(v), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S.%gZ', '%Y-%m-%dT%H:%M:%SZ',
                                '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%g', '%Y/%m/%d %H:%M:%S'])
    end)::timestamptz;
create or replace temp macro p_json(j, path) as case json_type(j, path)
    when 'OBJECT' then json_extract(j, path)
    when 'ARRAY' then json_extract(j, path)
    when 'VARCHAR' then (case when json_valid(json_extract_string(j, path)) then json_extract_string(j, path)::json end)
    end;
create or replace temp macro p_volts(v) as case when v > 100 then v / 1000 else v end;
create or replace temp macro p_lat(j, lat, lng) as
    case when p_num(j->>lat) = 0 and p_num(j->>lng) = 0 then null else p_num(j->>lat) end;
"""

IMEI = "p_text(coalesce(item->>'deviceImei', item->>'imei', item->>'_imei'))"
GATE_TIME = "p_time(item->>'gateTime')"


@dataclass(frozen=True)
class Family:
    path: str
    columns: dict[str, str]
    base: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return settings.FAMILY_TABLES[self.path]


def _first_num(source: str, keys: tuple[str, ...]) -> str:
    return "coalesce(" + ", ".join(f"p_num({source}->>'{key}')" for key in keys) + ")"


def _fuel_unit() -> str:
    codes = " ".join(f"when '{raw}' then '{label}'" for raw, label in settings.FUEL_UNITS.items())
    return f"case coalesce(cast(p_int(item->>'unit') as varchar), upper(p_text(item->>'unit'))) {codes} end"


FAMILIES: tuple[Family, ...] = (
    Family(
        "pushgps",
        {
            "imei": IMEI,
            "gps_time": "p_time(item->>'gpsTime')",
            "gate_time": GATE_TIME,
            # (0, 0) is "no fix" (docs/jimi-api.md#times): no position rather than a point in the Gulf of Guinea.
            "lat": "p_lat(item, 'lat', 'lng')",
            "lng": "p_lat(item, 'lng', 'lat')",
            "speed_kmh": "case when p_num(item->>'gpsSpeed') >= 0 then p_num(item->>'gpsSpeed') end",
            "direction_deg": "case when p_num(item->>'direction') >= 0 then p_num(item->>'direction') end",
            "pos_type": """cast(coalesce(p_int(item->>'postType'), case upper(p_text(item->>'postType'))
            when 'GPS' then 1 when 'LBS' then 2 when 'WIFI' then 3 when 'BEACON' then 4 end) as smallint)""",
            "satellites": "cast(p_int(item->>'satelliteNum') as smallint)",
            "acc_on": "p_flag(item->>'acc')",
            "reuploaded": "p_int(item->>'gpsMode') = 1",
            "altitude_m": "p_num(item->>'altitude')",
            "odometer_km": "p_num(coalesce(item->>'distance', item->>'mileage')) / 1000",
            "status_word": "p_int(item->>'status')",
            "post_method": "p_int(item->>'postMethod')",
            "sos_on": "p_flag(item->>'sosStatus')",
            "door_open": "p_flag(item->>'doorStatus')",
            "temperature_c": "p_num(item->>'temperature')",
            "driver_license": "p_text(item->>'driverLicense')",
            "driver_license_status": "p_int(item->>'driverLicenseStatus')",
            "transparent_data": "p_text(item->>'transparentData')",
        },
    ),
    Family(
        "pushalarm",
        base={
            "msg": "p_json(item, '$.msg')",
        },
        columns={
            "imei": "p_text(coalesce(item->>'imei', item->>'deviceImei'))",
            "alarm_time": "coalesce(p_time(msg->>'alarmTime'), p_time(item->>'alarmTime'), p_time(item->>'gateTime'))",
            "raw_type": "p_text(coalesce(msg->>'alertType', item->>'alarmType', item->>'alertType'))",
            "alarm_cleared": "coalesce(raw_type = 'removeAlarmType', false)",
            "alarm_type_id": "case when alarm_cleared then p_text(msg->>'removeAlarmType') else raw_type end",
            "alarm_type_name": "p_text(coalesce(item->>'alarmName', msg->>'alarmName'))",
            "record_type": "upper(p_text(item->>'type'))",
            "msg_class": "p_int(item->>'msgClass')",
            "gate_time": GATE_TIME,
            "lat": "coalesce(p_lat(msg, 'lat', 'lng'), p_lat(item, 'lat', 'lng'))",
            "lng": "coalesce(p_lat(msg, 'lng', 'lat'), p_lat(item, 'lng', 'lat'))",
            "speed_kmh": "coalesce(p_num(msg->>'gpsSpeed'), p_num(item->>'gpsSpeed'), p_num(msg->>'speed'))",
            "direction_deg": "p_num(msg->>'direction')",
            "alert_value": "p_text(msg->>'alertValue')",
            "standard_alarm_value": "p_int(msg->>'standardAlarmValue')",
            "alarm_serial_no": "p_int(msg->>'alarmSerialNo')",
            "alarm_level": "p_int(msg->>'alarmLevel')",
            "fence_id": "p_text(msg->>'fenceId')",
            "driver_id": "p_text(msg->>'driverId')",
            "driver_name": "p_text(msg->>'driverName')",
            "file_url": "p_text(msg->>'file')",
            "msg_json": "cast(msg as varchar)",
        },
    ),
    Family(
        "pushobd",
        base={
            "obd": "p_json(item, '$.obdJson')",
        },
        columns={
            "imei": IMEI,
            "event_time": """coalesce(p_time(obd->>'event_time'), p_time(item->>'eventTime'),
            p_time(obd->>'push_time'), p_time(item->>'gateTime'))""",
            "push_time": "p_time(obd->>'push_time')",
            "gate_time": GATE_TIME,
            "car_type": "p_int(obd->>'car_type')",
            "acc_on": "p_flag(obd->>'AccState')",
            "status_flags": "p_int(obd->>'statusFlags')",
            "lat": "coalesce(p_lat(obd, 'lat', 'lng'), p_lat(item, 'lat', 'lng'))",
            "lng": "coalesce(p_lat(obd, 'lng', 'lat'), p_lat(item, 'lng', 'lat'))",
            **{column: _first_num("obd", keys) for column, keys in settings.OBD_SCALARS.items()},
            # PID 66 is sent in volts or as its raw millivolts: no vehicle battery is above 100 V.
            "battery_voltage_v": f"""coalesce(
            p_volts({_first_num("obd", settings.OBD_BATTERY_V_KEYS)}),
            {_first_num("obd", settings.OBD_BATTERY_DV_KEYS)} / 10)""",
            "obd_json": "cast(obd as varchar)",
        },
    ),
    Family(
        "pushfaultinfo",
        base={
            "code_items": """case json_type(item, '$.faultCodeList')
            when 'ARRAY' then json_extract(item, '$.faultCodeList[*]')
            when 'VARCHAR' then case
                when json_type(p_json(item, '$.faultCodeList')) = 'ARRAY' then json_extract(p_json(item, '$.faultCodeList'), '$[*]')
                else list_transform(string_split(item->>'faultCodeList', ','), lambda c: to_json(c)) end
            else []::json[] end""",
        },
        columns={
            "imei": IMEI,
            "event_time": "coalesce(p_time(item->>'eventTime'), p_time(item->>'gateTime'))",
            "codes": """list_filter(list_transform(code_items, lambda c: upper(trim(case json_type(c)
            when 'OBJECT' then coalesce(c->>'faultCode', c->>'code') else c->>'$' end))), lambda c: coalesce(c, '') <> '')""",
            # One row per DTC; an item without any keeps one row with no code, which routes it to other_pushes.
            "fault_code": "unnest(case when len(codes) = 0 then [null::varchar] else codes end)",
            "fault_count": "p_int(item->>'faultNum')",
            "status_flags": "p_int(item->>'statusFlags')",
            "gate_time": GATE_TIME,
            "lat": "p_lat(item, 'lat', 'lng')",
            "lng": "p_lat(item, 'lng', 'lat')",
        },
    ),
    Family(
        "pushtripreport",
        {
            "imei": IMEI,
            "begin_time": "p_time(item->>'beginTime')",
            "end_time": "p_time(item->>'endTime')",
            "trip_phase": "case p_int(item->>'properties') when 1 then 'start' when 2 then 'end' else 'unknown' end",
            "trip_seq": "p_int(item->>'tripSeq')",
            "duration_s": "date_diff('second', begin_time, end_time)",
            "distance_km": "p_num(item->>'miles')",
            "fuel_l": "p_num(item->>'oils')",
            "idle_s": "p_num(item->>'idleTimes')",
            "begin_lat": "p_lat(item, 'beginLat', 'beginLng')",
            "begin_lng": "p_lat(item, 'beginLng', 'beginLat')",
            "end_lat": "p_lat(item, 'endLat', 'endLng')",
            "end_lng": "p_lat(item, 'endLng', 'endLat')",
            "gate_time": GATE_TIME,
        },
    ),
    Family(
        "pushhb",
        {
            "imei": IMEI,
            "gate_time": GATE_TIME,
            "battery_pct": "p_num(item->>'powerLevel')",
            "gsm_signal_pct": "p_num(item->>'gsmSign')",
            "acc_on": "p_flag(item->>'acc')",
            "fuel_cut": "p_flag(item->>'oilEle')",
            "gps_fixed": "p_flag(item->>'gpsPos')",
            "remote_locked": "p_flag(item->>'remoteLock')",
            "charging": "p_flag(item->>'powerStatus')",
            "armed": "p_flag(item->>'fortify')",
            "temperature_c": "p_num(item->>'temperature')",
            "voltage_v": "p_num(item->>'voltage')",
            "status_word": "p_int(item->>'status')",
        },
    ),
    Family(
        "pushevent",
        {
            "imei": IMEI,
            "event_time": GATE_TIME,
            "event_type": "upper(p_text(item->>'type'))",
            "device_timezone": "p_text(item->>'timezone')",
            "utc_offset_min": """case when regexp_full_match(trim(item->>'timezone'), '(?i)(GMT|UTC)?\\s*([+-])(\\d{1,2})(:?(\\d{2}))?')
            then (case when regexp_extract(item->>'timezone', '([+-])', 1) = '-' then -1 else 1 end)
                * (cast(regexp_extract(item->>'timezone', '[+-](\\d{1,2})', 1) as integer) * 60
                   + coalesce(try_cast(regexp_extract(item->>'timezone', '[+-]\\d{1,2}:?(\\d{2})', 1) as integer), 0))
            when upper(trim(item->>'timezone')) in ('GMT', 'UTC') then 0 end""",
        },
    ),
    Family(
        "pushoil",
        {
            "imei": IMEI,
            "reading_time": "coalesce(p_time(item->>'gateTime'), p_time(item->>'gpsTime'))",
            # A device with one sensor may leave `path` out: sensor 0.
            "sensor_id": "coalesce(p_int(item->>'path'), 0)",
            "fuel_unit": _fuel_unit(),
            "fuel_value": "p_num(item->>'value') / 100",
            "fuel_l": "case when fuel_unit = 'L' then fuel_value end",
            "fuel_pct": "case when fuel_unit = '%' then fuel_value end",
            "fuel_level_cm": "case when fuel_unit = 'cm' then fuel_value end",
            "fuel_sensor_v": "case when fuel_unit = 'V' then fuel_value end",
            "gps_time": "p_time(item->>'gpsTime')",
            "lat": "p_lat(item, 'lat', 'lng')",
            "lng": "p_lat(item, 'lng', 'lat')",
            "gate_time": GATE_TIME,
        },
    ),
    Family(
        "pushtem",
        {
            "imei": IMEI,
            "reading_time": "coalesce(p_time(item->>'gateTime'), p_time(item->>'postTime'))",
            "temperature_c": "coalesce(p_num(item->>'tem'), p_num(item->>'temperature'))",
            "humidity_pct": "coalesce(p_num(item->>'hum'), p_num(item->>'humidity'))",
            "post_time": "p_time(item->>'postTime')",
            "gate_time": GATE_TIME,
        },
    ),
    Family(
        "pushlbs",
        base={
            "lbs": "p_json(item, '$.lbsJson')",
        },
        columns={
            "imei": IMEI,
            "gate_time": GATE_TIME,
            "post_type": "upper(p_text(item->>'postType'))",
            "mcc": "p_int(lbs->>'mcc')",
            "mnc": "p_int(lbs->>'mnc')",
            # "LAC1,CI1,RSSI1;LAC2,CI2,RSSI2" (docs/jimi-api.md#families); the first cell is the serving one.
            "cells": """list_transform(list_filter(string_split(coalesce(lbs->>'cellList', ''), ';'), lambda c: trim(c) <> ''),
            lambda c: {'lac': try_cast(trim(split_part(c, ',', 1)) as bigint),
                       'ci': try_cast(trim(split_part(c, ',', 2)) as bigint),
                       'rssi': try_cast(trim(split_part(c, ',', 3)) as bigint)})""",
            "cell_count": "len(cells)",
            "lac": "cells[1].lac",
            "cell_id": "cells[1].ci",
            "rssi": "cells[1].rssi",
            "cells_json": "cast(to_json(cells) as varchar)",
            "lbs_json": "cast(lbs as varchar)",
        },
    ),
)

# Helper columns computed on the way that the table does not keep.
DROPPED = {"raw_type", "codes", "cells"}

BY_PATH = {family.path: family for family in FAMILIES}
