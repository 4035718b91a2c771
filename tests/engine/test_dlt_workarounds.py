"""The load engine's dlt workarounds (`orchestration/engine/dlt_workarounds.py`): for each, the dlt behaviour it
relies on (so an upgrade that changes it fails here, by name) and its effect on a real pipeline into a DuckDB
file. Written against the installed dlt, which must be the release the module names."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import dlt
import duckdb
import pytest
from dlt.common.destination import Destination, DestinationCapabilitiesContext
from dlt.common.normalizers.naming.sql_cs_v1 import NamingConvention as CaseSensitive
from dlt.pipeline.configuration import PipelineConfiguration
from dlt.pipeline.exceptions import PipelineStepFailed

from orchestration.engine import dlt_workarounds
from orchestration.engine.dlt_workarounds import (
    WRITTEN_AGAINST,
    drop_committed_extracts,
    load_on_connection,
    memoize_capabilities,
    without_state_round_trips,
)
from sources import duckdb_setup

ROWS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
WORKAROUNDS = [memoize_capabilities, without_state_round_trips, load_on_connection, drop_committed_extracts]


def small_pipeline(tmp_path: Path, name: str, destination: Destination | None = None) -> dlt.Pipeline:
    """A pipeline into `tmp_path/warehouse.duckdb`, its working folder under `tmp_path`."""
    destination = destination or dlt.destinations.duckdb(credentials=str(tmp_path / "warehouse.duckdb"))
    return dlt.pipeline(
        pipeline_name=name,
        destination=destination,
        dataset_name="raw",
        pipelines_dir=str(tmp_path / "pipelines"),
    )


def query(tmp_path: Path, sql: str) -> list[tuple]:
    connection = duckdb_setup.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def extract_and_normalize(pipeline: dlt.Pipeline, table: str = "items", rows: list[dict] = ROWS) -> None:
    pipeline.extract(dlt.resource(rows, name=table))
    pipeline.normalize()


# --- the dlt release ---------------------------------------------------------------------------------------


def test_installed_dlt_is_the_release_every_workaround_names():
    assert dlt.__version__.split(".")[:2] == WRITTEN_AGAINST.split(".")
    assert f"written against dlt {WRITTEN_AGAINST}" in dlt_workarounds.__doc__
    assert [f"dlt {WRITTEN_AGAINST}" in (workaround.__doc__ or "") for workaround in WORKAROUNDS] == [
        True
    ] * 4


# --- memoize_capabilities ----------------------------------------------------------------------------------


def test_dlt_capabilities_take_the_config_and_naming_that_memoize_capabilities_passes_on():
    parameters = inspect.signature(Destination.capabilities).parameters
    assert [(name, parameter.default) for name, parameter in parameters.items()] == [
        ("self", inspect.Parameter.empty),
        ("config", None),
        ("naming", None),
    ]
    assert callable(DestinationCapabilitiesContext.copy)


def counted(destination: Destination) -> tuple[Destination, list[str]]:
    """`destination` with its capabilities counted as dlt computes them: "plain" (no config, no naming, or
    a case-insensitive naming: what the memo answers) or "adjusted" (what it passes on)."""
    compute, calls = destination.capabilities, []

    def capabilities(config=None, naming=None):
        adjusted = config is not None or (naming is not None and naming.is_case_sensitive)
        calls.append("adjusted" if adjusted else "plain")
        return compute(config, naming)

    destination.capabilities = capabilities  # type: ignore[method-assign]
    return destination, calls


def test_dlt_computes_plain_capabilities_many_times_per_run_and_memoized_once(tmp_path: Path):
    plain, plain_calls = counted(dlt.destinations.duckdb(credentials=str(tmp_path / "warehouse.duckdb")))
    small_pipeline(tmp_path, "unmemoized", plain).run(dlt.resource(ROWS, name="items"))
    # What the memo saves: dlt asks for the same plain capabilities again and again within one run.
    assert plain_calls.count("plain") > 1

    memoized, memo_calls = counted(dlt.destinations.duckdb(credentials=str(tmp_path / "warehouse.duckdb")))
    small_pipeline(tmp_path, "memoized", memoize_capabilities(memoized)).run(
        dlt.resource(ROWS, name="memo_items")
    )
    assert memo_calls.count("plain") == 1
    assert query(tmp_path, "select id, name from raw.memo_items order by id") == [(1, "a"), (2, "b")]


def test_memoize_capabilities_gives_what_dlt_computes_when_a_caller_changed_its_copy(tmp_path: Path):
    fresh = dlt.destinations.duckdb(credentials=str(tmp_path / "w.duckdb"))
    memoized = memoize_capabilities(dlt.destinations.duckdb(credentials=str(tmp_path / "w.duckdb")))
    first = memoized.capabilities()
    first.max_identifier_length = 1
    assert dict(memoized.capabilities()) == dict(fresh.capabilities())
    assert memoized.capabilities().max_identifier_length == fresh.capabilities().max_identifier_length != 1
    naming = CaseSensitive()
    assert dict(memoized.capabilities(naming=naming)) == dict(fresh.capabilities(naming=naming))


# --- without_state_round_trips -----------------------------------------------------------------------------


def test_dlt_pipeline_takes_no_argument_for_the_two_settings_without_state_round_trips_changes():
    settings = {"restore_from_destination", "enable_runtime_trace"}
    assert settings & set(inspect.signature(dlt.pipeline).parameters) == set()
    assert {name: PipelineConfiguration.__dataclass_fields__[name].default for name in settings} == {
        "restore_from_destination": True,
        "enable_runtime_trace": True,
    }


def test_without_state_round_trips_stores_no_state_and_keeps_no_trace_where_a_plain_pipeline_does(
    tmp_path: Path,
):
    plain = small_pipeline(tmp_path, "plain")
    extract_and_normalize(plain, "plain_items")
    plain.load()
    assert query(tmp_path, "select pipeline_name from raw._dlt_pipeline_state") == [("plain",)]
    assert plain.last_trace is not None

    bare = without_state_round_trips(small_pipeline(tmp_path, "bare"))
    extract_and_normalize(bare, "bare_items")
    bare.load()
    assert query(tmp_path, "select pipeline_name from raw._dlt_pipeline_state") == [("plain",)]
    assert bare.last_trace is None
    assert query(tmp_path, "select id, name from raw.bare_items order by id") == [(1, "a"), (2, "b")]


# --- load_on_connection ------------------------------------------------------------------------------------


def test_dlt_load_keeps_the_connection_it_was_given_open_and_as_its_credentials(tmp_path: Path):
    assert "credentials" in inspect.signature(dlt.Pipeline.load).parameters
    pipeline = small_pipeline(tmp_path, "given_connection")
    extract_and_normalize(pipeline)
    connection = duckdb_setup.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        pipeline.load(credentials=connection)
        # Both are why load_on_connection closes the connection itself and sets the path back.
        assert pipeline.destination.config_params["credentials"] is connection
        assert connection.execute("select count(*) from raw.items").fetchall() == [(2,)]
    finally:
        connection.close()


def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files `duckdb.connect` opens from now on (dlt imports duckdb and calls `duckdb.connect`)."""
    opened, connect = [], duckdb.connect

    def counting(database=":memory:", *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting)
    return opened


