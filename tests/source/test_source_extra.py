"""The media, geofence, TAG and command resources against a live simulator: exact rows, deletions,
cursors, bounded windows, and faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dlt
import pytest

from orchestration.engine.pipelines import run_source
from sources import duckdb_setup
from sources.jimi import jimi_source
from sources.jimi_sim.account import source_args
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.faults import parse_faults
from sources.jimi_sim.settings import EXACT, SimSettings
from sources.jimi_sim.world.commands import history, templates
from sources.jimi_sim.world.fences import fence_book
from sources.jimi_sim.world.media import device_media
from sources.jimi_sim.world.whereabouts import latest_fix

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SETTINGS = SimSettings(devices=10, now=NOW, token_get_min_interval_s=0, **EXACT)
EXTRA = (
    "media_files",
    "event_media",
    "platform_geofences",
    "geofence_devices",
    "tag_locations",
    "command_results",
    "command_templates",
)
# token_revoked is left out: each revocation waits out the client's once-a-minute token.get guard; the
# fleet-wide fault test (test_source_faults.py) covers it, these resources included.
FAULTS = "rate_limit=0.05,busy=0.05,http_5xx=0.05,truncated=0.05,reset=0.03"


@pytest.fixture
def sim():
    app = create_app(SETTINGS)
    with running_simulator(SETTINGS, app=app) as url:
        yield url, app.state.sim


def pipeline_in(folder):
    return dlt.pipeline(
        pipeline_name="extra",
        destination=dlt.destinations.duckdb(
            credentials=duckdb_setup.dlt_credentials(folder / "warehouse.duckdb")
        ),
        dataset_name="jimi_raw",
        pipelines_dir=str(folder / "dlt"),
    )


def load(url, folder, now=NOW, resources=EXTRA, **kwargs):
    source = jimi_source(
        **source_args(url), now=now, initial_days=1, token_dir=str(folder / "tokens"), **kwargs
    )
    return run_source(pipeline_in(folder), source.with_resources(*resources))


def rows(folder, sql):
    connection = duckdb_setup.connect(str(folder / "warehouse.duckdb"), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_resources_load_exactly_what_the_simulator_holds(sim, tmp_path):
    url, state = sim
    load(url, tmp_path)
    fleet = state.fleet
    dashcam = next(d for d in fleet.devices if d.equipment.is_dashcam)
    files = device_media(fleet, dashcam, NOW - timedelta(days=1), NOW + timedelta(seconds=1))
    loaded = rows(
        tmp_path,
        "select imei, file_url, create_time, alarm_time, camera_channel, media_kind from jimi_raw.media_files order by all",
    )
    expected = sorted(
        (
            f.imei,
            f.file_url,
            utc(f.created),
            utc(f.alarm_epoch) if f.alarm_epoch else None,
            f.camera,
            "photo" if f.media_type == 1 else "video",
        )
        for f in files
    )
    assert (
        len(expected) > 20
        and [(*r[:2], r[2].astimezone(UTC), r[3] and r[3].astimezone(UTC), *r[4:]) for r in loaded]
        == expected
    )
    events = rows(
        tmp_path, "select imei, alarm_time, event_type_id, file_url from jimi_raw.event_media order by all"
    )
    assert [(i, t.astimezone(UTC), k, u) for i, t, k, u in events] == sorted(
        (f.imei, utc(f.alarm_epoch), f.event_type_id, f.file_url) for f in files if f.alarm_epoch
    )
    fences = fence_book(fleet).active()
    assert rows(
        tmp_path, "select fence_id, fence_type, radius_m from jimi_raw.platform_geofences order by 1"
    ) == sorted((f.fence_id, f.kind, f.radius_m) for f in fences)
    assert rows(tmp_path, "select fence_id, imei from jimi_raw.geofence_devices order by all") == sorted(
        (f.fence_id, imei) for f in fences for imei in f.imeis
    )
    tags = [d for d in fleet.devices if d.equipment.is_tag]
    assert [
        (i, t.astimezone(UTC)) for i, t in rows(tmp_path, "select imei, gps_time from jimi_raw.tag_locations")
    ] == [(d.imei, latest_fix(fleet, d).gps_time) for d in tags]
    pollable = [d for d in fleet.devices if d.enabled and d.expiration > NOW]
    commands = rows(
        tmp_path, "select imei, send_time, template_id, status from jimi_raw.command_results order by all"
    )
    assert [(i, t.astimezone(UTC), k, s) for i, t, k, s in commands] == sorted(
        (
            c.imei,
            utc(c.sent),
            str(c.template.template_id),
            {"0": "failed", "1": "executed", "3": "pending", "4": "cancelled"}[
                c.status(int(NOW.timestamp()))
            ],
        )
        for d in pollable
        for c in history(SETTINGS.seed, d, NOW)
    )
    assert rows(tmp_path, "select imei, template_id from jimi_raw.command_templates order by all") == sorted(
        (d.imei, str(t.template_id)) for d in pollable for t in templates(d)
    )


def test_fence_deleted_on_platform_disappears_after_next_load(sim, tmp_path):
    url, state = sim
    load(url, tmp_path, resources=("platform_geofences", "geofence_devices"))
    book = fence_book(state.fleet)
    gone = next(f for f in book.active() if f.kind == "polygon")
    assert (gone.fence_id,) in rows(tmp_path, "select fence_id from jimi_raw.platform_geofences")
    book.delete(gone.fence_id)
    load(url, tmp_path, resources=("platform_geofences", "geofence_devices"))
    assert rows(tmp_path, "select fence_id from jimi_raw.platform_geofences order by 1") == sorted(
        (f.fence_id,) for f in book.active()
    )
    assert rows(
        tmp_path, f"select count(*) from jimi_raw.geofence_devices where fence_id = '{gone.fence_id}'"
    ) == [(0,)]
    assert rows(tmp_path, "select count(*) from jimi_raw.geofence_devices") == [
        (sum(len(f.imeis) for f in book.active()),)
    ]


def test_media_cursor_moves_on_schedule_and_stays_on_bounded_window(sim, tmp_path):
    url, state = sim
    load(url, tmp_path, resources=("media_files", "event_media"))
    resources = pipeline_in(tmp_path).state["sources"]["jimi"]["resources"]
    assert (
        resources["media_files"]["polled_until"]
        == resources["event_media"]["polled_until"]
        == NOW.isoformat()
    )
    earlier = NOW - timedelta(days=3)
    load(url, tmp_path, resources=("media_files",), start=earlier, end=earlier + timedelta(days=1))
    assert (
        pipeline_in(tmp_path).state["sources"]["jimi"]["resources"]["media_files"]["polled_until"]
        == NOW.isoformat()
    )
    dashcam = next(d for d in state.fleet.devices if d.equipment.is_dashcam)
    total = len(device_media(state.fleet, dashcam, earlier, NOW + timedelta(seconds=1))) - len(
        device_media(
            state.fleet, dashcam, earlier + timedelta(days=1) + timedelta(seconds=1), NOW - timedelta(days=1)
        )
    )
    assert rows(tmp_path, "select count(*) from jimi_raw.media_files") == [(total,)]
    later = state.clock.advance(3600)
    summary = load(url, tmp_path, now=later, resources=("media_files",))
    reread = device_media(state.fleet, dashcam, NOW - timedelta(hours=2), later + timedelta(seconds=1))
    assert summary.rows_by_table.get("media_files", 0) == len(reread)


def test_fault_injected_run_loads_exactly_the_fault_free_rows(tmp_path):
    snapshots = []
    for name, faults in (("clean", ""), ("faulty", FAULTS)):
        settings = SimSettings(
            devices=10, now=NOW, token_get_min_interval_s=0, faults=parse_faults(faults), **EXACT
        )
        folder = tmp_path / name
        with running_simulator(settings, app=create_app(settings)) as url:
            load(url, folder, max_attempts=12, backoff_s=0.01, timeout_s=2.0)
        snapshots.append(
            {
                table: rows(
                    folder,
                    f"select columns(lambda c: not starts_with(c, '_dlt')) from jimi_raw.{table} order by all",
                )
                for table in EXTRA
            }
        )
    clean, faulty = snapshots
    assert all(clean[table] for table in EXTRA)
    assert faulty == clean
