"""Where the system keeps its state, and which warehouse it writes: all from configuration.

`JIMI_DATA_DIR` (default `data/` at the project root) holds everything the system writes: the
warehouse (unless dlt's `destination.duckdb.credentials` names another file), the published marts that
readers use, dlt's working folders, the token cache and Dagster's home. dbt reads the same warehouse through
`JIMI_WAREHOUSE_PATH`, which `dbt_env()` derives from the dlt destination so the two never disagree.
"""

from __future__ import annotations

import os
from pathlib import Path

import dlt

PIPELINE_NAME = "jimi"
RAW_DATASET = "jimi_raw"
# Ingestion health records (orchestration/ingest_log.py).
INGEST_DATASET = "jimi_ingest"
PROJECT_DIR = Path(__file__).resolve().parent.parent
MART_SCHEMA = "marts"


def data_dir() -> Path:
    return Path(os.environ.get("JIMI_DATA_DIR") or PROJECT_DIR / "data").resolve()


def warehouse_path() -> Path:
    """The DuckDB file dlt loads into and dbt builds in."""
    configured = dlt.config.get("destination.duckdb.credentials", str)
    if configured:
        return Path(str(configured).removeprefix("duckdb:///")).resolve()
    return data_dir() / "warehouse.duckdb"


def published_path() -> Path:
    """The read-only copy of the marts that notebooks and other readers open (replaced atomically)."""
    return data_dir() / "published" / "marts.duckdb"


def pipelines_dir() -> Path:
    """dlt's working folders; kept between runs so cursors and pending loads survive."""
    return data_dir() / "dlt"


def lock_path() -> Path:
    return data_dir() / "warehouse.lock"


def landing_dir() -> Path:
    """Where `jimi-push serve` lands accepted pushes and the push sensor picks them up."""
    return data_dir() / "landing"


def dbt_env() -> dict[str, str]:
    """Environment for dbt so its profile points at the warehouse dlt writes."""
    from sources import duckdb_setup
    from sources.jimi_push.settings import DATASET_NAME as PUSH_DATASET

    return {**duckdb_setup.dbt_env(), "JIMI_WAREHOUSE_PATH": str(warehouse_path()), "JIMI_RAW_SCHEMA": RAW_DATASET, "JIMI_PUSH_RAW_SCHEMA": PUSH_DATASET,
            "JIMI_INGEST_SCHEMA": INGEST_DATASET}
