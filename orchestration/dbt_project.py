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


def ensure_manifest() -> Path:
    """`dbt parse` once when the manifest is missing, so definitions load on a fresh clone."""
    if not dbt_project.manifest_path.exists():
        subprocess.run(
            [str(DBT_EXECUTABLE), "parse", "--quiet", "--profiles-dir", str(TRANSFORM_DIR)],
            cwd=TRANSFORM_DIR,
            env={**os.environ, **config.dbt_env()},
            check=True,
        )
    return dbt_project.manifest_path
