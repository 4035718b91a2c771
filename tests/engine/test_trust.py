"""Trust: no account means no polling (and nothing else breaks), one warehouse never mixes two accounts, the
product never imports the simulator, and one pipeline never runs twice at once."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.definitions import defs as load_definitions
from orchestration.engine import accounts
from orchestration.engine.polling import PollingDisabled, load_jimi
from orchestration.engine.push_loading import load_pending
from sources import duckdb_setup
from sources.jimi import AccountNotConfigured
from sources.jimi_sim.account import credentials, source_args, source_env
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.settings import EXACT, SimSettings

ROOT = Path(__file__).resolve().parents[2]
from push_samples import land_samples

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SETTINGS = SimSettings(devices=3, now=NOW, token_get_min_interval_s=0, **EXACT)
PRODUCT = [
    ROOT / "sources" / "jimi",
    ROOT / "sources" / "jimi_push",
    ROOT / "orchestration" / "engine",
    ROOT / "orchestration" / "defs",
    ROOT / "orchestration" / "definitions.py",
    ROOT / "orchestration" / "settings.py",
]


def rows(warehouse: Path, sql: str) -> list[tuple]:
    connection = duckdb_setup.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def schemas(warehouse: Path) -> set[str]:
    return {name for (name,) in rows(warehouse, "select schema_name from information_schema.schemata")}


def test_product_packages_never_import_the_simulator():
    importers = []
    for root in PRODUCT:
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name.startswith("sources.jimi_sim") for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == []


def test_code_location_loads_without_the_simulator_in_the_process():
    code = (
        "import sys; from orchestration.definitions import defs; d = defs()\n"
        "print(sorted(m for m in sys.modules if m.startswith('sources.jimi_sim')))"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("SOURCES__JIMI__")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_polling_run_fails_at_its_start_naming_the_settings_when_no_account_is_configured(data_dir):
    with pytest.raises(AccountNotConfigured) as refused:
        load_jimi(["devices", "track_points"], run_id="no-account")
    message = str(refused.value)
    assert "no Jimi account is configured (missing: app_key, app_secret, user_id)" in message
    assert "[sources.jimi] in .dlt/secrets.toml" in message and "SOURCES__JIMI__APP_KEY" in message
    warehouse = data_dir / "warehouse.duckdb"
    # Nothing was loaded and no pipeline started; the refusal itself is in the ingestion-health record.
    assert "jimi_raw" not in schemas(warehouse)
    assert not (data_dir / "dlt").exists()
    assert rows(
        warehouse,
        "select resource, status, starts_with(error, 'AccountNotConfigured: no Jimi account') "
        "from jimi_ingest.api_runs order by resource",
    ) == [
        ("devices", "failed", True),
        ("track_points", "failed", True),
    ]


def test_push_and_definitions_work_when_no_account_is_configured(data_dir):
    definitions = load_definitions()
    assert "sweep_schedule" in {schedule.name for schedule in definitions.schedules}
    land_samples(data_dir / "landing")
    summary = load_pending()
    assert summary.files_loaded > 0 and summary.rows_by_table["gps_fixes"] > 0


def test_polling_off_drops_the_polling_schedules_and_refuses_polling_runs(data_dir, monkeypatch):
    monkeypatch.setenv("JIMI_POLLING", "off")
    definitions = load_definitions()
    assert [schedule.name for schedule in definitions.schedules] == ["transform_schedule"]
    assert "poll_sweep" in {job.name for job in definitions.jobs}
    with pytest.raises(PollingDisabled, match="JIMI_POLLING=off"):
        load_jimi(["live_locations"], run_id="off")


def test_a_mistyped_polling_switch_fails_naming_the_variable(monkeypatch):
    monkeypatch.setenv("JIMI_POLLING", "of")
    with pytest.raises(ValueError, match="JIMI_POLLING='of': use on or off"):
        load_definitions()


@pytest.fixture
def two_simulators():
    """Two accounts: the default simulated fleet and another user on its own simulator."""
    other = SimSettings(
        devices=2, now=NOW, token_get_min_interval_s=0, user_id="second_fleet", seed=11, **EXACT
    )
    with running_simulator(SETTINGS, app=create_app(SETTINGS)) as first, running_simulator(other) as second:
        yield (first, SETTINGS), (second, other)


def test_run_refuses_another_account_naming_both_when_the_warehouse_holds_one(data_dir, two_simulators):
    (first_url, first), (second_url, second) = two_simulators
    load_jimi(["devices"], now=NOW, **source_args(first_url, first))
    with pytest.raises(accounts.AccountMismatch) as refused:
        load_jimi(["devices"], now=NOW, **source_args(second_url, second))
    message = str(refused.value)
    assert f"loaded from the Jimi account sim_fleet@{first_url}" in message
    assert f"the configured account is second_fleet@{second_url}" in message
    assert "make account-add" in message and "make account-reset" in message
    assert "sim-app-secret" not in message and "sim-password" not in message
    assert rows(data_dir / "warehouse.duckdb", "select count(*) from jimi_raw.devices") == [(3,)]


def test_added_account_loads_with_its_own_cursors_and_devices_name_their_account(data_dir, two_simulators):
    (first_url, first), (second_url, second) = two_simulators
    load_jimi(["devices", "alarms"], now=NOW, initial_days=1, **source_args(first_url, first))
    added = accounts.add_account(credentials(second_url, second))
    assert added.pipeline_prefix.startswith("jimi_") and added.pipeline_prefix != "jimi"
    load_jimi(["devices", "alarms"], now=NOW, initial_days=1, **source_args(second_url, second))
    warehouse = data_dir / "warehouse.duckdb"
    assert rows(warehouse, "select source_account, count(*) from jimi_raw.devices group by 1 order by 1") == [
        (f"second_fleet@{second_url}", 2),
        (f"sim_fleet@{first_url}", 3),
    ]
    assert rows(
        warehouse, "select account_id, pipeline_prefix from jimi_raw.jimi_accounts order by added_at"
    ) == [
        (f"sim_fleet@{first_url}", "jimi"),
        (f"second_fleet@{second_url}", added.pipeline_prefix),
    ]
    # Each account's alarm cursor lives in a pipeline of its own.
    assert {path.name for path in (data_dir / "dlt").iterdir()} == {
        "jimi_devices",
        "jimi_alarms",
        f"{added.pipeline_prefix}_devices",
        f"{added.pipeline_prefix}_alarms",
    }


def test_reset_starts_the_warehouse_over_for_another_account(data_dir, two_simulators):
    (first_url, first), (second_url, second) = two_simulators
    load_jimi(["devices"], now=NOW, **source_args(first_url, first))
    land_samples(data_dir / "landing")
    load_pending()
    dropped = accounts.reset_warehouse()
    assert dropped == ["jimi_raw"]
    load_jimi(["devices"], now=NOW, **source_args(second_url, second))
    warehouse = data_dir / "warehouse.duckdb"
    assert rows(warehouse, "select distinct source_account from jimi_raw.devices") == [
        (f"second_fleet@{second_url}",)
    ]
    # Push data and the ingestion-health record stay.
    assert {"jimi_push_raw", "jimi_ingest"} <= schemas(warehouse)


def test_two_runs_of_one_pipeline_started_together_both_complete_with_correct_cursors(data_dir):
    """Two processes poll alarms (one dlt pipeline) at once: one holds the pipeline while the other waits, both
    complete, the cursor ends where the later run read to, and no alarm is loaded twice."""
    settings = SimSettings(
        devices=3, token_get_min_interval_s=0, latency_s={"jimi.device.alarm.list": 1.0}, **EXACT
    )
    code = (
        "import contextlib, json, time\n"
        "from orchestration.engine import polling\n"
        "held, original = [], polling.pipeline_lock\n"
        "@contextlib.contextmanager\n"
        "def timed(name, wait_s=None):\n"
        "    with original(name, wait_s):\n"
        "        held.append(time.time()); yield; held.append(time.time())\n"
        "polling.pipeline_lock = timed\n"
        "polling.load_jimi(['alarms'], initial_days=3)\n"
        "print(json.dumps(held))"
    )
    with running_simulator(settings) as url:
        env = {**os.environ, **source_env(url, settings), "JIMI_DATA_DIR": str(data_dir)}
        load_jimi(["devices"], **source_args(url, settings))  # records the account before the race
        children = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0], [err[-2000:] for _, err in outputs]
    (_first_in, first_out), (second_in, second_out) = sorted(json.loads(out) for out, _ in outputs)
    assert first_out <= second_in  # never both inside the pipeline
    warehouse = data_dir / "warehouse.duckdb"
    [(total, distinct)] = rows(
        warehouse, "select count(*), count(distinct (imei, alarm_time, alarm_type_id)) from jimi_raw.alarms"
    )
    assert total == distinct > 0
    # The cursor is the later run's "now", taken once it held the pipeline.
    assert second_in - 1 <= _alarm_cursor(data_dir).timestamp() <= second_out


def _alarm_cursor(data_dir: Path) -> datetime:
    import dlt

    pipeline = dlt.pipeline(pipeline_name="jimi_alarms", pipelines_dir=str(data_dir / "dlt"))
    return datetime.fromisoformat(pipeline.state["sources"]["jimi"]["resources"]["alarms"]["polled_until"])


def test_pipeline_lock_makes_a_second_holder_wait(data_dir):
    from orchestration.engine.pipelines import pipeline_lock
    from orchestration.engine.warehouse import WarehouseBusy

    with pipeline_lock("jimi_alarms"):
        started = time.monotonic()
        with (
            pytest.raises(WarehouseBusy, match="pipeline jimi_alarms stayed busy for 1s"),
            pipeline_lock("jimi_alarms", wait_s=1.0),
        ):
            pass
        assert time.monotonic() - started >= 1.0
