"""Sample push payloads for every path, in the wire shapes of docs/jimi-api.md#families.

Where a source gives an example it is copied; where it gives only a field table (docs/jimi-api.md#families names the sources) (or nothing: pushoil,
pushtem, pushobd, pushfaultinfo, pushtripreport) the sample follows the table and the IoT Hub conventions
(`deviceImei`, `gateTime` UTC, `obdJson` / `lbsJson` as JSON strings, BCD trip times). Shapes that the
reference says vary (numbers as strings, `imei` vs `deviceImei`) vary here too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sources.jimi_push.landing import land
from sources.jimi_push.settings import PUSH_PATHS

NOW = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
IMEI = "869247060001739"
IMEI_2 = "869247060081665"

SAMPLES: dict[str, list[dict]] = {
    "pushevent": [
        {"deviceImei": IMEI, "type": "LOGIN", "gateTime": "2025-03-04 05:59:01", "timezone": "GMT+03:00"},
        {"deviceImei": IMEI_2, "type": "LOGOUT", "gateTime": "2025-03-04 18:02:10", "timezone": "GMT-05:30"},
    ],
    "pushhb": [
        {
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 06:00:00",
            "powerLevel": 90,
            "gsmSign": 80,
            "acc": 1,
            "oilEle": 0,
            "gpsPos": 1,
            "remoteLock": 0,
            "powerStatus": 0,
            "fortify": 0,
        },
        {
            "deviceImei": IMEI_2,
            "gateTime": "2025-03-04 6:05:00",
            "powerLevel": "55",
            "gsmSign": "31",
            "acc": "0",
        },
    ],
    "pushgps": [
        {
            "deviceImei": IMEI,
            "gpsTime": "2025-03-04 06:01:30",
            "gateTime": "2025-03-04 06:01:31",
            "satelliteNum": 10,
            "lng": 36.822310,
            "lat": -1.291870,
            "gpsMode": 0,
            "gpsSpeed": 23,
            "direction": 184,
            "acc": 1,
            "postType": 1,
            "altitude": 1661,
            "distance": 18234612,
        },
        {
            "deviceImei": IMEI,
            "gpsTime": "2025-03-04 06:01:40",
            "gateTime": "2025-03-04 06:01:41",
            "satelliteNum": "0",
            "lng": 0,
            "lat": 0,
            "gpsMode": 1,
            "gpsSpeed": "-1",
            "direction": -1,
            "acc": "ON",
            "postType": "2",
        },
    ],
    "pushalarm": [
        {
            "type": "DEVICE",
            "msgClass": 0,
            "imei": "752533678900242",
            "msg": {
                "alertType": 1,
                "alarmTime": "2026-01-07 11:06:04",
                "lng": 113.943102,
                "lat": 22.576649,
                "gpsSpeed": 0,
            },
            "gateTime": "2026-01-07 11:06:05",
        },
        {
            "type": "DEVICE",
            "msgClass": 1,
            "imei": IMEI_2,
            "msg": {
                "alertType": "256",
                "standardAlarmValue": 2048,
                "lng": 113.943261,
                "lat": 22.576697,
                "alarmSerialNo": 25075,
            },
            "gateTime": "2026-01-07 11:06:05",
        },
        {
            "type": "DEVICE",
            "msgClass": 0,
            "imei": IMEI,
            "msg": {
                "alertType": "removeAlarmType",
                "removeAlarmType": "6",
                "alarmTime": "2026-01-07 11:20:00",
            },
            "gateTime": "2026-01-07 11:20:01",
        },
        # The field names of the TSP-based integration (docs/jimi-api.md #13).
        {
            "deviceImei": IMEI,
            "alarmType": "3",
            "alarmName": "Vibration alert",
            "gateTime": "2026-01-07 12:00:00",
        },
        # A SIM card update rides on the alarm push but is no alarm: it has no alarm type.
        {
            "type": "ICCID",
            "msgClass": 0,
            "imei": IMEI,
            "msg": {"iccid": "89254021234567890123"},
            "gateTime": "2026-01-07 12:30:00",
        },
    ],
    "rfid": [
        {
            "moduleType": "RFID",
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:00:00",
            "postTime": "2025-03-04 07:00:01",
            "value": "0A1B2C3D",
        },
    ],
    "wgtc": [
        {
            "deviceImei": IMEI,
            "hexContent": "9B0102",
            "postTime": "2025-03-04 07:01:00",
            "category": "0x9B",
            "type": 1,
        }
    ],
    "pushoil": [
        {"deviceImei": IMEI, "path": 1, "gateTime": "2025-03-04 07:02:00", "value": 4550, "unit": 4},
        {"deviceImei": IMEI, "path": 2, "gateTime": "2025-03-04 07:02:00", "value": "6125", "unit": "2"},
        {
            "deviceImei": IMEI_2,
            "gateTime": "2025-03-04 07:03:00",
            "value": 1234,
            "unit": "cm",
            "lat": -1.3,
            "lng": 36.8,
        },
    ],
    "pushfileupload": [
        {
            "deviceImei": IMEI,
            "fileName": "a.jpg;b.jpg",
            "gateTime": "2025-03-04 07:04:00",
            "result": "SUCCESS",
        }
    ],
    "pushtem": [
        {
            "deviceImei": IMEI,
            "tem": 4.5,
            "hum": 61.0,
            "gateTime": "2025-03-04 07:05:00",
            "postTime": "2025-03-04 07:05:02",
        },
        {"deviceImei": IMEI_2, "tem": "-18.2", "hum": "", "gateTime": "2025-03-04 07:05:00"},
    ],
    "pushlbs": [
        {
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:06:00",
            "lbsJson": json.dumps({"mcc": 639, "mnc": 2, "cellList": "40100,23456,-67;40100,23457,-80"}),
            "postType": "LBS",
        },
    ],
    "pushresourcelist": [
        {
            "imei": IMEI,
            "totalNum": "1",
            "instructionID": "ins-1",
            "resourceList": [
                {"channel": 1, "beginTime": "250304070000", "endTime": "250304070100", "fileSize": 1024}
            ],
        }
    ],
    "pushftpfileupload": [
        {"result": 0, "deviceImei": IMEI, "instructionID": "ins-2", "gateTime": "2025-03-04 07:07:00"}
    ],
    "pushIothubEvent": [
        {
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:08:00",
            "eventType": "UploadAlarmFileEnd",
            "eventContent": '{"n":1}',
        }
    ],
    "pushPassThroughData": [
        {
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:09:00",
            "type": 240,
            "category": "0x0900",
            "content": "AAEC",
        }
    ],
    "pushTerminalTransInfo": [
        {"postTime": "2025-03-04 07:10:00", "deviceImei": IMEI, "extensionId": 8197, "content": "{}"}
    ],
    "pushInstructResponse": [
        {"_code": "100", "_msg": "ok", "_imei": IMEI, "_serverFlagId": "77", "_content": "RELAY,1#"}
    ],
    "pushFileContent": [
        {
            "instructionId": "ins-3",
            "postTime": "2025-03-04 07:11:00",
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:11:00",
            "content": ["A1", "B2"],
        }
    ],
    "pushextendedkks": [
        {"deviceImei": IMEI, "gateTime": "2025-03-04 07:12:00", "subMessagesId": 3, "content": "0102"}
    ],
    "uploadCallback": [
        {
            "businessType": "eventAttachment",
            "imei": IMEI,
            "camera": 1,
            "shootType": 1,
            "alarmTime": 1741072380,
            "lat": "-1.29",
            "lng": "36.82",
            "mimeType": "image/jpeg",
            "filename": "x.jpg",
        }
    ],
    "generalBusiness": [{"deviceImei": IMEI, "gateTime": "2025-03-04 07:13:00", "businessType": "custom"}],
    "pushobd": [
        {
            "deviceImei": IMEI,
            "obdJson": json.dumps(
                {
                    "car_type": 2,
                    "push_time": "2025-03-04 07:14:05",
                    "event_time": "2025-03-04 07:14:00",
                    "AccState": 1,
                    "statusFlags": 3,
                    "lng": 36.82,
                    "lat": -1.29,
                    "currentRPM": "2016",
                    "coolantTemperature": "77",
                    "remainingFuelPercentage": "58",
                    "vehicleBatterVoltage": "118",
                    "currentSpeed": "88.5",
                    "odometerReading": "2049.6",
                }
            ),
            "gateTime": "2025-03-04 07:14:06",
        },
        # obdJson as an object, with standard-PID data IDs only.
        {
            "deviceImei": IMEI_2,
            "obdJson": {
                "event_time": "2025-03-04 07:15:00",
                "AccState": 0,
                "dataID12": 800,
                "dataID5": 65,
                "dataID66": 12.6,
            },
        },
    ],
    "pushfaultinfo": [
        {
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:16:00",
            "faultCodeList": ["P0301", "p0420"],
            "faultNum": 2,
            "statusFlags": 1,
            "lng": 36.82,
            "lat": -1.29,
            "eventTime": 1741072500,
        },
        {
            "deviceImei": IMEI_2,
            "gateTime": "2025-03-04 07:17:00",
            "faultCodeList": '["U0100"]',
            "faultNum": "1",
        },
        # A report without codes (cleared faults) is kept, in other_pushes.
        {"deviceImei": IMEI_2, "gateTime": "2025-03-04 07:18:00", "faultCodeList": [], "faultNum": 0},
    ],
    "pushtripreport": [
        {
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:00:00",
            "tripSeq": 12,
            "beginTime": "250304061530",
            "beginLat": -1.309,
            "beginLng": 36.848,
            "properties": 1,
        },
        {
            "deviceImei": IMEI,
            "gateTime": "2025-03-04 07:30:00",
            "miles": 14.2,
            "oils": 1.35,
            "idleTimes": 240,
            "tripSeq": 12,
            "beginTime": "250304061530",
            "endTime": "250304072545",
            "beginLat": -1.309,
            "beginLng": 36.848,
            "endLat": -1.265,
            "endLng": 36.805,
            "properties": 2,
        },
    ],
}


def form(path: str, token: str, items: list[dict] | None = None) -> dict[str, str]:
    """The form fields of one push of `items` (the path's samples by default)."""
    fields = {"token": token, "data_list": json.dumps(SAMPLES[path] if items is None else items)}
    if path == "pushInstructResponse":
        fields["msgType"] = "2"
    return fields


def land_samples(root: Path, paths=PUSH_PATHS, now: datetime = NOW) -> list[Path]:
    """Land each path's samples as one push, as the receiver would, received at `now`."""
    return [
        land(root, path, json.dumps(SAMPLES[path]).encode(), len(SAMPLES[path]), {}, now=now)
        for path in paths
    ]
