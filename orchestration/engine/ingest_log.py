"""The ingestion health record: what every polling run and push batch did, landed in dataset `jimi_ingest`.

Tables (each merged on its id, so loading a record twice adds nothing):
- `api_windows`: one row per run, resource, endpoint (method) and window — calls, retries by cause, errors,
  rows returned and loaded, latency percentiles, peak calls per second/minute, status and redacted error;
- `api_runs`: one row per run and resource — status, error, calls, rows loaded by table, load ids;
- `push_batches`: one row per push batch load attempt — files, items, rows loaded by table, quarantined files.

A record must survive the run that made it, even one that fails because the warehouse is busy or broken:
it is first written to a spool file under `$JIMI_DATA_DIR/ingest_spool/` (atomically, fsynced), then the
whole spool is loaded with dlt (extract and normalize outside the warehouse; load under the writer lock,
waiting at most `JIMI_INGEST_FLUSH_WAIT_S`). Files are deleted only once loaded; whatever is left is loaded
by the next run that records something. Error texts pass through `redact` with every secret the process
knows, on top of the client's own redaction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import dlt
import orjson
from dlt.common.schema.typing import TTableSchemaColumns
from filelock import FileLock, Timeout

from sources import duckdb_setup
from sources.jimi.callstats import RETRY_CAUSES, CallStats, redact, retry_column

from .. import settings as project
from .warehouse import writer_lock

log = logging.getLogger(__name__)

PIPELINE_NAME = "jimi_ingest"
# Environment variables whose values are secrets wherever they are set (see README, Configuration).
SECRET_VARIABLES = (
    "SOURCES__JIMI__APP_SECRET",
    "SOURCES__JIMI__PASSWORD",
    "SOURCES__JIMI__PASSWORD_MD5",
    "JIMI_PUSH_TOKEN",
)

_RETRY_COLUMNS: TTableSchemaColumns = {
    f"retries_{retry_column(cause)}": {"data_type": "bigint"} for cause in RETRY_CAUSES
}
COLUMNS: dict[str, TTableSchemaColumns] = {
    "api_windows": {
        "window_id": {"data_type": "text", "nullable": False},
        "run_id": {"data_type": "text", "nullable": False},
        "resource": {"data_type": "text"},
        "method": {"data_type": "text"},
        "window_start": {"data_type": "timestamp"},
        "window_end": {"data_type": "timestamp"},
        "imei": {"data_type": "text"},
        "imeis": {"data_type": "text"},
        "device_count": {"data_type": "bigint"},
        "calls": {"data_type": "bigint"},
        "errors": {"data_type": "bigint"},
        **_RETRY_COLUMNS,
        "rows_returned": {"data_type": "bigint"},
        "rows_loaded": {"data_type": "bigint"},
        "latency_p50_ms": {"data_type": "double"},
        "latency_p95_ms": {"data_type": "double"},
        "latency_max_ms": {"data_type": "double"},
        "peak_calls_per_s": {"data_type": "bigint"},
        "peak_calls_per_min": {"data_type": "bigint"},
        "started_at": {"data_type": "timestamp"},
        "finished_at": {"data_type": "timestamp"},
        "status": {"data_type": "text"},
        "error": {"data_type": "text"},
        "run_status": {"data_type": "text"},
    },
    "api_runs": {
        "run_resource_id": {"data_type": "text", "nullable": False},
        "run_id": {"data_type": "text", "nullable": False},
        "resource": {"data_type": "text"},
        "mode": {"data_type": "text"},
        "started_at": {"data_type": "timestamp"},
        "finished_at": {"data_type": "timestamp"},
        "status": {"data_type": "text"},
        "error": {"data_type": "text"},
        "calls": {"data_type": "bigint"},
        "retries": {"data_type": "bigint"},
        "rows_loaded": {"data_type": "bigint"},
        "rows_by_table_json": {"data_type": "text"},
        "load_ids_json": {"data_type": "text"},
    },
    "push_batches": {
        "push_batch_id": {"data_type": "text", "nullable": False},
        "run_id": {"data_type": "text", "nullable": False},
        "batch": {"data_type": "text"},
        "started_at": {"data_type": "timestamp"},
        "finished_at": {"data_type": "timestamp"},
        "status": {"data_type": "text"},
        "error": {"data_type": "text"},
        "files_loaded": {"data_type": "bigint"},
        "files_already_loaded": {"data_type": "bigint"},
        "files_quarantined": {"data_type": "bigint"},
        "quarantined_json": {"data_type": "text"},
        "items": {"data_type": "bigint"},
        "items_to_other_pushes": {"data_type": "bigint"},
        "rows_loaded": {"data_type": "bigint"},
        "rows_by_table_json": {"data_type": "text"},
    },
}
KEYS = {"api_windows": "window_id", "api_runs": "run_resource_id", "push_batches": "push_batch_id"}
TIMESTAMPS = {
    name for table in COLUMNS.values() for name, hint in table.items() if hint["data_type"] == "timestamp"
}


def spool_dir() -> Path:
    return project.current().data_dir / "ingest_spool"


def pipeline_dir() -> Path:
    """The record's own dlt working folder and lock, apart from the data pipelines' (`Settings.pipelines_dir`)."""
    return project.current().data_dir / "ingest_log"


def new_run_id() -> str:
    return uuid.uuid4().hex


def known_secrets(extra: Iterable[str] = ()) -> set[str]:
    return {value for name in SECRET_VARIABLES if (value := os.environ.get(name))} | {s for s in extra if s}


def _id(*parts: object) -> str:
    return hashlib.sha1("|".join("" if part is None else str(part) for part in parts).encode()).hexdigest()[
        :24
    ]


# -- records --------------------------------------------------------------------------------------


def polling_records(
    run_id: str,
    resource: str,
    mode: str,
    stats: CallStats,
    started_at: datetime,
    rows_by_table: dict[str, int] | None,
    load_ids: list[str],
    error: BaseException | None,
) -> dict[str, list[dict]]:
    """The rows one resource's run records. A window's rows count as loaded only when the run's load
    finished (`error` is None): a failed run loaded none of them."""
    secrets = known_secrets()
    status = "failed" if error is not None else "ok"
    windows = []
    for row in stats.window_rows():
        row = {
            "window_id": _id(
                run_id, row["resource"], row["method"], row["window_start"], row["window_end"], row["imeis"]
            ),
            "run_id": run_id,
            **row,
            "rows_loaded": row["rows_returned"] if error is None else 0,
            "error": redact(row["error"], secrets) if row["error"] else None,
            "run_status": status,
        }
        windows.append(row)
    rows_by_table = rows_by_table or {}
    run = {
        "run_resource_id": _id(run_id, resource),
        "run_id": run_id,
        "resource": resource,
        "mode": mode,
        "started_at": started_at,
        "finished_at": datetime.now(UTC),
        "status": status,
        "error": redact(stats.redact(f"{type(error).__name__}: {error}"), secrets)
        if error is not None
        else None,
        "calls": stats.calls,
        "retries": sum(stats.retries.values()),
        "rows_loaded": sum(rows_by_table.values()) if error is None else 0,
        "rows_by_table_json": orjson.dumps(rows_by_table if error is None else {}).decode(),
        "load_ids_json": orjson.dumps(load_ids).decode(),
    }
    return {"api_windows": windows, "api_runs": [run]}


def push_record(
    run_id: str, batch: str, started_at: datetime, summary: object | None, error: BaseException | None
) -> dict[str, list[dict]]:
    """The row a push batch load records (`summary` is a `PushLoadSummary`, None when it failed)."""
    rows_by_table = dict(getattr(summary, "rows_by_table", {}) or {})
    quarantined = dict(getattr(summary, "quarantined", {}) or {})
    row = {
        "push_batch_id": _id(run_id, batch),
        "run_id": run_id,
        "batch": batch,
        "started_at": started_at,
        "finished_at": datetime.now(UTC),
        "status": "failed" if error is not None else "ok",
        "error": redact(f"{type(error).__name__}: {error}", known_secrets()) if error is not None else None,
        "files_loaded": getattr(summary, "files_loaded", 0),
        "files_already_loaded": getattr(summary, "files_skipped", 0),
        "files_quarantined": len(quarantined),
        "quarantined_json": orjson.dumps(quarantined).decode(),
        "items": getattr(summary, "items", 0),
        "items_to_other_pushes": getattr(summary, "items_routed", 0),
        "rows_loaded": sum(rows_by_table.values()),
        "rows_by_table_json": orjson.dumps(rows_by_table).decode(),
    }
    return {"push_batches": [row]}


# -- the spool ------------------------------------------------------------------------------------


def write_spool(records: dict[str, list[dict]]) -> Path:
    """Write records durably to a new spool file (temp file, fsync, atomic rename, folder fsync)."""
    folder = spool_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
    temporary = folder / f".{name}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(orjson.dumps(records, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z))
        handle.flush()
        os.fsync(handle.fileno())
    final = folder / name
    os.replace(temporary, final)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return final


def read_spool(files: list[Path]) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {name: [] for name in COLUMNS}
    for file in files:
        for table, rows in orjson.loads(file.read_bytes()).items():
            for row in rows:
                tables[table].append({k: _timestamp(v) if k in TIMESTAMPS else v for k, v in row.items()})
    return tables


def _timestamp(value: object) -> object:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def ingest_pipeline() -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt.destinations.duckdb(
            credentials=duckdb_setup.dlt_credentials(project.current().warehouse_path)
        ),
        dataset_name=project.INGEST_DATASET,
        pipelines_dir=str(pipeline_dir()),
    )


def flush_spool(wait_s: float | None = None) -> int:
    """Load every spooled record into the warehouse; returns how many spool files were loaded (0 when the
    warehouse or another flusher was busy for longer than `wait_s`: the files stay for the next flush)."""
    wait_s = project.current().ingest_flush_wait_s if wait_s is None else wait_s
    folder = spool_dir()
    if not folder.exists():
        return 0
    pipeline_dir().mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(pipeline_dir() / f"{PIPELINE_NAME}.lock"))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        return 0
    try:
        files = sorted(folder.glob("*.json"))
        pipeline = ingest_pipeline()
        if pipeline.has_pending_data:
            # A flush that could not load last time: its package goes first (the spool files were kept too,
            # and merging on the record ids makes loading them again harmless).
            pipeline.normalize()
            with writer_lock(wait_s):
                pipeline.load().raise_on_failed_jobs()
        if not files:
            return 0
        tables = read_spool(files)
        resources = [
            dlt.resource(
                rows, name=table, primary_key=KEYS[table], write_disposition="merge", columns=COLUMNS[table]
            )
            for table, rows in tables.items()
            if rows
        ]
        pipeline.extract(resources)
        pipeline.normalize()
        with writer_lock(wait_s):
            pipeline.load().raise_on_failed_jobs()
        for file in files:
            file.unlink(missing_ok=True)
        return len(files)
    finally:
        lock.release()


def record(records: dict[str, list[dict]], wait_s: float | None = None) -> None:
    """Spool the records, then try to load the spool; a failing load is logged, never raised (the records
    stay spooled, and the run's own outcome is what its caller reports)."""
    write_spool(records)
    try:
        flush_spool(wait_s)
    except Exception as exc:  # noqa: BLE001 — the spool keeps the record; the next flush retries
        log.warning("ingest records stay spooled in %s: %s", spool_dir(), redact(str(exc), known_secrets()))
