"""Ingestion health: the records of fault-injected and failed runs, push batches, secrets, marts and checks."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from dagster import AssetSelection, materialize
from push_samples import SAMPLES

from orchestration import settings as project
from orchestration.defs import health as checks
from orchestration.defs.dbt import dbt_definitions
from orchestration.engine import ingest_log
from orchestration.engine.polling import load_jimi
from orchestration.engine.push_loading import load_pending
from orchestration.engine.warehouse import publish_marts, writer_lock
from sources import duckdb_setup
from sources.jimi.signing import password_md5
from sources.jimi_push.landing import land
from sources.jimi_sim.account import source_args
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.faults import parse_faults
from sources.jimi_sim.settings import EXACT, SimSettings

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKEN_METHODS = ("jimi.oauth.token.get", "jimi.oauth.token.refresh")
FAULT_KINDS = ("hang", "reset", "http_5xx", "busy", "rate_limit", "token_revoked", "truncated")
# What the client counts each injected fault as (the recorded `retries_<cause>` columns).
CAUSE_OF_FAULT = {
    "rate_limit": "retries_1006",
    "token_revoked": "retries_1004",
    "busy": "retries_minus1",
    "http_5xx": "retries_http",
    "hang": "retries_timeout",
    "reset": "retries_connection",
    "truncated": "retries_bad_body",
}
CAUSE_COLUMNS = sorted(CAUSE_OF_FAULT.values())
# A revoked token is retried once per call (a second 1004 on the same call fails it), so revocations are
# confined to one method with a rate this seed never repeats on a retry.
FAULTS = "rate_limit=0.06,busy=0.08,http_5xx=0.08,truncated=0.08,reset=0.06,hang=0.04,token_revoked=0.08@jimi.device.track.list"
# Token calls stay clean: a fault on the login itself would make the run fail, not retry (tested elsewhere).
CLEAN_TOKENS = ",".join(f"{kind}=0@{method}" for kind in FAULT_KINDS for method in TOKEN_METHODS)
TIMEOUT_S = 4.0
RESOURCES = ["devices", "track_points", "trips", "alarms", "obd_readings"]


def rows(path: Path, query: str) -> list[tuple]:
    connection = duckdb_setup.connect(str(path), read_only=True)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def faulty_settings(**overrides) -> SimSettings:
    # A hang outlasts the client's timeout (TIMEOUT_S) by far; an honest answer on a busy machine never does.
    base = dict(
        devices=6,
        now=NOW,
        token_get_min_interval_s=0,
        max_calls_per_s=0,
        hang_s=3 * TIMEOUT_S,
        faults=parse_faults(f"{FAULTS},{CLEAN_TOKENS}"),
        **EXACT,
    )
    return SimSettings(**{**base, **overrides})


def polled(url: str, data_dir: Path, **overrides):
    # One worker: a revoked token then costs exactly the call that met the fault (concurrent calls would
    # all see 1004 for one injected fault).
    args = {
        **source_args(url),
        "now": NOW,
        "initial_days": 9,
        "max_workers": 1,
        "max_attempts": 20,
        "backoff_s": 0.0,
        "timeout_s": TIMEOUT_S,
        "calls_per_second": 0,
        "token_dir": str(data_dir / "tokens"),
    }
    return load_jimi(RESOURCES, **{**args, **overrides})


def fast_relogin(patch: pytest.MonkeyPatch) -> None:
    """The token cache waits a minute between logins (the API's rule); the simulator here has no such rule,
    and a revoked token would otherwise cost a minute of the test."""
    import sources.jimi
    from sources.jimi.tokens import TokenCache

    patch.setattr(sources.jimi, "TokenCache", partial(TokenCache, min_login_interval_s=0.0))


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """One fault-injected run of five resources: (data folder, injected faults by (method, kind), summary,
    every token the simulator issued)."""
    folder = tmp_path_factory.mktemp("faulty") / "data"
    settings = faulty_settings()
    app = create_app(settings)
    issued: list[str] = []
    original = app.state.sim.tokens.issue

    def recording_issue(*args, **kwargs):
        grant = original(*args, **kwargs)
        issued.append(grant.token)
        return grant

    app.state.sim.tokens.issue = recording_issue
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JIMI_DATA_DIR", str(folder))
        fast_relogin(patch)
        with running_simulator(settings, app=app) as url:
            summary = polled(url, folder, run_id="faulty-run")
    return folder, dict(app.state.sim.faults.injected), summary, issued


def test_recorded_retries_equal_injected_faults_by_cause_when_simulator_injects_faults(faulty_run):
    folder, injected, summary, _ = faulty_run
    recorded = {
        method: dict(zip(CAUSE_COLUMNS, counts, strict=True))
        for method, *counts in rows(
            folder / "warehouse.duckdb",
            f"select method, {', '.join(f'sum({c})::int' for c in CAUSE_COLUMNS)} from jimi_ingest.api_windows "
            "where run_id = 'faulty-run' group by method",
        )
    }
    expected: dict[str, dict[str, int]] = {method: dict.fromkeys(CAUSE_COLUMNS, 0) for method in recorded}
    for (method, kind), count in injected.items():
        expected.setdefault(method, dict.fromkeys(CAUSE_COLUMNS, 0))[CAUSE_OF_FAULT[kind]] += count
    assert recorded == expected
    # Every kind of fault happened, so every cause was really compared.
    assert {kind for _, kind in injected} == set(FAULT_KINDS)
    # The per-window record adds up to the run's own totals.
    assert sum(sum(by_cause.values()) for by_cause in recorded.values()) == sum(summary.retries.values())
    total_calls, total_errors = rows(
        folder / "warehouse.duckdb", "select sum(calls)::int, sum(errors)::int from jimi_ingest.api_windows"
    )[0]
    assert total_calls == summary.api_calls
    # Every injected fault is an attempt without a usable answer; the run retried each one and succeeded.
    assert total_errors == sum(injected.values())


def test_windows_record_rows_latency_and_status_when_run_succeeds(faulty_run):
    folder, _, summary, _ = faulty_run
    warehouse = folder / "warehouse.duckdb"
    by_resource = dict(
        rows(
            warehouse,
            "select resource, sum(rows_loaded)::int from jimi_ingest.api_windows "
            "where method not like 'jimi.oauth%' and method <> 'jimi.user.device.list' group by 1",
        )
    )
    # Rows the windows returned are the rows dlt normalized for each table (no duplicates in EXACT mode).
    assert by_resource == {
        table: count for table, count in summary.rows_by_table.items() if table in by_resource
    }
    assert set(by_resource) == set(RESOURCES)
    track = rows(
        warehouse,
        "select imei, window_start, window_end, device_count, status, run_status, "
        "latency_p50_ms <= latency_p95_ms and latency_p95_ms <= latency_max_ms "
        "from jimi_ingest.api_windows where method = 'jimi.device.track.list' order by 1, 2",
    )
    # 9 days per device in windows of at most 7 days: two windows for each of the 6 devices' pollable ones.
    assert {row[3:] for row in track} == {(1, "ok", "ok", True)}
    assert {(row[2] - row[1]) <= timedelta(days=7) for row in track} == {True}
    imeis = {row[0] for row in track}
    assert len(track) == 2 * len(imeis)
    runs = rows(warehouse, "select resource, status, error, rows_loaded from jimi_ingest.api_runs order by 1")
    assert [(r, s, e) for r, s, e, _ in runs] == [(r, "ok", None) for r in sorted(RESOURCES)]
    assert {r: n for r, _, _, n in runs} == {r: summary.rows_by_table.get(r, 0) for r in RESOURCES}
    assert not any((folder / "ingest_spool").glob("*.json"))


def test_no_secret_in_any_recorded_row_when_faults_revoke_tokens(faulty_run):
    folder, injected, _, issued = faulty_run
    settings = faulty_settings()
    secrets = {
        settings.app_secret,
        settings.password,
        password_md5(settings.password),
        settings.push_token,
        *issued,
    }
    assert (
        injected.get(("jimi.device.track.list", "token_revoked"), 0)
        + sum(count for (_, kind), count in injected.items() if kind == "token_revoked")
        > 0
        and len(issued) >= 2
    )
    warehouse = folder / "warehouse.duckdb"
    for table in ("api_windows", "api_runs"):
        for row in rows(warehouse, f"select * from jimi_ingest.{table}"):
            text = json.dumps(row, default=str)
            assert not [secret for secret in secrets if secret in text]


def test_error_text_is_redacted_when_an_exception_carries_secrets():
    from sources.jimi.callstats import CallStats

    stats = CallStats("track_points")
    stats.add_secret("token-abcdef123456")
    with pytest.raises(RuntimeError), stats.window("track_points", "jimi.device.track.list"):
        raise RuntimeError("refused token-abcdef123456 with secret sim-app-secret")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCES__JIMI__APP_SECRET", "sim-app-secret")
        record = ingest_log.polling_records(
            "r", "track_points", "incremental", stats, NOW, None, [], RuntimeError("x sim-app-secret")
        )
    window = record["api_windows"][0]
    assert window["error"] == "RuntimeError: refused *** with secret ***"
    assert record["api_runs"][0]["error"] == "RuntimeError: x ***"


def test_failed_run_leaves_its_record_when_retries_run_out_and_warehouse_is_busy(data_dir: Path, monkeypatch):
    settings = SimSettings(devices=3, now=NOW, token_get_min_interval_s=0, max_calls_per_s=0, **EXACT)
    failing = SimSettings(**{**settings.__dict__, "faults": parse_faults("busy=1@jimi.device.track.list")})
    with running_simulator(settings) as url:
        # A first run, so the failing one needs no warehouse to start (a fresh pipeline reads its state there).
        load_jimi(
            ["track_points"],
            **source_args(url),
            now=NOW,
            initial_days=2,
            calls_per_second=0,
            token_dir=str(data_dir / "tokens"),
            run_id="first",
        )
    monkeypatch.setenv("JIMI_INGEST_FLUSH_WAIT_S", "0.2")
    # The same address, so the warehouse sees the account it was loaded from.
    with running_simulator(failing, port=int(url.rsplit(":", 1)[1].split("/")[0])) as url, writer_lock():
        # Someone else holds the warehouse: the run's record must wait in the spool.
        with pytest.raises(Exception, match="gave up after 3 attempts"):
            load_jimi(
                ["track_points"],
                **source_args(url),
                now=NOW,
                initial_days=2,
                max_workers=1,
                max_attempts=3,
                backoff_s=0.0,
                calls_per_second=0,
                token_dir=str(data_dir / "tokens"),
                run_id="doomed",
            )
        spooled = list((data_dir / "ingest_spool").glob("*.json"))
        assert len(spooled) == 1
    warehouse = data_dir / "warehouse.duckdb"
    assert rows(warehouse, "select count(*) from jimi_ingest.api_runs where run_id = 'doomed'") == [(0,)]
    assert ingest_log.flush_spool() == 1
    assert not any((data_dir / "ingest_spool").glob("*.json"))
    [(status, error, loaded)] = rows(
        warehouse, "select status, error, rows_loaded from jimi_ingest.api_runs where run_id = 'doomed'"
    )
    assert (
        (status, loaded) == ("failed", 0)
        and "jimi.device.track.list" in error
        and "gave up after 3 attempts" in error
    )
    windows = rows(
        warehouse,
        "select status, run_status, calls, errors, retries_minus1, rows_loaded from jimi_ingest.api_windows "
        "where run_id = 'doomed' and method = 'jimi.device.track.list'",
    )
    # The pool stops at the first failed device: at least one window failed after 3 attempts (2 retries).
    assert ("failed", "failed", 3, 3, 2, 0) in windows
    assert {row[1] for row in windows} == {"failed"}


def test_loading_the_same_records_twice_adds_no_rows_when_spool_replayed(data_dir: Path):
    from sources.jimi.callstats import CallStats

    stats = CallStats("devices")
    with stats.window("devices", "jimi.user.device.list") as window:
        stats.attempt("jimi.user.device.list", NOW, 0.25, failed=False)
        window.add_rows(3)
    records = ingest_log.polling_records(
        "again", "devices", "incremental", stats, NOW, {"devices": 3}, ["1"], None
    )
    ingest_log.record(records)
    ingest_log.record(records)  # a crash between loading a spool file and deleting it loads it twice
    warehouse = data_dir / "warehouse.duckdb"
    assert rows(
        warehouse,
        "select count(*), sum(calls)::int, sum(rows_loaded)::int, max(latency_p95_ms) "
        "from jimi_ingest.api_windows",
    ) == [(1, 1, 3, 250.0)]
    assert rows(warehouse, "select count(*), sum(rows_loaded)::int from jimi_ingest.api_runs") == [(1, 3)]


def test_push_batch_recorded_with_files_items_rows_and_quarantine_when_loaded(data_dir: Path):
    root = project.current().landing_dir
    for path in ("pushgps", "pushhb", "pushgps"):
        land(root, path, json.dumps(SAMPLES[path]).encode(), len(SAMPLES[path]), {})
    corrupt = root / "pushhb" / "2025-03-04" / "20250304T080000.000000Z-corrupt.json"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text('{"path": "pushhb", "items": [{"deviceImei": "1"')
    summary = load_pending(run_id="push-run")
    [row] = rows(
        data_dir / "warehouse.duckdb",
        "select run_id, status, error, files_loaded, files_quarantined, quarantined_json, items, rows_loaded, "
        "rows_by_table_json from jimi_ingest.push_batches",
    )
    items = 2 * len(SAMPLES["pushgps"]) + len(SAMPLES["pushhb"])
    assert row[:5] == ("push-run", "ok", None, 3, 1)
    assert json.loads(row[5]) == {"pushhb/2025-03-04/20250304T080000.000000Z-corrupt.json": "not valid JSON"}
    assert row[6] == items == summary.items
    assert json.loads(row[8]) == summary.rows_by_table and row[7] == sum(summary.rows_by_table.values()) > 0


HEALTH_AND_FRESHNESS = ("+fct_device_freshness", "+fct_ingest_windows", "+fct_api_usage", "+fct_push_batches")


def build_and_publish(data_dir: Path, tmp_path: Path, select: tuple[str, ...] = HEALTH_AND_FRESHNESS) -> None:
    """dbt run of the health and freshness models (own target folder; their tests run in the full build), then
    the published copy."""
    env = {**os.environ, **project.current().dbt_env()}
    with writer_lock():
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "dbt"),
                "build",
                "--quiet",
                "--profiles-dir",
                ".",
                "--exclude-resource-type",
                "test",
                "--target-path",
                str(tmp_path / "dbt-target"),
                "--select",
                *select,
            ],
            cwd=ROOT / "transform",
            env=env,
            check=True,
        )
        publish_marts()


@pytest.fixture
def silenced_fleet(data_dir: Path, tmp_path: Path):
    """A wall-clock fleet where one reporting device fell silent 3 hours ago and device details fail half
    the time; polled, built and published. Returns (silenced IMEI, the other live IMEIs)."""
    now = datetime.now(UTC).replace(microsecond=0)
    probe = SimSettings(devices=6, **EXACT)
    from sources.jimi_sim.world.fleet import Fleet

    live = [d for d in Fleet(probe).devices if d.habits.reporting and d.enabled and d.expiration > now]
    silenced = live[0].imei
    settings = SimSettings(
        devices=6,
        max_calls_per_s=0,
        silence=((silenced, now - timedelta(hours=3)),),
        faults=parse_faults("busy=0.5@jimi.track.device.detail"),
        **EXACT,
    )
    with running_simulator(settings) as url:
        load_jimi(
            ["devices", "live_locations", "track_points"],
            **source_args(url),
            initial_days=1,
            backoff_s=0.0,
            max_attempts=12,
            token_dir=str(data_dir / "tokens"),
        )
    build_and_publish(data_dir, tmp_path)
    return silenced, {d.imei for d in live[1:]}


def check_results(**env: str) -> dict[str, tuple[bool, dict]]:
    """Both health checks evaluated by Dagster (only the checks are selected, the asset is not run)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        published_marts = dbt_definitions(project.current())[0][1]
        result = materialize(
            [published_marts, *checks.health_checks],
            selection=AssetSelection.checks(*checks.health_checks),
            raise_on_error=False,
        )
    return {
        evaluation.check_name: (evaluation.passed, {k: v.value for k, v in evaluation.metadata.items()})
        for evaluation in result.get_asset_check_evaluations()
    }


def test_freshness_mart_flags_silenced_device_and_checks_fail_then_pass(silenced_fleet, data_dir: Path):
    silenced, others = silenced_fleet
    published = project.current().published_path
    freshness = {
        imei: (silent, stale)
        for imei, silent, stale in rows(
            published, "select imei, is_silent, minutes_stale from fct_device_freshness"
        )
    }
    assert freshness[silenced][0] is True and freshness[silenced][1] >= 180
    assert {imei for imei in others if freshness[imei][0]} == set()

    results = check_results(JIMI_HEALTH_MIN_CALLS="1")
    assert set(results) == {"devices_not_silent", "endpoint_error_share"}
    passed, metadata = results["devices_not_silent"]
    assert passed is False and [row["imei"] for row in metadata["silent_devices"]] == [silenced]
    assert metadata["silent_devices"][0]["silent_minutes"] >= 180
    passed, metadata = results["endpoint_error_share"]
    assert passed is False
    assert [row["method"] for row in metadata["failing_methods"]] == ["jimi.track.device.detail"]
    detail = metadata["failing_methods"][0]
    assert detail["error_share"] == round(detail["errors"] / detail["calls"], 4) > 0.2

    # The same data with thresholds above what happened: both pass.
    results = check_results(
        JIMI_HEALTH_MIN_CALLS="1", JIMI_HEALTH_SILENT_AFTER_MINUTES="600", JIMI_HEALTH_MAX_ERROR_SHARE="0.9"
    )
    assert {name: passed for name, (passed, _) in results.items()} == {
        "devices_not_silent": True,
        "endpoint_error_share": True,
    }
    # And an endpoint with too few calls to judge is not failed.
    results = check_results(JIMI_HEALTH_MIN_CALLS="1000")
    assert results["endpoint_error_share"][0] is True


def test_health_models_leave_the_mart_schema_when_an_older_warehouse_is_built(data_dir: Path, tmp_path: Path):
    """A warehouse built when the health models lived in `marts` has copies there that dbt no longer builds;
    the next build drops them, so the published copy has the health models only under `health`."""
    warehouse = data_dir / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    connection = duckdb_setup.connect(str(warehouse))
    connection.execute("create schema marts; create table marts.fct_api_usage as select 1 as stale")
    connection.close()
    build_and_publish(data_dir, tmp_path, select=("+fct_api_usage",))
    assert rows(
        warehouse, "select schema_name, table_name from duckdb_tables() where table_name = 'fct_api_usage'"
    ) == [("health", "fct_api_usage")]
    # fct_api_usage is built on fct_ingest_windows.
    assert rows(
        project.current().published_path, "select schema_name, table_name from duckdb_tables() order by 2"
    ) == [("health", "fct_api_usage"), ("health", "fct_ingest_windows")]


def test_checks_warn_without_failing_the_run_when_nothing_is_published(data_dir: Path):
    results = check_results()
    assert {name: passed for name, (passed, _) in results.items()} == {
        "devices_not_silent": False,
        "endpoint_error_share": False,
    }
