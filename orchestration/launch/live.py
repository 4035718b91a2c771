"""`make run`: the live system on the simulator — simulator, push receiver and the simulator's live push
sender, the Dagster UI (whose sensor loads the landed pushes), and a first history as a run of the UI's own
instance, so a user can open the UI at once and watch the first history load in Runs.

The simulator is configured exactly as a real account is (the `SOURCES__JIMI__*` variables, given to Dagster's
processes through their environment). Dagster's home is `$JIMI_DATA_DIR/dagster` (persistent, so schedule and
sensor cursors survive restarts), with a `dagster.yaml` that queues runs. Every port is checked before
anything starts. Ctrl-C (or SIGTERM) stops every process this started, and the shutdown runs to the end
whatever signal arrives meanwhile.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..settings import current
from .processes import (
    BIN,
    Children,
    LaunchError,
    check_ports,
    fleet_args,
    start_simulator,
    supervise,
    wait_until_up,
)

# Dagster's tags for the partition range of a run.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def dagster_yaml() -> str:
    """The instance settings `make run` writes: runs queue, at most one run per dlt pipeline at a time (the
    `jimi.pipeline/<name>` tag limits, `defs/runs.run_queue_limits`), no telemetry."""
    import yaml

    from ..defs.runs import run_queue_limits

    settings = {
        "run_queue": {"max_concurrent_runs": 4, "tag_concurrency_limits": run_queue_limits()},
        "telemetry": {"enabled": False},
    }
    return (
        "# Written by `make run` when missing; edit freely, keeping the run_queue tag limits.\n"
        + yaml.safe_dump(settings, sort_keys=False)
    )


def missing_run_queue_limits(text: str) -> list[str]:
    """The pipeline tag limits an existing dagster.yaml lacks (it may predate a resource)."""
    import yaml

    from ..defs.runs import run_queue_limits

    present = {
        limit.get("key")
        for limit in ((yaml.safe_load(text) or {}).get("run_queue") or {}).get("tag_concurrency_limits") or []
    }
    return [limit["key"] for limit in run_queue_limits() if limit["key"] not in present]


def dagster_home() -> Path:
    """Dagster's persistent home with a `dagster.yaml` that serialises the runs of each dlt pipeline."""
    home = Path(os.environ.get("DAGSTER_HOME") or current().dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(dagster_yaml())
    missing = missing_run_queue_limits(settings.read_text())
    if missing:
        raise LaunchError(
            f"{settings} lacks the run queue's tag limits {', '.join(missing)} (one run per dlt pipeline at a time): "
            "delete the file to have make run write it again, or add them under run_queue.tag_concurrency_limits"
        )
    return home


def start_push(port: int, sim_args: list[str], children: Children) -> None:
    """The push receiver landing into the data folder, and the simulator sending it live pushes."""
    from sources.jimi_sim.settings import SimSettings

    token = SimSettings.from_env().push_token
    receiver = children.spawn(
        [
            str(BIN / "jimi-push"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--landing",
            str(current().landing_dir),
        ],
        env={"JIMI_PUSH_TOKEN": token},
    )
    wait_until_up(f"http://127.0.0.1:{port}/health", receiver)
    children.spawn(
        [str(BIN / "jimi-sim"), "push", "--to", f"http://127.0.0.1:{port}", "--live", *fleet_args(sim_args)],
        env={"JIMI_SIM_PUSH_TOKEN": token},
    )
    print(
        f"push receiver: http://127.0.0.1:{port} (landing in {current().landing_dir}), live sender started",
        flush=True,
    )


def history_tags(days: int, now: datetime | None = None) -> dict[str, str]:
    """The first history's run tags: read from the cursors (devices without one start `days` back, the
    `SOURCES__JIMI__INITIAL_DAYS` Dagster gets), recorded on every daily partition those days touch."""
    from ..defs.runs import MODE_TAG

    now = now or datetime.now(UTC)
    return {
        MODE_TAG: "incremental",
        RANGE_START: f"{now - timedelta(days=days):%Y-%m-%d}",
        RANGE_END: f"{now:%Y-%m-%d}",
    }


def launch_first_history(port: int, days: int, dagster, timeout_s: float = 600.0) -> str:
    """Submit the first history to the running UI (its daemon runs it); returns the run id.

    The webserver answers before it has loaded the code location, so the submission is retried until the job
    is known."""
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    from ..defs.runs import FIRST_HISTORY_JOB

    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return client.submit_job_execution(FIRST_HISTORY_JOB, tags=history_tags(days))
        except DagsterGraphQLClientError as exc:
            if dagster.poll() is not None:
                raise LaunchError(f"dagster dev exited with code {dagster.returncode}") from None
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"the UI did not accept the {FIRST_HISTORY_JOB} run within {timeout_s:.0f}s: {exc}"
                ) from None
            time.sleep(1.0)


def wait_for_run(port: int, run_id: str, dagster) -> str:
    """Wait until the run finishes (or Dagster exits); returns its final status."""
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    finished = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    failures = 0
    while dagster.poll() is None:
        try:
            status = client.get_run_status(run_id)
            failures = 0
        except Exception as exc:  # noqa: BLE001 - a busy webserver may miss one answer; a minute of them is fatal
            failures += 1
            if failures >= 30:
                raise LaunchError(f"the UI stopped answering about run {run_id}: {exc}") from None
        else:
            if status in finished:
                return status.value
        time.sleep(2.0)
    raise LaunchError(
        f"dagster dev exited with code {dagster.returncode} while the first history was running"
    )


def run(args: argparse.Namespace, children: Children) -> int:
    check_ports({"UI_PORT": args.ui_port, "SIM_PORT": args.sim_port, "PUSH_PORT": args.push_port}, "make run")
    # Imported once the ports are known to be free: dlt alone takes seconds to import.
    from sources.jimi_sim.account import source_env

    from ..defs.runs import FIRST_HISTORY_JOB
    from .demo import print_summary

    kept = current().history_days
    if not 1 <= args.history_days <= kept:
        raise LaunchError(
            f"HISTORY_DAYS must be between 1 and {kept} (JIMI_HISTORY_DAYS, the days kept as partitions)"
        )
    sim_args = shlex.split(args.sim_args)
    started = time.monotonic()
    _, url = start_simulator(args.sim_port, sim_args, children)
    print(f"simulator: {url}", flush=True)
    start_push(args.push_port, sim_args, children)
    # The simulator's account exactly as a user configures a real one; devices without a cursor start
    # `history_days` back, the days the first history's partitions cover.
    env = {
        **source_env(url),
        "SOURCES__JIMI__INITIAL_DAYS": str(args.history_days),
        "DAGSTER_HOME": str(dagster_home()),
    }
    dagster = children.spawn(
        [
            str(BIN / "dagster"),
            "dev",
            "-m",
            "orchestration.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(args.ui_port),
        ],
        env=env,
    )
    ui = f"http://127.0.0.1:{args.ui_port}"
    # Minutes on a loaded machine; it fails at once if dagster dev exits, so a generous limit costs nothing.
    wait_until_up(f"{ui}/server_info", dagster, timeout_s=600)
    print(
        f"\nDagster UI: {ui}  (up after {time.monotonic() - started:.0f}s; Ctrl-C stops everything)",
        flush=True,
    )
    run_id = launch_first_history(args.ui_port, args.history_days, dagster)
    print(
        f"first history: the {FIRST_HISTORY_JOB} run is loading the last {args.history_days} days: {ui}/runs/{run_id}",
        flush=True,
    )
    status = wait_for_run(args.ui_port, run_id, dagster)
    print(f"first history: {status} after {time.monotonic() - started:.0f}s", flush=True)
    if status == "SUCCESS":
        print_summary()
    else:
        print(
            "the first history did not succeed (see the run in the UI); the schedules will retry",
            file=sys.stderr,
        )
    dagster.wait()
    return dagster.returncode


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ui-port", type=int, default=3000, help="the Dagster UI (make: UI_PORT)")
    parser.add_argument("--sim-port", type=int, default=8765, help="the simulator's API (make: SIM_PORT)")
    parser.add_argument("--push-port", type=int, default=8766, help="the push receiver (make: PUSH_PORT)")
    parser.add_argument(
        "--history-days", type=int, default=2, help="days the first history loads (make: HISTORY_DAYS)"
    )
    parser.add_argument(
        "--sim-args", default="", help="extra `jimi-sim serve` options, one string (make: SIM_ARGS)"
    )
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    sys.exit(supervise(lambda children: run(args, children), "make run"))


if __name__ == "__main__":
    main()
