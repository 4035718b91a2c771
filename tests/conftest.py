"""Shared fixtures: simulators, isolated data folders, and one end-to-end demo load for the slow tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# dlt and Dagster read configuration from the environment; keep the developer's own out of the tests.
for name in list(os.environ):
    if name.startswith(("SOURCES__JIMI__", "DESTINATION__", "JIMI_")) or name == "DAGSTER_HOME":
        del os.environ[name]
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder for this test (warehouse, published marts, dlt state, tokens)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("JIMI_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder filled as `make demo` does against a wall-clock simulator (6 devices, 3 days): the
    window's pushes replayed through the receiver and loaded, then every asset materialised once."""
    from sources.jimi_sim.account import source_env
    from sources.jimi_sim.api.server import running_simulator
    from sources.jimi_sim.settings import SimSettings

    folder = tmp_path_factory.mktemp("demo") / "data"
    saved = dict(os.environ)
    with running_simulator(SimSettings(devices=6)) as url:
        os.environ.update(
            {"JIMI_DATA_DIR": str(folder), "SOURCES__JIMI__INITIAL_DAYS": "3", **source_env(url)}
        )
        try:
            from orchestration.launch.demo import replay_pushes
            from orchestration.launch.headless import materialize_all

            replay_pushes(3, ["--devices", "6"])
            assert materialize_all()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return folder


@pytest.fixture(autouse=True)
def no_leaked_definitions_state_storage():
    """Dagster 1.13.27's `DagsterInstance.__exit__` disposes the instance but never resets the definitions-state
    storage its `__enter__` put in a ContextVar, so every later definitions load in the process resolves a dead
    instance ("Attempted to resolve undefined DagsterInstance weakref"). Each test starts with none set, and
    whatever it leaves behind is undone when it ends."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


# The full tier only: end-to-end runs, the load engine (warehouse, dbt, locks, processes) and the marts (dbt
# builds over a demo load). `make test-fast` runs the rest (`-m "not slow"`).
SLOW_FOLDERS = {"e2e", "engine", "marts"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
