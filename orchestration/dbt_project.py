"""The dbt project under `transform/` as Dagster sees it, with its manifest prepared on first use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from . import config

TRANSFORM_DIR = Path(__file__).resolve().parent.parent / "transform"

dbt_project = DbtProject(project_dir=TRANSFORM_DIR, profiles_dir=TRANSFORM_DIR)


DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")


def dbt_resource() -> DbtCliResource:
    # The venv's dbt, so nothing depends on PATH (Dagster's processes may not have the venv on it).
    return DbtCliResource(
        project_dir=dbt_project, profiles_dir=str(TRANSFORM_DIR), dbt_executable=str(DBT_EXECUTABLE)
    )


def ensure_dbt_env() -> None:
    """Point dbt's profile at the warehouse dlt writes (dbt inherits the process environment)."""
    for key, value in config.dbt_env().items():
        os.environ.setdefault(key, value)


# Everything `dbt parse` reads: a change to any of these makes the manifest stale.
PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "snapshots", "tests")


def manifest_is_stale() -> bool:
    """True when the manifest is missing or older than any file of the project (a pulled or edited model)."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for name in PROJECT_SOURCES:
        path = TRANSFORM_DIR / name
        files = path.rglob("*") if path.is_dir() else [path]
        if any(item.is_file() and item.stat().st_mtime > built for item in files):
            return True
    return False


def ensure_manifest() -> Path:
    """`dbt parse` when the manifest is missing or stale, so definitions load on a fresh clone and after a
    pull: an old manifest would hand Dagster models and tests that no longer exist (or miss new ones)."""
    if manifest_is_stale():
        subprocess.run(
            [str(DBT_EXECUTABLE), "parse", "--quiet", "--profiles-dir", str(TRANSFORM_DIR)],
            cwd=TRANSFORM_DIR,
            env={**os.environ, **config.dbt_env()},
            check=True,
        )
    return dbt_project.manifest_path
