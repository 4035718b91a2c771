"""dlt source over landed Jimi push files: a typed table per push family, the rest raw, and a file ledger.

Push (the IoT Hub webhooks, `receiver.py`) is the only way to get OBD data, fault codes and heartbeats, and
the fastest way to get alarms. The receiver lands each accepted payload as a JSON file; this source reads a
batch of them (`helpers.read_landed`, DuckDB in memory -> Arrow) into these resources, all merged on a
natural key so a repeated delivery, or one item in two files, becomes one row:

| resource | push path | natural key |
|---|---|---|
| `gps_fixes` | pushgps | imei, gps_time |
| `alarms` | pushalarm | imei, alarm_time, alarm_type_id, alarm_cleared |
| `obd_readings` | pushobd | imei, event_time |
| `fault_codes` (one row per DTC) | pushfaultinfo | imei, event_time, fault_code |
| `trip_reports` | pushtripreport | imei, begin_time, trip_phase |
| `heartbeats` | pushhb | imei, gate_time |
| `device_events` (login/logout) | pushevent | imei, event_time, event_type |
| `fuel_readings` | pushoil | imei, reading_time, sensor_id |
| `temperature_readings` | pushtem | imei, reading_time |
| `lbs_readings` | pushlbs | imei, gate_time |
| `other_pushes` | every other path, and items without a readable key (with `reason`) | path, item_hash |
| `landing_files` | the ledger: each file of each batch, loaded or quarantined (with `reason`) | landing_file |

Every table keeps `raw_json` (the item), `received_at` (UTC receive time) and `landing_file`. Column
mapping: `mapping.py` and README.md in this folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa

from . import settings
from .helpers import LandedBatch, files_table, read_landed

__all__ = ["LandedBatch", "jimi_push_source", "read_landed"]


@dlt.source(name="jimi_push", max_table_nesting=0)
def jimi_push_source(
    files: Sequence[str] = (), batch_id: str = "", landed: Any = None
) -> list[dlt.sources.DltResource]:
    """The push tables for landed `files` (paths), or for an already read `landed` batch (a LandedBatch)."""
    cache: dict[str, LandedBatch] = {}

    def batch() -> LandedBatch:
        if "batch" not in cache:
            cache["batch"] = landed if landed is not None else read_landed([Path(file) for file in files])
        return cache["batch"]

    def table_resource(name: str) -> dlt.sources.DltResource:
        def rows() -> Iterator[pa.Table]:
            table = batch().tables.get(name)
            if table is not None and table.num_rows:
                yield table

        return dlt.resource(
            rows, name=name, primary_key=settings.PRIMARY_KEYS[name], write_disposition="merge"
        )

    def ledger() -> Iterator[pa.Table]:
        if batch().files:
            yield files_table(batch(), batch_id)

    resources = [table_resource(name) for name in settings.TABLES if name != settings.FILES_TABLE]
    resources.append(
        dlt.resource(
            ledger,
            name=settings.FILES_TABLE,
            primary_key=settings.PRIMARY_KEYS[settings.FILES_TABLE],
            write_disposition="merge",
        )
    )
    return resources
