"""How each Jimi answer maps to a table: where its rows are, the API's field names, and our columns.

This module is the documented mapping from raw API names to table columns: every column's expression
reads `r.<apiField>`. Where the sources disagree (jimi-api-facts.md §9) both spellings are read and
coalesced, so either shape of the API loads the same rows.
"""

from __future__ import annotations

from . import settings
from .decode import Shape

# ACC / ignition: "ON"/"OFF" (track), "1"/"0" (location), "on"/"off" (parking) — discrepancy 19. The exact
# spellings are matched first: `upper(trim())` on every row cost ~7 % of a track answer's decode.
_ON_ANY = "case upper(trim({0})) when 'ON' then true when '1' then true when 'OFF' then false when '0' then false end"
_ON = (
    "case {0} when 'ON' then true when 'OFF' then false when '1' then true when '0' then false "
    f"else {_ON_ANY} end"
)
# posType: 1/2/3 (track) or GPS/LBS/WIFI/BEACON (location) — discrepancy 20. The common spellings are
# matched first, for the same reason as `_ON`.
_POS_ANY = (
    "coalesce(try_cast({0} as smallint), case upper({0}) when 'GPS' then 1 when 'LBS' then 2 "
    "when 'WIFI' then 3 when 'BEACON' then 4 end)"
)
_POS = (
    "case {0} when '1' then 1 when '2' then 2 when '3' then 3 when 'GPS' then 1 when 'LBS' then 2 "
    f"when 'WIFI' then 3 else {_POS_ANY} end::smallint"
)
# -1 means "unknown" for speeds and directions.
_KNOWN = "case when {0} >= 0 then {0} end"

# Times: the API's text is UTC, read as a plain TIMESTAMP. decode() marks every timestamp column UTC in Arrow,
# which changes metadata only; `timezone('UTC', …)` on every row cost ~8 % of a track answer's decode.

def on(field: str) -> str:
    return _ON.format(field)


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
        {_KNOWN.format('r.gpsSpeed')} as speed_kmh,
        {_KNOWN.format('r.direction')} as direction_deg,
        {_POS.format('r.posType')} as pos_type,
        r.satellite::smallint as satellites,
        {on('r.accStatus')} as acc_on,
        {on('r.ignition')} as ignition_on,
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
        {_KNOWN.format('r.speed')} as speed_kmh,
        {_KNOWN.format('r.direction')} as direction_deg,
        {on('r.accStatus')} as acc_on,
        r.status = '1' as is_online,
        {_POS.format('r.posType')} as pos_type,
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

_DISTANCE_RAW = "r.distance"
_RUN_S = "coalesce(r.runTimeSecond, r.elapsed)"


def trips_shape(distance_unit: str) -> Shape:
    """`track.mileage` trips. The distance unit is km in production and metres per the spec
    (discrepancy 1): `auto` decides per trip from the reported average speed and duration, falling back to
    the implied speed (no vehicle averages 300 km/h)."""
    if distance_unit == "km":
        unit = "'km'"
    elif distance_unit == "m":
        unit = "'m'"
    else:
        expected_km = f"(r.avgSpeed * {_RUN_S} / 3600.0)"
        unit = (
            f"case when r.avgSpeed > 0 and {_RUN_S} > 0 "
            f"then (case when {_DISTANCE_RAW} > 100 * {expected_km} then 'm' else 'km' end) "
            f"when {_RUN_S} > 0 and {_DISTANCE_RAW} / ({_RUN_S} / 3600.0) > 300 then 'm' else 'km' end"
        )
    return Shape(
        method=settings.TRACK_MILEAGE,
        path=("result",),
        fields={
            "imei": "VARCHAR",
            "startTime": "TIMESTAMP",
            "endTime": "TIMESTAMP",
            "startLat": "DOUBLE",
            "startLng": "DOUBLE",
            "endLat": "DOUBLE",
            "endLng": "DOUBLE",
            "runTimeSecond": "BIGINT",
            "elapsed": "BIGINT",
            "idleSecond": "BIGINT",
            "distance": "DOUBLE",
            "avgSpeed": "DOUBLE",
            "maxSpeed": "DOUBLE",
        },
        select=f"""
            r.imei as imei,
            r.startTime as start_time,
            r.endTime as end_time,
            r.startLat as start_lat,
            r.startLng as start_lng,
            r.endLat as end_lat,
            r.endLng as end_lng,
            {_RUN_S} as run_seconds,
            r.idleSecond as idle_seconds,
            {_DISTANCE_RAW} as distance_raw,
            {unit} as distance_raw_unit,
            case when {unit} = 'm' then {_DISTANCE_RAW} / 1000.0 else {_DISTANCE_RAW} end as distance_km,
            r.avgSpeed as avg_speed_kmh,
            r.maxSpeed as max_speed_kmh
        """,
        where="r.imei is not null and r.startTime is not null",
        keys=("imei", "start_time"),
    )


