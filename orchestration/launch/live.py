"""`make run`: the live system on the simulator — simulator, push receiver and the simulator's live push
sender, a first history, then the Dagster UI (whose sensor loads the landed pushes).

Dagster's home is `$JIMI_DATA_DIR/dagster` (persistent, so schedule and sensor cursors survive restarts),
with a `dagster.yaml` that queues runs. Ctrl-C (or SIGTERM) stops every process this started.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from pathlib import Path

from ..settings import current
from .demo import print_summary
from .processes import BIN, fleet_args, spawn, start_simulator, stop, wait_until_up

DAGSTER_YAML = """\
# Written by `make run` when missing; edit freely.
run_queue:
  max_concurrent_runs: 4
  tag_concurrency_limits:
    - key: dagster/concurrency_key
      value:
        applyLimitPerUniqueValue: true
      limit: 1
telemetry:
  enabled: false
"""


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or current().data_dir / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(DAGSTER_YAML)
    return home


def start_push(port: int, sim_args: list[str]) -> list:
    """The push receiver landing into the data folder, and the simulator sending it live pushes."""
    from sources.jimi_sim.settings import SimSettings

    token = SimSettings.from_env().push_token
    env = {"JIMI_PUSH_TOKEN": token}
    receiver = spawn(
        [str(BIN / "jimi-push"), "serve", "--host", "127.0.0.1", "--port", str(port), "--landing", str(current().landing_dir)],
        env=env,
    )
    wait_until_up(f"http://127.0.0.1:{port}/health", receiver)
    sender = spawn(
        [str(BIN / "jimi-sim"), "push", "--to", f"http://127.0.0.1:{port}", "--live", *fleet_args(sim_args)],
        env={"JIMI_SIM_PUSH_TOKEN": token},
    )
    print(f"push receiver: http://127.0.0.1:{port} (landing in {current().landing_dir}), live sender started", flush=True)
    return [receiver, sender]


def initial_load(days: int) -> None:
    """Load a first history so the marts have rows before anyone opens the UI."""
    from .headless import materialize_all

    os.environ.setdefault("SOURCES__JIMI__INITIAL_DAYS", str(days))
    if not materialize_all():
        print("the first history load failed; the schedule will retry it", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--sim-port", type=int, default=8765)
    parser.add_argument("--push-port", type=int, default=8766)
    parser.add_argument("--history-days", type=int, default=2)
    parser.add_argument("--sim-args", default="")
    args = parser.parse_args()

    children = []

    def interrupted(*_: object) -> None:
        # Only unwind here: the `finally` below stops the children outside the signal handler (stopping
        # them inside it would re-enter Popen.wait and deadlock on its lock).
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        simulator, url = start_simulator(args.sim_port, shlex.split(args.sim_args))
        children.append(simulator)
        os.environ["JIMI_SIM_URL"] = url
        print(f"simulator: {url}", flush=True)
        children += start_push(args.push_port, shlex.split(args.sim_args))
        initial_load(args.history_days)
        print_summary()
        home = dagster_home()
        dagster = spawn(
            [str(BIN / "dagster"), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(args.port)],
            env={"DAGSTER_HOME": str(home)},
        )
        children.append(dagster)
        wait_until_up(f"http://127.0.0.1:{args.port}/server_info", dagster, timeout_s=180)
        print(f"\nDagster UI: http://127.0.0.1:{args.port}  (Ctrl-C stops everything)", flush=True)
        dagster.wait()
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(children):
            stop(child)


if __name__ == "__main__":
    main()
