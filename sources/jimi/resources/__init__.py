"""The Jimi resources, one module per family: what each endpoint is asked, how its pages and windows are
read, and how its answer maps to columns (its `Shape`).

| module | resources |
|---|---|
| `devices` | `devices`, `device_groups` |
| `positions` | `live_locations`, `track_points`, `tag_locations` |
| `reports` | `trips`, `parking` |
| `alarms_obd` | `alarms`, `obd_readings`, `obd_faults` |
| `media` | `media_files`, `event_media` |
| `fences` | `platform_geofences`, `geofence_devices` |
| `commands` | `command_templates`, `command_results` |

Each resource is a function `(run, endpoint)` of the run's shared state (`run.py`) and its registry entry
(`registry.py`), yielding Arrow tables (or, for the small device answers, rows).
"""