PARKING = Shape(
    method=settings.PARKING,
    path=("data", "rows"),
    fields={
        "imei": "VARCHAR",
        "deviceName": "VARCHAR",
        "startTime": "TIMESTAMP",
        "endTime": "TIMESTAMP",
        "durSecond": "BIGINT",
        "stopSecond": "BIGINT",
        "lat": "DOUBLE",
        "lng": "DOUBLE",
        "addr": "VARCHAR",
        "acc": "VARCHAR",
    },
    select=f"""
        r.imei as imei,
        r.startTime as start_time,
        r.endTime as end_time,
        coalesce(r.durSecond, date_diff('second', r.startTime, r.endTime)) as duration_s,
        r.stopSecond as stop_seconds,
        r.lat as lat,
        r.lng as lng,
        r.addr as address,
        {on('r.acc')} as acc_on,
        case when {on('r.acc')} then 'idling' else 'parking' end as stop_kind,
        r.deviceName as device_name
    """,
    where="r.imei is not null and r.startTime is not null",
    keys=("imei", "start_time"),
)

ALARMS = Shape(
    method=settings.ALARM_LIST,
    path=("result",),
    fields={
        "imei": "VARCHAR",
        "deviceName": "VARCHAR",
        "model": "VARCHAR",
        "alertTypeId": "VARCHAR",
        "alarmTypeName": "VARCHAR",
        "alertTypeName": "VARCHAR",
        "alertTime": "TIMESTAMP",
        "positioningTime": "TIMESTAMP",
        "lat": "DOUBLE",
        "lng": "DOUBLE",
        "speed": "DOUBLE",
        "geoid": "VARCHAR",
    },
    select=f"""
        r.imei as imei,
        r.alertTime as alarm_time,
        r.alertTypeId as alarm_type_id,
        coalesce(r.alarmTypeName, r.alertTypeName) as alarm_type_name,
        r.positioningTime as position_time,
        r.lat as lat,
        r.lng as lng,
        {_KNOWN.format('r.speed')} as speed_kmh,
        nullif(r.geoid, '') as geofence_id,
        r.deviceName as device_name,
        r.model as model
    """,
    where="r.imei is not null and r.alertTime is not null and r.alertTypeId is not null",
    keys=("imei", "alarm_time", "alarm_type_id"),
)

OBD_READINGS = Shape(
    method=settings.OBD_LIST,
    path=("data", "result"),
    fields={
        "imei": "VARCHAR",
        "dataReportTime": "TIMESTAMP",
        "odometerReading": "DOUBLE",
        "deviceAccumulatedMileage": "DOUBLE",
        "remainingFuel": "DOUBLE",
        "remainingFuelPercentage": "DOUBLE",
        "coolantTemperature": "DOUBLE",
        "vehicleBatterVoltage": "DOUBLE",
        "currentRPM": "DOUBLE",
        "currentSpeed": "DOUBLE",
        "vin": "VARCHAR",
    },
    select="""
        r.imei as imei,
        r.dataReportTime as report_time,
        r.odometerReading as odometer_km,
        r.deviceAccumulatedMileage as device_mileage_km,
        r.remainingFuel as fuel_remaining_l,
        r.remainingFuelPercentage as fuel_remaining_pct,
        r.coolantTemperature as coolant_temp_c,
        r.vehicleBatterVoltage as battery_voltage_raw,
        -- "118" means 11.8 V: the field is in tenths of a volt.
        r.vehicleBatterVoltage / 10.0 as battery_voltage_v,
        r.currentRPM as engine_rpm,
        r.currentSpeed as speed_kmh,
        nullif(r.vin, '') as vin
    """,
    where="r.imei is not null and r.dataReportTime is not null",
    keys=("imei", "report_time"),
)

OBD_FAULTS = Shape(
    method=settings.OBD_FAULT,
    path=("data", "result"),
    fields={
        "imei": "VARCHAR",
        "deviceName": "VARCHAR",
        "faultCode": "VARCHAR",
        "faultDetail": "VARCHAR",
        "eventTime": "TIMESTAMP",
    },
    select="""
        r.imei as imei,
        r.eventTime as event_time,
        upper(trim(r.faultCode)) as fault_code,
        r.faultDetail as fault_detail,
        r.deviceName as device_name
    """,
    where="r.imei is not null and r.eventTime is not null and r.faultCode is not null",
    keys=("imei", "event_time", "fault_code"),
)


