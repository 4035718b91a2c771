"""The push sensor: each landed file claimed once, run keys that never collide, runs that load each file once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, DefaultSensorStatus, Definitions, build_sensor_context
from push_samples import SAMPLES

from orchestration import settings as project
from orchestration.defs.push import (
    BATCH_TAG,
    CHECK_NAME,
    jimi_push_assets,
    plan_push_runs,
    push_landing_sensor,
    push_load_job,
)
from sources import duckdb_setup
from sources.jimi_push import settings
from sources.jimi_push.batches import batch_files, claimed_batches, finish, pending_files
from sources.jimi_push.landing import land

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

DEFS = Definitions(assets=[jimi_push_assets], jobs=[push_load_job], sensors=[push_landing_sensor])


def land_sample(root: Path, path: str) -> Path:
    return land(root, path, json.dumps(SAMPLES[path]).encode(), len(SAMPLES[path]), {})


def no_runs(batch: str) -> list[DagsterRunStatus]:
    return []


def test_plan_claims_each_file_once_when_sensor_ticks_twice(tmp_path: Path):
    root = tmp_path / "landing"
    files = [land_sample(root, path) for path in ("pushgps", "pushhb", "pushgps")]
    [first], _ = plan_push_runs(root, no_runs)
    claimed = {file.name for file in batch_files(root, first.tags[BATCH_TAG])}
    land_sample(root, "pushalarm")
    finish(root, first.tags[BATCH_TAG], batch_files(root, first.tags[BATCH_TAG]), {})  # what its run does
    [second], _ = plan_push_runs(
        root, lambda batch: [DagsterRunStatus.SUCCESS] if batch == first.tags[BATCH_TAG] else []
    )
    assert first.run_key != second.run_key
    assert claimed == {file.name for file in files}
    assert [file.parts[-3] for file in batch_files(root, second.tags[BATCH_TAG])] == ["pushalarm"]
    assert pending_files(root) == []


def test_plan_holds_new_files_back_when_a_batch_run_is_in_flight(tmp_path: Path):
    root = tmp_path / "landing"
    land_sample(root, "pushgps")
    [first], _ = plan_push_runs(root, no_runs)
    waiting = [land_sample(root, "pushhb"), land_sample(root, "pushgps")]
    requests, stuck = plan_push_runs(root, lambda batch: [DagsterRunStatus.QUEUED])
    assert (requests, stuck, claimed_batches(root)) == ([], [], [first.tags[BATCH_TAG]])
    assert sorted(pending_files(root)) == sorted(waiting)


def test_plan_requests_batch_config_and_tag_when_batch_is_new(tmp_path: Path):
    root = tmp_path / "landing"
    land_sample(root, "pushgps")
    [request], stuck = plan_push_runs(root, no_runs)
    [batch] = claimed_batches(root)
    assert (request.run_key, request.tags, stuck) == (batch, {BATCH_TAG: batch}, [])
    assert request.run_config["ops"] == {"jimi_push": {"config": {"batch": batch}}}


def test_plan_splits_files_into_batches_when_more_than_max_files(tmp_path: Path):
    root = tmp_path / "landing"
    for _ in range(5):
        land_sample(root, "pushhb")
    requests, _ = plan_push_runs(root, no_runs, max_files=2)
    assert sorted(len(batch_files(root, request.tags[BATCH_TAG])) for request in requests) == [1, 2, 2]
    assert len({request.run_key for request in requests}) == 3


@pytest.mark.parametrize(
    ("statuses", "run_key_suffix", "stuck"),
    [
        ([DagsterRunStatus.STARTED], None, False),
        ([DagsterRunStatus.FAILURE, DagsterRunStatus.QUEUED], None, False),
        ([DagsterRunStatus.FAILURE], "#1", False),
        ([DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED], "#2", False),
        ([DagsterRunStatus.FAILURE] * 3, None, True),
    ],
)
def test_plan_retries_with_a_new_run_key_when_earlier_runs_failed(
    tmp_path: Path, statuses, run_key_suffix, stuck
):
    root = tmp_path / "landing"
    land_sample(root, "pushgps")
    plan_push_runs(root, no_runs)
    [batch] = claimed_batches(root)
    requests, waiting = plan_push_runs(root, lambda _: statuses)
    assert [request.run_key for request in requests] == ([batch + run_key_suffix] if run_key_suffix else [])
    assert waiting == ([batch] if stuck else [])


def test_sensor_definition_runs_by_default_every_15_seconds_when_loaded():
    assert push_landing_sensor.default_status == DefaultSensorStatus.RUNNING
    assert push_landing_sensor.minimum_interval_seconds == 15
    assert push_landing_sensor.job_name == "load_push_landing"


def warehouse_rows(sql: str) -> list[tuple]:
    connection = duckdb_setup.connect(str(project.current().warehouse_path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def run(instance: DagsterInstance, request):
    job = DEFS.resolve_job_def("load_push_landing")
    return job.execute_in_process(
        run_config=request.run_config,
        instance=instance,
        tags={**request.tags, "dagster/run_key": request.run_key},
        raise_on_error=False,
    )


def test_sensor_runs_load_duplicates_once_and_quarantine_corrupt_file_when_executed(data_dir: Path):
    root = project.current().landing_dir
    for path in ("pushgps", "pushalarm", "pushobd"):
        land_sample(root, path)
        land_sample(root, path)  # the sender delivered it again (our reply was lost)
    corrupt = root / "pushhb" / "2025-03-04" / "20250304T080000.000000Z-corrupt.json"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text('{"path": "pushhb", "items": [{"deviceImei": "1"')
    with DagsterInstance.ephemeral() as instance:
        result = push_landing_sensor(build_sensor_context(instance=instance, definitions=DEFS))
        [request] = result.run_requests
        outcome = run(instance, request)
        assert outcome.success
        checks = outcome.get_asset_check_evaluations()
        assert [(check.check_name, check.passed) for check in checks] == [(CHECK_NAME, False)]
        assert checks[0].metadata["files_quarantined"].value == 1
        ledger = next(
            event.materialization.metadata
            for event in outcome.get_asset_materialization_events()
            if event.materialization.asset_key.path == ["jimi_push", "landing_files"]
        )
        assert (ledger["files_loaded"].value, ledger["files_quarantined"].value, ledger["items"].value) == (
            6,
            1,
            18,
        )
        assert ledger["quarantined"].value == {
            "pushhb/2025-03-04/20250304T080000.000000Z-corrupt.json": "not valid JSON"
        }
        # A second tick sees nothing new; a retry of the same run finds nothing left to load.
        again = push_landing_sensor(build_sensor_context(instance=instance, definitions=DEFS))
        assert (again.run_requests, again.skip_reason.skip_message) == ([], "no push files waiting")
        assert run(instance, request).success
    assert warehouse_rows(
        "select count(*), count(distinct (imei, gps_time)) from jimi_push_raw.gps_fixes"
    ) == [(2, 2)]
    assert warehouse_rows("select count(*) from jimi_push_raw.alarms") == [(4,)]
    assert warehouse_rows("select count(*) from jimi_push_raw.obd_readings") == [(2,)]
    assert warehouse_rows(
        "select status, count(*) from jimi_push_raw.landing_files group by all order by 1"
    ) == [("loaded", 6), ("quarantined", 1)]
    assert len(list((root / settings.PROCESSED_DIR).rglob("*.json"))) == 6
    quarantined = sorted(file.name for file in (root / settings.QUARANTINE_DIR).rglob("*") if file.is_file())
    assert quarantined == [corrupt.name, corrupt.name + ".reason.txt"]
    assert claimed_batches(root) == []


def test_definitions_wire_push_assets_job_and_sensor_when_loaded():
    from orchestration.definitions import defs as load_definitions

    defs = load_definitions()

    keys = {
        key.to_user_string()
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        if key.path[0] == "jimi_push"
    }
    assert keys == {f"jimi_push/{table}" for table in settings.TABLES}
    assert defs.get_sensor_def("push_landing_sensor").job_name == "load_push_landing"
    assert defs.resolve_job_def("load_push_landing").executor_def.name == "in_process"
