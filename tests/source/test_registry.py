"""The registry of Jimi resources is the one source of truth: the dlt source, the Dagster assets, partitions,
jobs, schedules, run-queue limits and the dbt staging models all agree with it."""

from __future__ import annotations

import pytest
from dagster import AssetKey

from orchestration.definitions import defs as load_definitions
from orchestration.defs.polling import CATCH_UP_JOB
from orchestration.defs.runs import PIPELINE_TAG, run_queue_limits
from sources.jimi import ENDPOINTS, HISTORY, jimi_source
from sources.jimi.credentials import credentials_from
from sources.jimi.registry import CADENCES, CATCH_UP

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

DEFINITIONS = load_definitions()
NAMES = [endpoint.name for endpoint in ENDPOINTS]


def test_source_has_one_resource_per_registry_entry_with_its_key_and_disposition():
    credentials = credentials_from(
        "key", "secret", "user", "password", base_url="http://jimi.test/route/rest"
    )
    resources = jimi_source(credentials=credentials).resources
    assert list(resources) == NAMES
    for endpoint in ENDPOINTS:
        hints = resources[endpoint.name].compute_table_schema()
        assert hints["write_disposition"] == endpoint.disposition
        assert [name for name, column in hints["columns"].items() if column.get("primary_key")] == list(
            endpoint.key
        )


def test_every_registry_entry_is_one_asset_partitioned_exactly_when_it_has_a_cursor():
    graph = DEFINITIONS.resolve_asset_graph()
    polled = {key.path[-1] for key in graph.get_all_asset_keys() if key.path[0] == "jimi"}
    assert polled == set(NAMES)
    for endpoint in ENDPOINTS:
        node = graph.get(AssetKey(["jimi", endpoint.name]))
        assert (node.partitions_def is not None) == endpoint.history, endpoint.name
        assert node.description == endpoint.description
        assert node.metadata["api_method"] == endpoint.method
        assert node.metadata["natural_key"] == ", ".join(endpoint.key)


def test_every_cadence_is_a_job_and_a_schedule_at_its_default_cron():
    jobs = {job.name for job in DEFINITIONS.jobs}
    schedules = {schedule.name: schedule for schedule in DEFINITIONS.schedules}
    for name, cadence in CADENCES.items():
        job = DEFINITIONS.resolve_job_def(f"poll_{name}")
        expected = {AssetKey(["jimi", endpoint.name]) for endpoint in ENDPOINTS if endpoint.cadence == name}
        assert job.asset_layer.selected_asset_keys == expected, name
        assert job.tags == {PIPELINE_TAG.format(key.path[-1]): "1" for key in expected}
        assert schedules[f"{name}_schedule"].cron_schedule == cadence.cron
    history = DEFINITIONS.resolve_job_def(CATCH_UP_JOB)
    assert {key.path[-1] for key in history.asset_layer.selected_asset_keys} == set(HISTORY)
    assert schedules["catch_up_schedule"].cron_schedule == CATCH_UP.cron
    assert {f"poll_{name}" for name in CADENCES} | {CATCH_UP_JOB} <= jobs


def test_every_resource_has_a_run_queue_limit_of_one():
    limits = {limit["key"]: limit["limit"] for limit in run_queue_limits()}
    assert {PIPELINE_TAG.format(name) for name in NAMES} <= set(limits)
    assert set(limits.values()) == {1}


def test_every_registry_entry_has_a_staging_model_fed_by_its_asset():
    graph = DEFINITIONS.resolve_asset_graph()
    for endpoint in ENDPOINTS:
        staging = graph.get(AssetKey(["staging", f"stg_jimi__{endpoint.name}"]))
        assert AssetKey(["jimi", endpoint.name]) in staging.parent_keys, endpoint.name
