"""How each Jimi answer maps to a table: where its rows are, the API's field names, and our columns.

This module is the documented mapping from raw API names to table columns: every column's expression
reads `r.<apiField>`. Where the sources disagree (jimi-api-facts.md §9) both spellings are read and
coalesced, so either shape of the API loads the same rows.
"""

from __future__ import annotations

from . import settings
from .decode import Shape

# ACC / ignition: "ON"/"OFF" (track), "1"/"0" (location), "on"/"off" (parking) — discrepancy 19.
_ON = "case upper(trim({0})) when 'ON' then true when '1' then true when 'OFF' then false when '0' then false end"
# posType: 1/2/3 (track) or GPS/LBS/WIFI/BEACON (location) — discrepancy 20.
_POS = (
    "coalesce(try_cast({0} as smallint), case upper({0}) when 'GPS' then 1 when 'LBS' then 2 "
    "when 'WIFI' then 3 when 'BEACON' then 4 end)::smallint"
)
# -1 means "unknown" for speeds and directions.
_KNOWN = "case when {0} >= 0 then {0} end"
_UTC = "timezone('UTC', {0})"


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
        k as imei,
        {_UTC.format('r.gpsTime')} as gps_time,
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
    where="r.gpsTime is not null",
    keys=("imei", "gps_time"),
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
        {_UTC.format('r.gpsTime')} as gps_time,
        {_UTC.format('r.hbTime')} as heartbeat_time,
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
            {_UTC.format('r.startTime')} as start_time,
            {_UTC.format('r.endTime')} as end_time,
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
        {_UTC.format('r.startTime')} as start_time,
        {_UTC.format('r.endTime')} as end_time,
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
        {_UTC.format('r.alertTime')} as alarm_time,
        r.alertTypeId as alarm_type_id,
        coalesce(r.alarmTypeName, r.alertTypeName) as alarm_type_name,
        {_UTC.format('r.positioningTime')} as position_time,
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
    select=f"""
        r.imei as imei,
        {_UTC.format('r.dataReportTime')} as report_time,
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
    select=f"""
        r.imei as imei,
        {_UTC.format('r.eventTime')} as event_time,
        upper(trim(r.faultCode)) as fault_code,
        r.faultDetail as fault_detail,
        r.deviceName as device_name
    """,
    where="r.imei is not null and r.eventTime is not null and r.faultCode is not null",
    keys=("imei", "event_time", "fault_code"),
)
