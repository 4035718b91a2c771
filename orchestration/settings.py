"""The project's settings: read from the environment in this one place, into one object.

Every `JIMI_*` variable the orchestrated system reads is a field of `Settings` (the README's configuration
table lists them with their defaults). Nothing reads the environment at import time: callers ask for
`current()` when they run, so a test or a launcher that sets a variable is seen by the next call. A value
that cannot be read fails at once, naming the variable. (The Jimi account is dlt's: `[sources.jimi]` in
`.dlt/secrets.toml` or `SOURCES__JIMI__*`, see `sources/jimi/credentials.py`. The push receiver's token is the
receiver's own `JIMI_PUSH_TOKEN`.) DuckDB's extension folder is not a setting: it is the virtual environment's
(`sources/duckdb_setup.py`, filled by `make install`), and `dbt_env()` hands it to dbt's profile in
`JIMI_DUCKDB_EXTENSIONS` as it hands over the warehouse path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sources import duckdb_setup
from sources.jimi_push import settings as PUSH_SETTINGS
from sources.jimi_push.settings import LANDING_ENV

PROJECT_DIR = Path(__file__).resolve().parent.parent
# dlt pipelines and datasets (schemas in the warehouse).
PIPELINE_NAME = "jimi"
RAW_DATASET = "jimi_raw"
PUSH_DATASET = PUSH_SETTINGS.DATASET_NAME
INGEST_DATASET = "jimi_ingest"
MART_SCHEMA = "marts"
# The ingestion-health models (transform/models/health) have a schema of their own.
HEALTH_SCHEMA = "health"
# What the publisher copies for readers: warehouse schema -> schema of the published file. The marts go to
# its default schema, so readers name them bare (`fct_trips`); health keeps its name (`health.fct_api_usage`).
PUBLISHED_SCHEMAS = {MART_SCHEMA: "main", HEALTH_SCHEMA: HEALTH_SCHEMA}


class SettingError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class HealthThresholds:
    """When the ingestion-health asset checks fail (defs/health.py)."""

    silent_after_minutes: float = 60.0
    max_error_share: float = 0.2
    error_window_hours: float = 24.0
    min_calls: int = 20


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: Path
    # Where `jimi-push serve` lands accepted pushes and the push sensor picks them up.
    landing_dir: Path
    # False for push-only deployments: no polling schedules, and a polling run refuses to start.
    polling: bool = True
    history_days: int = 92
    backfill_days_per_run: int = 7
    warehouse_wait_s: float = 1800.0
    ingest_flush_wait_s: float = 60.0
    push_batch_files: int = 5000
    dbt_target: str = "dev"
    # Cron overrides by schedule name (`JIMI_SCHEDULE_<NAME>`).
    schedules: Mapping[str, str] = field(default_factory=dict)
    health: HealthThresholds = field(default_factory=HealthThresholds)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("JIMI_DATA_DIR") or PROJECT_DIR / "data").resolve()
        warehouse = env.get("JIMI_WAREHOUSE_PATH")
        landing = env.get(LANDING_ENV)
        return cls(
            data_dir=data_dir,
            warehouse_path=Path(warehouse).resolve() if warehouse else data_dir / "warehouse.duckdb",
            landing_dir=Path(landing).resolve() if landing else data_dir / "landing",
            polling=_switch(env, "JIMI_POLLING", True),
            history_days=_number(env, "JIMI_HISTORY_DAYS", int, 92),
            backfill_days_per_run=_number(env, "JIMI_BACKFILL_DAYS_PER_RUN", int, 7),
            warehouse_wait_s=_number(env, "JIMI_WAREHOUSE_WAIT_S", float, 1800.0),
            ingest_flush_wait_s=_number(env, "JIMI_INGEST_FLUSH_WAIT_S", float, 60.0),
            push_batch_files=_number(env, "JIMI_PUSH_BATCH_FILES", int, 5000),
            dbt_target=env.get("JIMI_DBT_TARGET") or "dev",
            schedules={
                name.removeprefix("JIMI_SCHEDULE_").lower(): value
                for name, value in env.items()
                if name.startswith("JIMI_SCHEDULE_") and value
            },
            health=HealthThresholds(
                silent_after_minutes=_number(env, "JIMI_HEALTH_SILENT_AFTER_MINUTES", float, 60.0),
                max_error_share=_number(env, "JIMI_HEALTH_MAX_ERROR_SHARE", float, 0.2),
                error_window_hours=_number(env, "JIMI_HEALTH_ERROR_WINDOW_HOURS", float, 24.0),
                min_calls=_number(env, "JIMI_HEALTH_MIN_CALLS", int, 20),
            ),
        )

    # -- where the system keeps its state (all under the data folder) ---------------------------------

    @property
    def published_path(self) -> Path:
        """The read-only copy of the marts that notebooks and other readers open (replaced atomically)."""
        return self.data_dir / "published" / "marts.duckdb"

    @property
    def pipelines_dir(self) -> Path:
        """dlt's working folders; kept between runs so cursors and pending loads survive."""
        return self.data_dir / "dlt"

    @property
    def lock_path(self) -> Path:
        """The warehouse's writer lock (engine/warehouse.py)."""
        return self.data_dir / "warehouse.lock"

    @property
    def pipeline_locks_dir(self) -> Path:
        """A lock file per dlt pipeline, so one pipeline never runs twice at once (engine/pipelines.py)."""
        return self.data_dir / "locks"

    @property
    def token_dir(self) -> Path:
        return self.data_dir / "tokens"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    def cron(self, schedule: str, default: str) -> str:
        return self.schedules.get(schedule, default)

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt, so its profile reads the warehouse dlt writes and the datasets it fills, and
        opens DuckDB as every other connection does (`duckdb_setup`: extensions only from the project's folder)."""
        return {
            **duckdb_setup.dbt_env(),
            "JIMI_WAREHOUSE_PATH": str(self.warehouse_path),
            "JIMI_DBT_TARGET": self.dbt_target,
            "JIMI_RAW_SCHEMA": RAW_DATASET,
            "JIMI_PUSH_RAW_SCHEMA": PUSH_DATASET,
            "JIMI_INGEST_SCHEMA": INGEST_DATASET,
        }


def current() -> Settings:
    """The settings as the environment has them now."""
    return Settings.from_env()


_Number = TypeVar("_Number", int, float)


def _number(env: Mapping[str, str], name: str, kind: type[_Number], default: _Number) -> _Number:
    text = env.get(name)
    if text is None or text == "":
        return kind(default)
    try:
        value = kind(text)
    except ValueError:
        raise SettingError(f"{name}={text!r} is not a{'n integer' if kind is int else ' number'}") from None
    if value < 0:
        raise SettingError(f"{name}={text!r} must not be negative")
    return value


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = (env.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("on", "true", "1", "yes"):
        return True
    if text in ("off", "false", "0", "no"):
        return False
    raise SettingError(f"{name}={text!r}: use on or off")
