"""Loading pushed data: one claimed batch of landing files into `jimi_push_raw`, each file exactly once.

The push sensor (`defs/push.py`) claims landed files into `claimed/<batch>/` and requests a run for the
batch. `load_batch` reads the batch, loads it with dlt through `pipelines.run_source` (extraction never holds
the warehouse) and moves the files to `processed/`, or to `quarantine/` with their reason. A retried run first
asks the warehouse ledger (`landing_files`) which of its files an earlier attempt already loaded and only
moves those on. Push has its own dlt pipeline (`jimi_push`) and dataset (`jimi_push_raw`): its tables never
collide with polling's, and dbt unifies them. Each attempt is recorded in `jimi_ingest.push_batches`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from sources.jimi_push import jimi_push_source, read_landed, settings
from sources.jimi_push.batches import batch_files, claim_new_batches, finish, record_attempt, relative_name

from .. import settings as project
from . import ingest_log
from .pipelines import pipeline, pipeline_lock, run_source
from .warehouse import writer_lock


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

    def add(self, other: PushLoadSummary) -> None:
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
    return pipeline(settings.PIPELINE_NAME, settings.DATASET_NAME)


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
    root = landing or project.current().landing_dir
    summary = PushLoadSummary(batches=[batch])
    # One push load at a time: dlt must never run one pipeline name twice at once.
    with pipeline_lock(settings.PIPELINE_NAME):
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
                {
                    file: known[relative_name(file)][1] or "quarantined"
                    for file in done
                    if known[relative_name(file)][0] != "loaded"
                },
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
    root = landing or project.current().landing_dir
    summary = PushLoadSummary()
    for batch in claim_new_batches(root):
        summary.add(load_batch(batch, root, run_id))
    return summary
