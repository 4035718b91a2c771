"""Wire-shape variants: where the sources disagree (docs/jimi-api.md#discrepancy-register), a setting picks a side.

The real API has been seen answering either way, so consumers must cope with both; the simulator produces
one of them per discrepancy, chosen by name. `production` (the default) follows what field reports saw;
`spec` follows the vendor's field tables. Individual discrepancies override a preset:
`JIMI_SIM_SHAPES="spec,mileage_unit=km"` or `--shape mileage_unit=km`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

# name -> (register number, docs/jimi-api.md#discrepancy-register; allowed variants); the first variant is the production default.
VARIANTS: dict[str, tuple[int, tuple[str, ...]]] = {
    "mileage_unit": (1, ("km", "m")),
    "mileage_duration_key": (3, ("runTimeSecond", "elapsed")),
    "parking_acc_type": (6, ("onoff", "01")),
    "parking_paging": (7, ("picky", "lenient")),
    "alarm_paging": (10, ("strict", "lenient")),
    "alarm_name_key": (12, ("alarmTypeName", "alertTypeName")),
    "imei_limit": (14, ("50", "100")),
    "expires_in_type": (16, ("number", "string")),
    "track_types": (18, ("numbers", "strings")),
    "battery_key": (24, ("electQuantity", "elecQuantity")),
    "vin_key": (25, ("vin", "VIN")),
    "obd_paging": (27, ("zeros", "computed")),
    "obd_time": (28, ("unpadded", "padded")),
    "oil_unit": (37, ("text", "int")),
    # The vendor spec V2.7.14 (first variant) against the earlier production integration (second).
    "media_wire": (43, ("spec", "doc")),
    "fence_total_type": (44, ("number", "string")),
    "tag_wire": (45, ("spec", "doc")),
    "instruction_flags": (46, ("strings", "booleans")),
}


@dataclass(frozen=True)
class Shapes:
    """One variant per discrepancy; see VARIANTS for the choices and their numbers in docs/jimi-api.md#discrepancy-register."""

    mileage_unit: str = "km"  # track.mileage distance/totalMileage: km (production) or metres (spec)
    mileage_duration_key: str = "runTimeSecond"  # the table's key, or the example's `elapsed`
    parking_acc_type: str = "onoff"  # on=idling/off=parking (spec), or 0=all/1=ignition-off (production doc)
    parking_paging: str = "picky"  # picky: page_size <= 50 and pages aligned, else 1001 (client evidence)
    # alarm.list paging: strict = the spec's page_size 1-100, else 1001; lenient = what a production client
    # ran against (it sent `page` with page_size=500 and had to guard against the same first page coming
    # back): page_size up to 1000 (docs/jimi-api.md #13) accepted and answered with at most 100 rows, the
    # unknown `page` ignored. `page_no`, the documented name, counts pages of those 100 rows in both; no
    # source shows it ignored. Strict in both presets: the field report is one client's workaround, and the
    # strict side is the one that catches a client depending on the lenient behaviour.
    alarm_paging: str = "strict"
    alarm_name_key: str = "alarmTypeName"  # live data, or the table's alertTypeName
    imei_limit: str = "50"  # IMEIs per call: 50 (production doc) or 100 (spec)
    expires_in_type: str = "number"  # token expiresIn as in the examples, or the table's string
    track_types: str = "numbers"  # track point direction/gpsSpeed/posType/satellite: numbers or strings
    battery_key: str = "electQuantity"  # location battery key: spec spelling or elecQuantity
    vin_key: str = "vin"  # detail: the table's vin or the example's VIN
    obd_paging: str = "zeros"  # obd paging: startRow/endRow/totalPage 0 as in the example, or computed
    obd_time: str = "unpadded"  # obd dataReportTime hour: "1:27:23" as in the example, or zero-padded
    oil_unit: str = "text"  # pushoil unit: text label (observed) or the documented int code
    # media URLs: spec = Unix-second times, camera 0 front/1 inward, file_size a string, event rows in a
    # `data` paging object with event_type_id; doc = the production integration's tables (docs/jimi-api.md #43): text times, camera = the channel
    # asked (1/2), file_size a number, event rows as a `result` array whose event_type is the type id.
    media_wire: str = "spec"
    fence_total_type: str = "number"  # fence.list result.total: number (example) or string (table)
    # getTagMsg: spec = gpsTime Unix seconds, positionType "5", `directions`; doc = the production integration's (docs/jimi-api.md #45):
    # gpsTime text, positionType "BEACON"/"GPS", no directions.
    tag_wire: str = "spec"
    instruction_flags: str = "strings"  # isOffLine/isExecute: "0"/"1" codes (spec) or booleans

    def __post_init__(self) -> None:
        for spec in fields(self):
            allowed = VARIANTS[spec.name][1]
            if getattr(self, spec.name) not in allowed:
                raise ValueError(f"shape {spec.name} must be one of {', '.join(allowed)}")

    @property
    def max_imeis(self) -> int:
        return int(self.imei_limit)

    def describe(self) -> str:
        return ",".join(f"{spec.name}={getattr(self, spec.name)}" for spec in fields(self))


PRESETS: dict[str, Shapes] = {
    "production": Shapes(),
    "spec": Shapes(
        mileage_unit="m",
        mileage_duration_key="runTimeSecond",
        parking_acc_type="onoff",
        parking_paging="lenient",
        alarm_name_key="alertTypeName",
        imei_limit="100",
        expires_in_type="string",
        track_types="strings",
        battery_key="electQuantity",
        vin_key="vin",
        obd_paging="computed",
        obd_time="padded",
        oil_unit="int",
    ),
}


def parse_shapes(text: str, base: Shapes | None = None) -> Shapes:
    """`preset` and/or `name=variant` items separated by commas, applied left to right."""
    shapes = base if base is not None else Shapes()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if "=" not in item:
            if item not in PRESETS:
                raise ValueError(f"unknown shapes preset {item!r}; known: {', '.join(PRESETS)}")
            shapes = PRESETS[item]
            continue
        name, _, variant = (piece.strip() for piece in item.partition("="))
        if name not in VARIANTS:
            raise ValueError(f"unknown shape {name!r}; known: {', '.join(VARIANTS)}")
        shapes = replace(shapes, **{name: variant})
    return shapes
