"""`make warehouse-upgrade`: carry a warehouse written by DuckDB 2.0 over to a file DuckDB 1.5.5 opens.

The project runs DuckDB 1.5.5 (the line whose extensions ship as packages, sources/duckdb_setup.py). A file
written by DuckDB 2.0 does not open under it ("version number 999"), and its history cannot be reloaded (the
Jimi API keeps about three months), so this command copies it, raw tables and dlt's state included:

    make warehouse-upgrade                  # the configured warehouse (JIMI_WAREHOUSE_PATH) and published marts
    python -m orchestration.launch.upgrade PATH [PATH ...]

DuckDB 2.0 runs in its own throwaway environment (`uv run --no-project --with 'duckdb==2.0.*'`, from the
package registry; `--duckdb` picks another version), attaches the old file read-only and writes a new one in
the 1.5 storage format (duckdb2_copy.py). The rows of every table are counted on both sides by 2.0 and again
by 1.5.5 before the new file takes the old one's name; the old file stays beside it as `<name>.duckdb2.bak`.
Stop the system first (a running writer holds the file). It refuses, changing nothing, when the file already
opens under 1.5.5, when it does not exist, or when a backup from an earlier upgrade is in the way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sources import duckdb_setup

from ..settings import current

COPY_SCRIPT = Path(__file__).with_name("duckdb2_copy.py")
DEFAULT_DUCKDB = "duckdb==2.0.*"


class UpgradeRefused(RuntimeError):
    """Nothing was changed: the message says why."""


@dataclass(frozen=True)
class Upgraded:
    path: Path
    backup: Path
    rows: dict[str, int]
    views: list[str]


def backup_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.duckdb2.bak")


def opens_here(path: Path) -> bool:
    """True when this DuckDB opens the file; False when it was written by a newer storage version."""
    try:
        duckdb_setup.connect(path, read_only=True).close()
    except duckdb.IOException as exc:
        if "version number" in str(exc):
            return False
        raise UpgradeRefused(f"{path} cannot be opened ({exc}): stop the system before upgrading") from None
    return True


def uv_command() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def run_under(spec: str, *args: str) -> str:
    """Run a script with `spec` (e.g. duckdb==2.0.*) in a throwaway environment; returns its stdout."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    command = [*uv_command(), "run", "--quiet", "--no-project", "--with", spec, "python", *args]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{spec} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def upgrade(path: Path, duckdb_spec: str = DEFAULT_DUCKDB) -> Upgraded:
    """Replace the 2.0 file at `path` with a 1.5 copy, keeping the original as its backup."""
    path = path.resolve()
    backup = backup_path(path)
    if not path.exists():
        raise UpgradeRefused(f"there is no warehouse at {path}")
    if backup.exists():
        raise UpgradeRefused(f"{backup} exists (an earlier upgrade's backup): move it away first")
    if opens_here(path):
        raise UpgradeRefused(f"{path} already opens under DuckDB {duckdb.__version__}: nothing to do")
    staging = path.with_name(f".{path.name}.upgrading")
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)  # only ever ours: an upgrade interrupted before its swap
    try:
        report = json.loads(
            run_under(duckdb_spec, str(COPY_SCRIPT), str(path), str(staging), path.stem).splitlines()[-1]
        )
        _check_rows(staging, report["rows"])
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, backup.with_name(backup.name + ".wal"))
    os.replace(path, backup)
    os.replace(staging, path)
    return Upgraded(path, backup, report["rows"], report["views"])


def _check_rows(path: Path, expected: dict[str, int]) -> None:
    """The rows 2.0 counted, counted again by this DuckDB in the new file."""
    connection = duckdb_setup.connect(path, read_only=True)
    try:
        found = {
            f"{schema}.{table}": connection.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[
                0
            ][0]
            for schema, table in connection.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        }
    finally:
        connection.close()
    if found != expected:
        raise RuntimeError(f"the upgraded copy differs: expected rows {expected}, found {found}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files to upgrade (default: the warehouse and the published marts)",
    )
    parser.add_argument(
        "--duckdb", default=DEFAULT_DUCKDB, help=f"the DuckDB that wrote them (default {DEFAULT_DUCKDB})"
    )
    args = parser.parse_args(argv)
    settings = current()
    paths = args.paths or [p for p in (settings.warehouse_path, settings.published_path) if p.exists()]
    if not paths:
        print(f"nothing to upgrade: there is no warehouse at {settings.warehouse_path}", file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        try:
            done = upgrade(path, args.duckdb)
        except UpgradeRefused as exc:
            print(f"refused: {exc}", file=sys.stderr)
            failed += 1
            continue
        total = sum(done.rows.values())
        print(
            f"upgraded {done.path}: {len(done.rows)} tables ({total} rows) and {len(done.views)} views now open "
            f"under DuckDB {duckdb.__version__}; the original is kept at {done.backup}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