def test_dlt_opens_the_warehouse_file_several_times_per_load_given_its_path_and_once_on_load_on_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    warehouse = str(tmp_path / "warehouse.duckdb")
    by_path = small_pipeline(tmp_path, "by_path")
    extract_and_normalize(by_path)
    opened = connects(monkeypatch)
    by_path.load()
    assert len(opened) > 1 and set(opened) == {warehouse}

    on_connection = small_pipeline(tmp_path, "on_connection")
    extract_and_normalize(on_connection, "other_items")
    opened.clear()
    load_on_connection(on_connection, tmp_path / "warehouse.duckdb")
    assert opened == [warehouse]  # its own, and dlt none


def test_load_on_connection_loads_and_leaves_the_path_for_the_next_step(tmp_path: Path):
    pipeline = small_pipeline(tmp_path, "on_connection")
    extract_and_normalize(pipeline)
    info = load_on_connection(pipeline, tmp_path / "warehouse.duckdb")
    info.raise_on_failed_jobs()
    # Set back to the path, with the project's connection settings (sources/duckdb_setup.py).
    credentials = pipeline.destination.config_params["credentials"]
    assert (credentials.database, credentials.global_config) == (
        str(tmp_path / "warehouse.duckdb"),
        duckdb_setup.connection_config(),
    )
    # The connection is closed (a read-only open would fail while it wrote) and the next load opens the path.
    assert query(tmp_path, "select id, name from raw.items order by id") == [(1, "a"), (2, "b")]
    extract_and_normalize(pipeline, rows=[{"id": 3, "name": "c"}])
    pipeline.load().raise_on_failed_jobs()
    assert query(tmp_path, "select id, name from raw.items order by id") == [(1, "a"), (2, "b"), (3, "c")]


# --- drop_committed_extracts -------------------------------------------------------------------------------


def killed_in_normalize_commit(tmp_path: Path, name: str) -> tuple[dlt.Pipeline, Path]:
    """A pipeline whose normalize died between committing its package and deleting the extracted copy."""
    pipeline = small_pipeline(tmp_path, name)
    pipeline.extract(dlt.resource(ROWS, name="items"))
    extracted = Path(pipeline.working_dir, "normalize", "extracted")
    (package,) = extracted.iterdir()
    kept = shutil.copytree(package, tmp_path / f"{name}-extract")
    pipeline.normalize()
    # dlt's commit: the package renamed into load/normalized, then the extracted copy deleted.
    assert Path(pipeline.working_dir, "load", "normalized", package.name).is_dir()
    assert not package.exists()
    shutil.copytree(kept, package)
    return pipeline, package


def test_dlt_normalize_fails_on_the_leftover_extract_of_a_committed_package(tmp_path: Path):
    pipeline, package = killed_in_normalize_commit(tmp_path, "stuck")
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline.normalize()
    assert isinstance(failed.value.exception, OSError)
    assert f"load/normalized/{package.name}" in str(failed.value.exception)
    # Which drop_committed_extracts recovers from, even after the failed attempt.
    drop_committed_extracts(pipeline)
    pipeline.normalize()
    pipeline.load().raise_on_failed_jobs()
    assert query(tmp_path, "select id, name from raw.items order by id") == [(1, "a"), (2, "b")]


def test_drop_committed_extracts_drops_only_extracts_already_normalized_or_loaded(tmp_path: Path):
    pipeline, committed = killed_in_normalize_commit(tmp_path, "killed")
    pipeline.load().raise_on_failed_jobs()
    assert Path(pipeline.working_dir, "load", "loaded", committed.name).is_dir()
    pipeline.extract(dlt.resource([{"id": 3, "name": "c"}], name="items"))  # pending, never normalized
    pending = {path.name for path in committed.parent.iterdir()} - {committed.name}
    drop_committed_extracts(pipeline)
    assert {path.name for path in committed.parent.iterdir()} == pending and len(pending) == 1
    pipeline.normalize()
    pipeline.load().raise_on_failed_jobs()
    assert query(tmp_path, "select id, name from raw.items order by id") == [(1, "a"), (2, "b"), (3, "c")]
