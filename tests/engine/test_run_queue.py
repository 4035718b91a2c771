"""The run queue keeps two runs of one dlt pipeline apart: Dagster's own queue daemon, over the real code
location, with the tag limits `make run` writes into dagster.yaml (`defs/runs.run_queue_limits`).

The runs are launched by Dagster's mocked run launcher, so what is tested is the queue's decision; that two
loads of one pipeline started together both complete with correct cursors is tested on real processes in
test_trust.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import DagsterEvent, DagsterEventType, DagsterRunStatus
from dagster._core.test_utils import (
    create_run_for_test,
    create_test_daemon_workspace_context,
    instance_for_test,
)
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

from orchestration.defs.runs import run_queue_limits
from orchestration.launch.live import dagster_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A queued instance configured as `make run`'s dagster.yaml, and the real code location (loaded once)."""
    import yaml

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JIMI_DATA_DIR", str(tmp_path_factory.mktemp("queue") / "data"))
        run_queue = yaml.safe_load(dagster_yaml())["run_queue"]
        overrides = {
            "run_coordinator": {
                "module": "dagster._core.run_coordinator",
                "class": "QueuedRunCoordinator",
                "config": run_queue,
            },
            "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"},
        }
        target = ModuleTarget(
            module_name="orchestration.definitions",
            attribute=None,
            working_directory=str(ROOT),
            location_name="jimi",
        )
        with (
            instance_for_test(overrides=overrides) as instance,
            create_test_daemon_workspace_context(target, instance) as context,
        ):
            yield instance, context


@pytest.fixture
def queue(workspace):
    """An empty run history, and functions that queue a run of a job as the UI does (with the job's tags) and
    let the queue daemon take one turn."""
    instance, context = workspace
    instance.wipe()
    repository = next(
        iter(context.create_request_context().get_code_location("jimi").get_repositories().values())
    )

    def submit(job_name: str) -> str:
        job = repository.get_full_job(job_name)
        run = create_run_for_test(
            instance,
            job_name=job_name,
            status=DagsterRunStatus.QUEUED,
            tags=dict(job.tags),
            remote_job_origin=job.get_remote_origin(),
            job_code_origin=job.get_python_origin(),
        )
        return run.run_id

    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    yield instance, submit, lambda: list(daemon.run_iteration(context))


def statuses(instance, runs: dict[str, str]) -> dict[str, DagsterRunStatus]:
    return {name: instance.get_run_by_id(run_id).status for name, run_id in runs.items()}


def finish(instance, run_id: str) -> None:
    run = instance.get_run_by_id(run_id)
    instance.report_dagster_event(
        DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name), run_id
    )


def test_run_queue_limits_one_run_per_pipeline_and_nothing_else():
    assert dagster_yaml().startswith("# Written by `make run`")
    assert {limit["limit"] for limit in run_queue_limits()} == {1}


def test_a_second_run_of_one_pipeline_waits_queued_until_the_first_finishes(queue):
    instance, submit, dequeue = queue
    # poll_alarms and poll_history share the jimi_alarms pipeline (and poll_history every history pipeline);
    # poll_sweep shares none with either.
    runs = {name: submit(name) for name in ("poll_alarms", "poll_history", "poll_sweep")}
    dequeue()
    assert statuses(instance, runs) == {
        "poll_alarms": DagsterRunStatus.STARTING,
        "poll_history": DagsterRunStatus.QUEUED,
        "poll_sweep": DagsterRunStatus.STARTING,
    }
    dequeue()
    assert statuses(instance, runs)["poll_history"] == DagsterRunStatus.QUEUED

    finish(instance, runs["poll_alarms"])
    dequeue()
    assert statuses(instance, runs) == {
        "poll_alarms": DagsterRunStatus.SUCCESS,
        "poll_history": DagsterRunStatus.STARTING,
        "poll_sweep": DagsterRunStatus.STARTING,
    }


def test_the_first_history_waits_for_every_polling_run_and_holds_them_back(queue):
    instance, submit, dequeue = queue
    sweep = submit("poll_sweep")
    dequeue()
    first = submit("first_history")
    dequeue()
    assert instance.get_run_by_id(first).status == DagsterRunStatus.QUEUED  # the sweep's pipeline is in use
    finish(instance, sweep)
    dequeue()
    assert instance.get_run_by_id(first).status == DagsterRunStatus.STARTING
    later = {name: submit(name) for name in ("poll_sweep", "poll_devices", "transform")}
    dequeue()
    assert statuses(instance, later) == {
        "poll_sweep": DagsterRunStatus.QUEUED,
        "poll_devices": DagsterRunStatus.QUEUED,
        "transform": DagsterRunStatus.STARTING,  # dbt runs under the warehouse lock, not a pipeline tag
    }
