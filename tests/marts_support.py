"""Running the dbt project against a warehouse file, and comparing mart schemas, for the mart tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sources import duckdb_setup

ROOT = Path(__file__).resolve().parent.parent
TRANSFORM = ROOT / "transform"
DBT = Path(sys.executable).with_name("dbt")
# Staleness columns are measured against this instant, so two builds at different times compare equal.
AS_OF = "2026-12-01 00:00:00+00"


def run_dbt(warehouse: Path, *args: str, variables: dict | None = None, work: Path | None = None) -> str:
    """`dbt <args>` on `warehouse`, with its own target folder; returns the output, raises on failure."""
    work = work or warehouse.parent / "dbt-target"
    if args and args[0] == "run":
        # The marts join seeds (alarm types, DTC codes, API limits), so "run" here means every node but the
        # data and unit tests: seeds, snapshots and models, in dependency order.
        args = ("build", "--exclude", "resource_type:test", "resource_type:unit_test", *args[1:])
    env = {**os.environ, **duckdb_setup.dbt_env(), "JIMI_WAREHOUSE_PATH": str(warehouse)}
    command = [
        str(DBT),
        *args,
        "--profiles-dir",
        str(TRANSFORM),
        "--project-dir",
        str(TRANSFORM),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps({"status_as_of": AS_OF, **(variables or {})}),
    ]
    result = subprocess.run(command, check=False, cwd=TRANSFORM, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout


def mart_tables(warehouse: Path) -> list[str]:
    connection = duckdb_setup.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    finally:
        connection.close()
    return [name for (name,) in rows]


def mart_differences(left: Path, right: Path) -> dict[str, tuple[int, int, int]]:
    """Per mart table of `left`: (rows, rows only in left, rows only in right), as multisets."""
    connection = duckdb_setup.connect()
    out: dict[str, tuple[int, int, int]] = {}
    try:
        connection.execute(f"attach '{left}' as l (read_only)")
        connection.execute(f"attach '{right}' as r (read_only)")
        for table in mart_tables(left):
            rows = connection.execute(f'select count(*) from l.marts."{table}"').fetchone()[0]
            only_left = connection.execute(
                f'select count(*) from (select * from l.marts."{table}" except all select * from r.marts."{table}")'
            ).fetchone()[0]
            only_right = connection.execute(
                f'select count(*) from (select * from r.marts."{table}" except all select * from l.marts."{table}")'
            ).fetchone()[0]
            out[table] = (rows, only_left, only_right)
    finally:
        connection.close()
    return out