# -- media, platform geofences, TAG locations and commands (issue 9) -------------------------------------
# Times that arrive as Unix seconds (the spec's media and TAG methods) or as `yyyy-MM-dd HH:mm:ss` text
# (jimi-api.md): read as text, numbers converted from epoch seconds, text read as UTC.
_EPOCH_OR_TEXT = (
    "case when regexp_full_match(trim({0}), '[0-9]+(\\.0+)?') then to_timestamp(trim({0})::double::bigint) "
    "else timezone('UTC', try_cast(trim({0}) as timestamp)) end"
)
# photo/video from the numeric media_type when sent, else from the MIME type (jimi-api.md sends no type).
_MEDIA_KIND = (
    "case when {0} = '1' or {1} like 'image/%' then 'photo' when {0} = '2' or {1} like 'video/%' then 'video' end"
)
# positionType: spec codes 1 GPS, 2 LBS, 3 WIFI, 5 BEACON, or the same as words. (The location methods'
# posType mapping above gives BEACON 4; the TAG section of the spec numbers it 5, kept here.)
_TAG_POS = (
    "coalesce(try_cast({0} as smallint), case upper({0}) when 'GPS' then 1 when 'LBS' then 2 "
    "when 'WIFI' then 3 when 'BEACON' then 5 end)::smallint"
)
# isOffLine / isExecute flags: "0"/"1" strings (spec) or JSON booleans (jimi-api.md), read as text.
_FLAG = "case lower(trim({0})) when '1' then true when 'true' then true when '0' then false when 'false' then false end"


def epoch_or_text(field: str) -> str:
    return _EPOCH_OR_TEXT.format(field)


MEDIA_FILES = Shape(
    method=settings.MEDIA_URL,
    path=("result",),
    fields={
        "thumb_URL": "VARCHAR",
        "file_URL": "VARCHAR",
        "create_time": "VARCHAR",
        "alarm_time": "VARCHAR",
        "mime_type": "VARCHAR",
        "media_type": "VARCHAR",
        "camera": "VARCHAR",
        "file_size": "DOUBLE",
    },
    # k is "imei|channel asked": the answer's camera is 0/1 (spec) or the channel (jimi-api.md).
    select=f"""
        split_part(k, '|', 1) as imei,
        r.file_URL as file_url,
        {epoch_or_text('r.create_time')} as create_time,
        {epoch_or_text('r.alarm_time')} as alarm_time,
        split_part(k, '|', 2)::smallint as camera_channel,
        r.camera as camera_raw,
        {_MEDIA_KIND.format('r.media_type', 'r.mime_type')} as media_kind,
        r.mime_type as mime_type,
        r.file_size::bigint as file_size_bytes,
        r.thumb_URL as thumb_url
    """,
    where="r.file_URL is not null and r.create_time is not null",
    keys=("imei", "file_url"),
)

# One row per file of an alarm event; the event's fields repeat on each of its files.
EVENT_MEDIA_FIELDS = {
    "imei": "VARCHAR",
    "event_type_id": "VARCHAR",
    "event_type": "VARCHAR",
    "lat": "DOUBLE",
    "lng": "DOUBLE",
    "alarm_time": "VARCHAR",
    "create_time": "VARCHAR",
    "fileList": [{"media_type": "VARCHAR", "mime_type": "VARCHAR", "thumb_URL": "VARCHAR", "file_URL": "VARCHAR",
                  "camera": "VARCHAR", "file_size": "DOUBLE"}],
}  # fmt: skip
EVENT_MEDIA_SELECT = f"""
    r.imei as imei,
    {epoch_or_text('r.alarm_time')} as alarm_time,
    -- spec: event_type_id + event_type (the name); jimi-api.md: event_type only, the type id.
    coalesce(r.event_type_id, r.event_type) as event_type_id,
    case when r.event_type_id is not null then r.event_type end as event_type_name,
    f.file_URL as file_url,
    {epoch_or_text('r.create_time')} as create_time,
    r.lat as lat,
    r.lng as lng,
    {_MEDIA_KIND.format('f.media_type', 'f.mime_type')} as media_kind,
    f.mime_type as mime_type,
    try_cast(f.camera as smallint) as camera_channel,
    f.file_size::bigint as file_size_bytes,
    f.thumb_URL as thumb_url
"""
EVENT_MEDIA_KEYS = ("imei", "alarm_time", "event_type_id", "file_url")

