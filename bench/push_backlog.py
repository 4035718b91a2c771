"""Backlog load rate: a day of the default fleet's pushes, landed, loaded into DuckDB, beside DuckDB's read_json.

The day is built from the simulator's fleet (25 devices, seed 7): every GPS fix as a /pushgps item, a
heartbeat per device every 5 minutes, login/logout around each day, ignition alarms at each trip's ends and
overspeed alarms, OBD readings every minute of driving, trip reports, fuel readings every 10 minutes, a
few fault codes. Items are grouped into pushes the way a sender batches them (per path, per 10 s, at most 50)
and landed as the receiver lands them. Then, in the same run:

- baseline: DuckDB alone reads the same files with `read_json` into a table, one row per item;
- pipeline: `orchestration.engine.push_loading.load_batch` — read, type, dedupe, load with dlt into a fresh
  warehouse, move the files — as a sensor-requested run does after an outage.

The figure is items/s of the pipeline over items/s of the baseline (target >= 0.3).

    python bench/push_backlog.py [--devices 25] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

from sources import duckdb_setup
from sources.jimi_push.landing import Payload, commit
from sources.jimi_sim.settings import SimSettings
from sources.jimi_sim.world.fleet import Fleet

DAY = date(2026, 11, 18)
FORMAT = "%Y-%m-%d %H:%M:%S"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(FORMAT)


def day_of_pushes(devices: int, seed: int) -> dict[str, list[tuple[datetime, dict]]]:
    """(receive time, item) per push path for one day of the fleet."""
    fleet = Fleet(SimSettings(devices=devices, seed=seed))
    out: dict[str, list[tuple[datetime, dict]]] = defaultdict(list)
    for device in fleet.devices:
        imei = device.imei
        points = fleet.day_points(imei, DAY)
        if not points:
            continue
        for point in points:
            out["pushgps"].append(
                (
                    point.gps_time,
                    {
                        "deviceImei": imei,
                        "gpsTime": stamp(point.gps_time),
                        "gateTime": stamp(point.gps_time + timedelta(seconds=1)),
                        "satelliteNum": point.satellites,
                        "lng": point.lng,
                        "lat": point.lat,
                        "gpsMode": 0,
                        "gpsSpeed": round(point.speed_kmh),
                        "direction": point.direction,
                        "acc": int(point.acc),
                        "postType": 1,
                    },
                )
            )
            if point.speed_kmh > 80:
                out["pushalarm"].append(
                    (
                        point.gps_time,
                        {
                            "type": "DEVICE",
                            "msgClass": 1,
                            "imei": imei,
                            "gateTime": stamp(point.gps_time),
                            "msg": {
                                "alertType": "6",
                                "alarmTime": stamp(point.gps_time),
                                "lat": point.lat,
                                "lng": point.lng,
                                "gpsSpeed": point.speed_kmh,
                            },
                        },
                    )
                )
        start, end = points[0].gps_time, points[-1].gps_time
        out["pushevent"] += [
            (start, {"deviceImei": imei, "type": "LOGIN", "gateTime": stamp(start), "timezone": "GMT+03:00"}),
            (end, {"deviceImei": imei, "type": "LOGOUT", "gateTime": stamp(end), "timezone": "GMT+03:00"}),
        ]
        moment = start
        while moment < end:
            out["pushhb"].append(
                (
                    moment,
                    {
                        "deviceImei": imei,
                        "gateTime": stamp(moment),
                        "powerLevel": 90,
                        "gsmSign": 70,
                        "acc": 0,
                    },
                )
            )
            if moment.minute % 10 == 0:
                out["pushoil"].append(
                    (
                        moment,
                        {"deviceImei": imei, "path": 1, "gateTime": stamp(moment), "value": 4200, "unit": 4},
                    )
                )
            moment += timedelta(minutes=5)
        for number, trip in enumerate(fleet.day_plan(imei, DAY).trips):
            begin = trip.start_time.strftime("%y%m%d%H%M%S")
            for alarm, when in (("197", trip.start_time), ("198", trip.end_time)):
                out["pushalarm"].append(
                    (
                        when,
                        {
                            "type": "DEVICE",
                            "msgClass": 0,
                            "imei": imei,
                            "gateTime": stamp(when),
                            "msg": {"alertType": alarm, "alarmTime": stamp(when)},
                        },
                    )
                )
            out["pushtripreport"].append(
                (
                    trip.end_time,
                    {
                        "deviceImei": imei,
                        "gateTime": stamp(trip.end_time),
                        "tripSeq": number,
                        "beginTime": begin,
                        "endTime": trip.end_time.strftime("%y%m%d%H%M%S"),
                        "miles": round(trip.distance_km, 2),
                        "oils": round(trip.distance_km * 0.09, 2),
                        "idleTimes": 60,
                        "properties": 2,
                    },
                )
            )
            minute = trip.start_time
            while minute < trip.end_time:
                obd = {
                    "event_time": stamp(minute),
                    "AccState": 1,
                    "currentRPM": "2100",
                    "coolantTemperature": "85",
                    "currentSpeed": "42.5",
                }
                out["pushobd"].append(
                    (minute, {"deviceImei": imei, "obdJson": json.dumps(obd), "gateTime": stamp(minute)})
                )
                minute += timedelta(minutes=1)
            if number == 1:
                out["pushfaultinfo"].append(
                    (
                        trip.end_time,
                        {
                            "deviceImei": imei,
                            "gateTime": stamp(trip.end_time),
                            "faultCodeList": ["P0301", "P0420"],
                            "faultNum": 2,
                        },
                    )
                )
    return out


def land_day(landing: Path, pushes: dict[str, list[tuple[datetime, dict]]]) -> tuple[list[Path], int]:
    payloads = []
    for path, timed in pushes.items():
        windows: dict[int, list[dict]] = defaultdict(list)
        for moment, item in sorted(timed, key=lambda pair: pair[0]):
            windows[int(moment.timestamp()) // 10].append(item)
        for window, items in windows.items():
            for start in range(0, len(items), 50):
                chunk = items[start : start + 50]
                received = datetime.fromtimestamp(window * 10 + 10, UTC)
                payloads.append(
                    Payload(path, json.dumps(chunk).encode(), len(chunk), {}, received_at=received)
                )
    files = []
    for start in range(0, len(payloads), 512):
        files += commit(landing, payloads[start : start + 512])
    return files, sum(payload.item_count for payload in payloads)


def baseline(files: list[Path], warehouse: Path) -> tuple[float, int]:
    connection = duckdb_setup.connect(str(warehouse))
    started = time.perf_counter()
    connection.execute(
        """create table items as select path, received_at, unnest(items) as item
        from read_json(?, columns = {path: 'VARCHAR', received_at: 'VARCHAR', item_count: 'BIGINT', items: 'JSON[]'})""",
        [[str(file) for file in files]],
    )
    elapsed = time.perf_counter() - started
    rows = connection.execute("select count(*) from items").fetchall()[0][0]
    connection.close()
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="push-backlog-") as tmp:
        os.environ["JIMI_DATA_DIR"] = str(Path(tmp) / "data")
        from orchestration.engine.push_loading import load_batch
        from orchestration.settings import current
        from sources.jimi_push.batches import claim_new_batches

        landing = current().landing_dir
        files, items = land_day(landing, day_of_pushes(args.devices, args.seed))
        per_path = defaultdict(int)
        for file in files:
            per_path[file.parts[-3]] += 1
        print(f"a day of {args.devices} devices: {items} items in {len(files)} files {dict(per_path)}")
        base_s, base_rows = baseline(files, Path(tmp) / "baseline.duckdb")
        assert base_rows == items
        print(f"baseline  read_json -> table: {base_s:6.2f} s  {items / base_s:9.0f} items/s")
        started = time.perf_counter()
        [batch] = claim_new_batches(landing, max_files=len(files))
        summary = load_batch(batch)
        ours_s = time.perf_counter() - started
        assert summary.files_loaded == len(files) and not summary.quarantined and summary.items == items
        print(
            f"pipeline  load_batch:          {ours_s:6.2f} s  {items / ours_s:9.0f} items/s  rows {summary.rows_by_table}"
        )
    print(f"push_backlog_ratio: {base_s / ours_s:.2f} (target >= 0.3)")


if __name__ == "__main__":
    main()
