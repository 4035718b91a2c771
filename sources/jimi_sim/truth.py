"""Ground truth export: what the simulator really generated in a window, as CSV for scoring a pipeline.

`points.csv` holds every recorded fix (`Fleet.points`, late or not: truth is what happened, not what had
arrived), `trips.csv` and `stops.csv` the day plans' trips and stops that start in the window (a stop
still going on at the end of the plan horizon has an empty end_time), `alarms.csv` every alarm, pushed or
platform; `geofences.csv` and `geofence_visits.csv` the platform fences and every bound device's visits
(fences.py). Times are UTC `yyyy-MM-dd HH:mm:ss`; rows are sorted by IMEI (fleet order), then time.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from sources.jimi_sim.timetext import epoch_text, utc_text
from sources.jimi_sim.world.fences import export_fence_truth
from sources.jimi_sim.world.fleet import Fleet

FILES = {
    "points.csv": ("imei", "gps_time", "lat", "lng", "speed_kmh", "acc"),
    "trips.csv": ("imei", "start_time", "end_time", "distance_km"),
    "stops.csv": ("imei", "start_time", "end_time", "kind"),
    "alarms.csv": ("imei", "alarm_time", "alarm_type"),
}


def export_truth(fleet: Fleet, start: datetime, end: datetime, out_dir: Path | str) -> dict[str, int]:
    """Write the four files for [start, end) into out_dir (created if needed); returns rows per file."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handles = {name: (folder / name).open("w", newline="", encoding="utf-8") for name in FILES}
    counts = dict.fromkeys(FILES, 0)
    try:
        writers = {name: csv.writer(handle, lineterminator="\n") for name, handle in handles.items()}
        for name, header in FILES.items():
            writers[name].writerow(header)
        records = fleet.records
        for device in fleet.devices:
            imei = device.imei
            rows = {
                "points.csv": [
                    (
                        imei,
                        utc_text(p.gps_time),
                        f"{p.lat:.6f}",
                        f"{p.lng:.6f}",
                        f"{p.speed_kmh:.1f}",
                        int(p.acc),
                    )
                    for p in fleet.points(imei, start, end)
                ],
                "trips.csv": [
                    (imei, utc_text(t.start_time), utc_text(t.end_time), f"{t.distance_km:.6f}")
                    for t in records.trips(imei, start, end)
                ],
                "stops.csv": [
                    (imei, utc_text(s.start_time), "" if s.end_time is None else utc_text(s.end_time), s.kind)
                    for s in records.stops(imei, start, end)
                ],
                "alarms.csv": [
                    (imei, epoch_text(a.epoch), a.type_id) for a in records.alarms(imei, start, end)
                ],
            }
            for name, lines in rows.items():
                writers[name].writerows(lines)
                counts[name] += len(lines)
    finally:
        for handle in handles.values():
            handle.close()
    counts.update(export_fence_truth(fleet, start, end, folder))
    return counts