FENCE_FIELDS = {
    "fence_id": "VARCHAR",
    "fence_name": "VARCHAR",
    "fence_type": "VARCHAR",
    "fence_color": "VARCHAR",
    "coordinates": "VARCHAR",
    "radius": "VARCHAR",
    "description": "VARCHAR",
    "imeis": "VARCHAR",
    "alert_type": "VARCHAR",
    "stay_time_in": "BIGINT",
    "stay_time_out": "BIGINT",
    "account": "VARCHAR",
}
# Geometry stays as the API gives it (`coordinates`: "lat,lng" pairs, latitude first, `;` between polygon
# vertices) plus the circle's parsed centre and radius; staging parses polygons into a list of points.
PLATFORM_GEOFENCES = Shape(
    method=settings.FENCE_LIST,
    path=("result", "rows"),
    fields=FENCE_FIELDS,
    select="""
        r.fence_id as fence_id,
        r.fence_name as fence_name,
        lower(r.fence_type) as fence_type,
        r.coordinates as coordinates,
        case when lower(r.fence_type) = 'circle' then trim(split_part(r.coordinates, ',', 1))::double end as center_lat,
        case when lower(r.fence_type) = 'circle' then trim(split_part(split_part(r.coordinates, ';', 1), ',', 2))::double end as center_lng,
        case when lower(r.fence_type) = 'circle' then try_cast(nullif(trim(r.radius), '') as double) end as radius_m,
        len(string_split(r.coordinates, ';')) as vertex_count,
        r.fence_color as fence_color,
        nullif(r.description, '') as description,
        nullif(r.alert_type, '') as alert_types,
        r.stay_time_in as stay_time_in_days,
        r.stay_time_out as stay_time_out_days,
        r.account as account
    """,
    where="r.fence_id is not null",
    keys=("fence_id",),
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
        {epoch_or_text('r.gpsTime')} as gps_time,
        r.lat as lat,
        r.lng as lng,
        {_KNOWN.format('r.gpsSpeed')} as speed_kmh,
        {_KNOWN.format('r.directions')} as direction_deg,
        {_TAG_POS.format('r.positionType')} as pos_type,
        r.gpsNum::smallint as satellites
    """,
    keys=("imei", "gps_time"),
    key_column="imei",
)

COMMAND_TEMPLATES = Shape(
    method=settings.INSTRUCTION_LIST,
    path=("result",),
    fields={
        "id": "VARCHAR",
        "orderName": "VARCHAR",
        "orderContent": "VARCHAR",
        "orderExplain": "VARCHAR",
        "orderMsg": "VARCHAR",
        "isOffLine": "VARCHAR",
    },
    select=f"""
        r.id as template_id,
        r.orderName as template_name,
        r.orderContent as template_content,
        r.orderExplain as template_explain,
        nullif(r.orderMsg, '') as template_help,
        {_FLAG.format('r.isOffLine')} as supports_offline
    """,
    where="r.id is not null",
    keys=("imei", "template_id"),
    key_column="imei",
)

COMMAND_RESULTS = Shape(
    method=settings.INSTRUCTION_RESULT,
    path=("result",),
    fields={
        "codeId": "VARCHAR",
        "code": "VARCHAR",
        "content": "VARCHAR",
        "isExecute": "VARCHAR",
        "sendTime": "TIMESTAMP",
        "sender": "VARCHAR",
        "receiveDevice": "VARCHAR",
        "isOffLine": "VARCHAR",
        "idsource": "VARCHAR",
    },
    # isExecute: "0" failed, "1" executed, "3" waiting to be sent, "4" cancelled (spec); a boolean in
    # jimi-api.md, which only says executed or not (status_code stays null then).
    select=f"""
        coalesce(nullif(r.receiveDevice, ''), k) as imei,
        r.sendTime as send_time,
        r.codeId as template_id,
        r.code as command_text,
        nullif(r.content, '') as reply_content,
        try_cast(r.isExecute as smallint) as status_code,
        case try_cast(r.isExecute as smallint) when 0 then 'failed' when 1 then 'executed' when 3 then 'pending'
             when 4 then 'cancelled' end as status,
        coalesce(try_cast(r.isExecute as smallint) = 1, {_FLAG.format('r.isExecute')}) as is_executed,
        {_FLAG.format('r.isOffLine')} as is_offline,
        r.sender as sender,
        r.idsource as command_name
    """,
    where="r.sendTime is not null and r.codeId is not null",
    keys=("imei", "send_time", "template_id"),
)
