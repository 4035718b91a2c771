"""Constants of Jimi push (IoT Hub "family B" webhooks): paths, limits, reply codes, folders and tables.

Facts from docs/jimi-api.md#delivery-contract: every push is a form POST to `{base}/<path>` with
`token` and `data_list` (a JSON array as a string, at most 50 items), answered with `{"code":0,"msg":"success"}`;
the sender retries a failed delivery 3 times, 2 minutes apart, then drops it.
"""

from __future__ import annotations

# Every push path the sources name (docs/jimi-api.md#delivery-contract), spelled as the sender does.
PUSH_PATHS: tuple[str, ...] = (
    "pushevent",
    "pushhb",
    "pushgps",
    "pushalarm",
    "rfid",
    "wgtc",
    "pushoil",
    "pushfileupload",
    "pushtem",
    "pushlbs",
    "pushresourcelist",
    "pushftpfileupload",
    "pushIothubEvent",
    "pushPassThroughData",
    "pushTerminalTransInfo",
    "pushInstructResponse",
    "pushFileContent",
    "pushextendedkks",
    "uploadCallback",
    "generalBusiness",
    "pushobd",
    "pushfaultinfo",
    "pushtripreport",
)
# Offline-command responses may carry one object instead of an array (docs/jimi-api.md#delivery-contract).
SINGLE_OBJECT_PATHS = frozenset({"pushInstructResponse"})

TOKEN_ENV = "JIMI_PUSH_TOKEN"
# The landing folder of `jimi-push serve` (or its `--landing`); the Dagster push sensor reads the same setting.
LANDING_ENV = "JIMI_PUSH_LANDING"
# 50 items of a few hundred bytes is ~30 KB; media lists (pushresourcelist) are larger. Far above both.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_FORM_FIELDS = 32

# Replies. Refusals use the HTTP status as the body code, so the two never disagree.
REPLY_OK = b'{"code":0,"msg":"success"}'

# Folders inside the landing root. Push paths never collide with these names.
TMP_DIR = ".tmp"
CLAIMED_DIR = "claimed"
PROCESSED_DIR = "processed"
QUARANTINE_DIR = "quarantine"
REASON_SUFFIX = ".reason.txt"
# Receive-time stamp in file names: sortable, no characters that need quoting anywhere.
STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
RECEIVED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# Loading: dlt pipeline and dataset of their own, so push never shares a working folder with polling.
PIPELINE_NAME = "jimi_push"
DATASET_NAME = "jimi_push_raw"

# Typed table per push family; every other path goes to OTHER_TABLE.
FAMILY_TABLES: dict[str, str] = {
    "pushgps": "gps_fixes",
    "pushalarm": "alarms",
    "pushobd": "obd_readings",
    "pushfaultinfo": "fault_codes",
    "pushtripreport": "trip_reports",
    "pushhb": "heartbeats",
    "pushevent": "device_events",
    "pushoil": "fuel_readings",
    "pushtem": "temperature_readings",
    "pushlbs": "lbs_readings",
}
OTHER_TABLE = "other_pushes"
FILES_TABLE = "landing_files"

# Natural keys: a repeated delivery, or the same item in two files, merges into one row.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "gps_fixes": ("imei", "gps_time"),
    "alarms": ("imei", "alarm_time", "alarm_type_id", "alarm_cleared"),
    "obd_readings": ("imei", "event_time"),
    "fault_codes": ("imei", "event_time", "fault_code"),
    "trip_reports": ("imei", "begin_time", "trip_phase"),
    "heartbeats": ("imei", "gate_time"),
    "device_events": ("imei", "event_time", "event_type"),
    "fuel_readings": ("imei", "reading_time", "sensor_id"),
    "temperature_readings": ("imei", "reading_time"),
    "lbs_readings": ("imei", "gate_time"),
    OTHER_TABLE: ("path", "item_hash"),
    FILES_TABLE: ("landing_file",),
}
TABLES: tuple[str, ...] = tuple(PRIMARY_KEYS)

# /pushoil `unit`: documented as an int code, observed as text (docs/jimi-api.md #37).
FUEL_UNITS = {"1": "cm", "2": "%", "3": "V", "4": "L", "CM": "cm", "%": "%", "V": "V", "L": "L"}

# OBD scalars pulled out of `obdJson` (the whole object is kept as well). Candidates are tried in order:
# names of the polling API (jimi.device.obd.list), names a production receiver used, then `dataID<n>` with n
# the SAE J1979 mode-01 PID in decimal. The PID reading is an assumption (no source has a table: docs/jimi-api.md#families).
OBD_SCALARS: dict[str, tuple[str, ...]] = {
    "engine_rpm": ("currentRPM", "engineRpm", "rpm", "dataID12"),
    "speed_kmh": ("currentSpeed", "vehicleSpeed", "speed", "dataID13"),
    "coolant_temp_c": ("coolantTemperature", "coolantTemp", "dataID5"),
    "fuel_level_pct": ("remainingFuelPercentage", "fuelLevel", "dataID47"),
    "fuel_remaining_l": ("remainingFuel",),
    "engine_load_pct": ("engineLoad", "dataID4"),
    "throttle_pct": ("throttlePosition", "throttle", "dataID17"),
    "intake_pressure_kpa": ("intakePressure", "dataID11"),
    "odometer_km": ("odometerReading", "totalMileage"),
    "device_mileage_km": ("deviceAccumulatedMileage",),
}
# Battery voltage: volts (or raw millivolts) under these keys, 0.1 V units under the polling name ("118" = 11.8 V).
OBD_BATTERY_V_KEYS = ("batteryVoltage", "dataID66")
OBD_BATTERY_DV_KEYS = ("vehicleBatterVoltage",)

# Push delivery to landing file to warehouse: the sensor's batches and how often it looks.
SENSOR_INTERVAL_S = 15
# At most this many files per claimed batch (the orchestration's `JIMI_PUSH_BATCH_FILES` overrides it).
BATCH_MAX_FILES = 5000
MAX_AUTOMATIC_ATTEMPTS = 3
