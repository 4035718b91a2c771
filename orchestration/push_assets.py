"""Dagster assets for push: load one claimed batch of landing files into DuckDB, each file exactly once.

The push sensor (`sensors.py`) claims landed files into `claimed/<batch>/` and requests a run of
`load_push_landing` for the batch. The run (`load_batch`, a plain function) reads the batch, loads it with
dlt through `loading.run_source` (extraction never holds the warehouse) and moves the files to `processed/`,
or to `quarantine/` with their reason. A retried run first asks the warehouse ledger (`landing_files`)
which of its files an earlier attempt already loaded and only moves those on. Push has its own dlt pipeline
(`jimi_push`) and dataset (`jimi_push_raw`): its tables never collide with polling's, and dbt unifies them.
A file lock keeps two runs from using the pipeline's working folder at once. (No `from __future__ import
annotations` here: Dagster reads the config class from the asset's annotations at import.)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    define_asset_job,
    in_process_executor,
    multi_asset,
)
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from filelock import FileLock

from sources import duckdb_setup
from sources.jimi_push import jimi_push_source, read_landed, settings
from sources.jimi_push.batches import batch_files, claim_new_batches, finish, record_attempt, relative_name

from . import config, ingest_log
from .loading import run_source
from .warehouse import WRITER_WAIT_S, writer_lock

BATCH_TAG = "jimi_push/batch"
OP_NAME = "jimi_push"
CHECK_NAME = "landing_files_readable"
TABLE_DESCRIPTIONS = {
    "gps_fixes": "GPS fixes pushed to /pushgps, merged on IMEI + fix time.",
    "alarms": "Alarms pushed to /pushalarm (raised and cleared), merged on IMEI + time + type + cleared.",
    "obd_readings": "OBD data pushed to /pushobd: the whole obdJson and scalars with units.",
    "fault_codes": "OBD fault codes pushed to /pushfaultinfo, one row per DTC.",
    "trip_reports": "Trip start/end reports pushed to /pushtripreport.",
    "heartbeats": "Heartbeats pushed to /pushhb.",
    "device_events": "Login/logout events pushed to /pushevent.",
    "fuel_readings": "Fuel sensor readings pushed to /pushoil (value / 100, unit labelled).",
    "temperature_readings": "Temperature and humidity pushed to /pushtem.",
    "lbs_readings": "Cell-tower (LBS/Wi-Fi) data pushed to /pushlbs.",
    "other_pushes": "Every other push item, raw, and items without a readable natural key (with the reason).",
    "landing_files": "Ledger of landing files: each loaded or quarantined file once, with the reason.",
}


@dataclass
class PushLoadSummary:
    batches: list[str] = field(default_factory=list)
    files_loaded: int = 0
    files_skipped: int = 0
    quarantined: dict[str, str] = field(default_factory=dict)
    items: int = 0
    items_routed: int = 0
    rows_by_table: dict[str, int] = field(default_factory=dict)
    load_ids: list[str] = field(default_factory=list)

    def add(self, other: "PushLoadSummary") -> None:
        self.batches += other.batches
        self.files_loaded += other.files_loaded
        self.files_skipped += other.files_skipped
        self.quarantined.update(other.quarantined)
        self.items += other.items
        self.items_routed += other.items_routed
        for table, rows in other.rows_by_table.items():
            self.rows_by_table[table] = self.rows_by_table.get(table, 0) + rows
        self.load_ids += other.load_ids


def push_pipeline() -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=settings.PIPELINE_NAME,
        destination=dlt.destinations.duckdb(credentials=duckdb_setup.dlt_credentials(config.warehouse_path())),
        dataset_name=settings.DATASET_NAME,
        pipelines_dir=str(config.pipelines_dir()),
    )


@contextmanager
def pipeline_lock() -> Iterator[None]:
    """One push load at a time: dlt must never run one pipeline name twice at once."""
    path = config.pipelines_dir() / f"{settings.PIPELINE_NAME}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path), timeout=WRITER_WAIT_S):
        yield


def ledger_entries(pipeline: dlt.Pipeline, names: list[str]) -> dict[str, tuple[str, str | None]]:
    """`landing_files` rows (status, reason) for `names`; empty before the first push load."""
    if not names:
        return {}
    with writer_lock():
        try:
            with pipeline.sql_client() as client:
                table = client.make_qualified_table_name(settings.FILES_TABLE)
                query = f"select landing_file, status, reason from {table} where landing_file in (select unnest(?))"
                rows = client.execute_sql(query, names) or []
        except DatabaseUndefinedRelation:
            return {}
    return {name: (status, reason) for name, status, reason in rows}


def load_batch(batch: str, landing: Path | None = None, run_id: str | None = None) -> PushLoadSummary:
    """Load the files of `claimed/<batch>/` once, then move them to `processed/` or `quarantine/`; the
    attempt is recorded in `jimi_ingest.push_batches` (ingest_log.py) whether it succeeds or fails."""
    started = datetime.now(UTC)
    run_id = run_id or ingest_log.new_run_id()
    try:
        summary = _load_batch(batch, landing)
    except BaseException as exc:
        ingest_log.record(ingest_log.push_record(run_id, batch, started, None, exc))
        raise
    ingest_log.record(ingest_log.push_record(run_id, batch, started, summary, None))
    return summary


def _load_batch(batch: str, landing: Path | None = None) -> PushLoadSummary:
    root = landing or config.landing_dir()
    summary = PushLoadSummary(batches=[batch])
    with pipeline_lock():
        files = batch_files(root, batch)
        if not files:
            finish(root, batch, [], {})
            return summary
        pipeline = push_pipeline()
        if record_attempt(root, batch):
            # An earlier attempt may have loaded some files before it failed: move those on, load the rest.
            known = ledger_entries(pipeline, [relative_name(file) for file in files])
            done = [file for file in files if relative_name(file) in known]
            finish(
                root,
                batch,
                [file for file in done if known[relative_name(file)][0] == "loaded"],
                {file: known[relative_name(file)][1] or "quarantined" for file in done if known[relative_name(file)][0] != "loaded"},
            )
            summary.files_skipped = len(done)
            files = [file for file in files if relative_name(file) not in known]
        landed = read_landed(files)
        if files:
            loaded = run_source(pipeline, jimi_push_source(landed=landed, batch_id=batch))
            summary.rows_by_table, summary.load_ids = loaded.rows_by_table, loaded.load_ids
        finish(root, batch, landed.readable, landed.quarantined)
    summary.files_loaded = len(landed.readable)
    summary.quarantined = {relative_name(file): reason for file, reason in landed.quarantined.items()}
    summary.items, summary.items_routed = landed.items, landed.routed
    return summary


def load_pending(landing: Path | None = None, run_id: str | None = None) -> PushLoadSummary:
    """Claim every file waiting in the landing folder and load it (what a run without a batch does)."""
    root = landing or config.landing_dir()
    summary = PushLoadSummary()
    for batch in claim_new_batches(root):
        summary.add(load_batch(batch, root, run_id))
    return summary


class PushBatchConfig(Config):
    """Which claimed batch to load; empty claims and loads everything waiting (e.g. in `refresh_all`)."""

    batch: str = ""


@multi_asset(
    name=OP_NAME,
    specs=[
        AssetSpec(
            AssetKey(["jimi_push", table]),
            description=TABLE_DESCRIPTIONS[table],
            group_name="push",
            kinds={"dlt", "duckdb"},
        )
        for table in settings.TABLES
    ],
    check_specs=[
        AssetCheckSpec(
            CHECK_NAME,
            asset=AssetKey(["jimi_push", settings.FILES_TABLE]),
            description="Every landing file of the run could be read; quarantined files are listed with their reason.",
        )
    ],
)
def jimi_push_assets(context: AssetExecutionContext, config: PushBatchConfig):
    """Load one claimed batch of push landing files (or everything waiting) into `jimi_push_raw`."""
    run_id = context.run.run_id
    summary = load_batch(config.batch, run_id=run_id) if config.batch else load_pending(run_id=run_id)
    for name, reason in summary.quarantined.items():
        context.log.warning(f"quarantined {name}: {reason}")
    for table in settings.TABLES:
        metadata = {"rows_loaded": summary.rows_by_table.get(table, 0), "batches": summary.batches, "load_ids": summary.load_ids}
        if table == settings.FILES_TABLE:
            metadata |= {
                "files_loaded": summary.files_loaded,
                "files_already_loaded": summary.files_skipped,
                "files_quarantined": len(summary.quarantined),
                "quarantined": MetadataValue.json(summary.quarantined),
                "items": summary.items,
                "items_to_other_pushes": summary.items_routed,
            }
        yield MaterializeResult(asset_key=AssetKey(["jimi_push", table]), metadata=metadata)
    yield AssetCheckResult(
        check_name=CHECK_NAME,
        asset_key=AssetKey(["jimi_push", settings.FILES_TABLE]),
        passed=not summary.quarantined,
        severity=AssetCheckSeverity.WARN,
        metadata={"files_quarantined": len(summary.quarantined), "quarantined": MetadataValue.json(summary.quarantined)},
    )


push_load_job = define_asset_job(
    "load_push_landing",
    selection=AssetSelection.assets(jimi_push_assets),
    description="Load a batch of push landing files claimed by the push sensor.",
    # Queued runs of this job wait for each other rather than for the pipeline lock.
    tags={"dagster/concurrency_key": settings.PIPELINE_NAME},
    # One op: running it in the run's own process saves a process start (seconds) on every push batch.
    executor_def=in_process_executor,
)
