"""The launchers (`make run`, `make demo`): what the Makefile hands them, the list `make` prints, busy ports
found before anything starts, and the first history's job, tags and effect on the schedules."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.launch import demo, live
from orchestration.launch.processes import LaunchError, check_ports, free_port

ROOT = Path(__file__).resolve().parents[2]


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def fake_python(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in for the venv's python that records the arguments make gives it, and the file it writes."""
    record = tmp_path / "argv.json"
    script = tmp_path / "python"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n"
    )
    script.chmod(0o755)
    return script, record


SIM_ARGS = {
    "none": ("", []),
    "one lone flag": ("--exact", ["--exact"]),
    "a flag and an option": ("--exact --seed 7", ["--exact", "--seed", "7"]),
    "the README's example": ("--devices 50 --seed 3", ["--devices", "50", "--seed", "3"]),
    "a quoted path": ('--trace "my drive.csv"', ["--trace", "my drive.csv"]),
}


@pytest.mark.parametrize("target", ["run", "demo"])
@pytest.mark.parametrize("case", sorted(SIM_ARGS))
def test_make_hands_sim_args_to_the_launcher_as_typed_when_given_one_several_or_none(
    target, case, fake_python
):
    script, record = fake_python
    text, expected = SIM_ARGS[case]
    result = make(target, f"PY={script}", f"SIM_ARGS={text}")
    assert result.returncode == 0, result.stderr
    argv = json.loads(record.read_text())
    module = {"run": live, "demo": demo}[target]
    assert argv[:2] == ["-m", module.__name__]
    assert shlex.split(module.parse_args(argv[2:]).sim_args) == expected


def test_make_run_hands_the_port_settings_and_history_days_to_the_launcher(fake_python):
    script, record = fake_python
    result = make("run", f"PY={script}", "UI_PORT=3001", "SIM_PORT=9001", "PUSH_PORT=9002", "HISTORY_DAYS=5")
    assert result.returncode == 0, result.stderr
    args = live.parse_args(json.loads(record.read_text())[2:])
    assert (args.ui_port, args.sim_port, args.push_port, args.history_days) == (3001, 9001, 9002, 5)


def test_make_without_a_target_lists_every_target_with_its_description():
    result = make()
    assert result.returncode == 0, result.stderr
    phony = re.search(r"^\.PHONY: (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1).split()
    listed = dict(re.findall(r"^  make (\S+) +(\S.*)$", result.stdout, re.MULTILINE))
    assert set(listed) == set(phony)
    assert listed["run"].startswith("simulator + push + Dagster UI")


@pytest.fixture
def busy_port():
    """A port some other process is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("setting", ["UI_PORT", "SIM_PORT", "PUSH_PORT"])
def test_check_ports_names_the_busy_port_its_setting_and_a_free_one(setting, busy_port):
    ports = {"UI_PORT": free_port(), "SIM_PORT": free_port(), "PUSH_PORT": free_port()} | {setting: busy_port}
    with pytest.raises(LaunchError) as raised:
        check_ports(ports, "make run")
    pattern = rf"port {busy_port} \({setting}\) is already in use by another process; stop that process or choose another port, for example `make run {setting}=(\d+)`"
    match = re.fullmatch(pattern, str(raised.value))
    assert match, str(raised.value)
    spare = int(match.group(1))
    assert spare > busy_port and spare not in ports.values()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", spare))


def test_run_fails_at_once_naming_the_busy_ui_port_before_starting_anything(busy_port, tmp_path):
    sim_port, push_port = free_port(), free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.launch.live",
            "--ui-port",
            str(busy_port),
            "--sim-port",
            str(sim_port),
            "--push-port",
            str(push_port),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "JIMI_DATA_DIR": str(tmp_path / "data")},
        check=False,
    )
    assert result.returncode == 1
    assert re.fullmatch(
        rf"make run: port {busy_port} \(UI_PORT\) is already in use by another process; stop that process or "
        rf"choose another port, for example `make run UI_PORT=\d+`\n",
        result.stderr,
    ), result.stderr
    assert result.stdout == ""  # no simulator, no receiver: nothing started
    assert not (tmp_path / "data").exists()


def test_first_history_job_polls_every_resource_then_builds_and_publishes_the_marts():
    from orchestration.definitions import defs as load_definitions

    defs = load_definitions()
    graph = defs.resolve_asset_graph()
    selected = defs.resolve_job_def("first_history").asset_layer.selected_asset_keys
    push = {key for key in graph.materializable_asset_keys if key.path[0] == "jimi_push"}
    assert push and not selected & push
    # Everything else that can be materialised (the jimi_ingest tables are records, not assets a run builds).
    assert selected == set(graph.materializable_asset_keys) - push


@pytest.mark.parametrize("schedule_name", ["sweep_schedule", "track_points_schedule", "transform_schedule"])
def test_schedules_skip_visibly_while_the_first_history_is_loading(schedule_name):
    from dagster import DagsterRun, DagsterRunStatus, build_schedule_context, instance_for_test

    from orchestration.definitions import defs as load_definitions

    defs = load_definitions()
    schedule = defs.get_schedule_def(schedule_name)
    with instance_for_test() as instance:
        instance.add_run(
            DagsterRun(job_name="first_history", run_id="first", status=DagsterRunStatus.STARTED)
        )
        context = build_schedule_context(instance=instance, repository_def=defs.get_repository_def())
        result = schedule.evaluate_tick(context)
    assert not result.run_requests
    assert result.skip_message == "first_history (the first history) is still loading; skipping this tick"


def test_first_history_tags_cover_every_day_the_initial_days_reach():
    from orchestration.defs.runs import MODE_TAG

    now = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    assert live.history_tags(2, now) == {
        MODE_TAG: "incremental",
        "dagster/asset_partition_range_start": "2026-11-18",
        "dagster/asset_partition_range_end": "2026-11-20",
    }


def test_make_bench_runs_every_benchmark_then_fails_naming_those_that_failed(tmp_path):
    record = tmp_path / "ran"
    script = tmp_path / "python"
    failing = {"bench/backfill_months.py", "bench/sim_speed.py"}
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(record)!r}, 'a').write(sys.argv[1] + '\\n')\n"
        f"sys.exit(1 if sys.argv[1] in {sorted(failing)!r} else 0)\n"
    )
    script.chmod(0o755)
    result = make("bench", f"PY={script}")
    benchmarks = sorted(f"bench/{path.name}" for path in (ROOT / "bench").glob("*.py"))
    assert record.read_text().split() == benchmarks
    assert result.returncode != 0
    assert "make bench: failed: bench/backfill_months.py bench/sim_speed.py" in result.stderr.splitlines()
