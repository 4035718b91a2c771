"""Dagster definitions of the dbt project under `transform/`: its models as assets, the published marts, and
the `transform` job that builds both every 15 minutes.

Asset keys are `<schema>/<model>` for dbt models, and `published_marts` for the readers' copy. dbt builds
while holding the warehouse's writer lock; the published copy is then rebuilt and swapped in atomically.
"""

import os
import subprocess
import sys
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AssetSelection,
    MaterializeResult,
    ScheduleDefinition,
    asset,
    define_asset_job,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.engine.warehouse import publish_marts, writer_lock
from orchestration.settings import PROJECT_DIR, PUBLISHED_SCHEMAS, Settings, current

from .runs import cron_schedule

TRANSFORM_DIR = PROJECT_DIR / "transform"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
# Everything `dbt parse` reads: a change to any of these makes the manifest stale.
PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "snapshots", "tests")
TRANSFORM_CRON = "*/15 * * * *"

dbt_project = DbtProject(project_dir=TRANSFORM_DIR, profiles_dir=TRANSFORM_DIR)


def dbt_resource() -> DbtCliResource:
    # The venv's dbt, so nothing depends on PATH (Dagster's processes may not have the venv on it).
    return DbtCliResource(
        project_dir=dbt_project, profiles_dir=str(TRANSFORM_DIR), dbt_executable=str(DBT_EXECUTABLE)
    )


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


def ensure_manifest(settings: Settings) -> Path:
    """`dbt parse` when the manifest is missing or stale, so definitions load on a fresh clone and after a
    pull: an old manifest would hand Dagster models and tests that no longer exist (or miss new ones)."""
    if manifest_is_stale():
        subprocess.run(
            [str(DBT_EXECUTABLE), "parse", "--quiet", "--profiles-dir", str(TRANSFORM_DIR)],
            cwd=TRANSFORM_DIR,
            env={**os.environ, **settings.dbt_env()},
            check=True,
        )
    return dbt_project.manifest_path


class JimiDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props):
        return "transform"


def dbt_definitions(settings: Settings) -> tuple[list[AssetsDefinition], list, list[ScheduleDefinition]]:
    """The dbt models and the published marts as assets, the `transform` job and its schedule."""

    @dbt_assets(
        manifest=ensure_manifest(settings), project=dbt_project, dagster_dbt_translator=JimiDbtTranslator()
    )
    def jimi_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
        """`dbt build` (models, tests, unit tests) while holding the warehouse."""
        # dagster-dbt hands dbt this process's environment and takes no other: the profile reads the warehouse
        # path and the raw schemas from these variables, derived from the settings.
        os.environ.update(current().dbt_env())
        with writer_lock():
            yield from dbt.cli(["build"], context=context).stream()

    @asset(
        key="published_marts",
        # Every model of the published schemas (marts, health); the publisher copies them whole.
        deps=[key for key in jimi_dbt_assets.keys if key.path[0] in PUBLISHED_SCHEMAS],
        group_name="transform",
        kinds={"duckdb"},
        description="A read-only copy of the marts (and, as health.*, the ingestion-health models) for notebooks "
        "and other readers, swapped in atomically.",
    )
    def published_marts() -> MaterializeResult:
        with writer_lock():
            counts = publish_marts()
        return MaterializeResult(
            metadata={f"rows_{table.replace('.', '__')}": rows for table, rows in counts.items()}
        )

    transform_job = define_asset_job(
        "transform",
        selection=AssetSelection.assets(jimi_dbt_assets) | AssetSelection.assets(published_marts),
        description="dbt build (models and tests) and the published copy of the marts.",
    )
    schedule = cron_schedule(transform_job, settings.cron("transform", TRANSFORM_CRON), "transform", None)
    return [jimi_dbt_assets, published_marts], [transform_job], [schedule]
