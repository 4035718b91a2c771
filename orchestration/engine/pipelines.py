"""Running a dlt source so that slow API work never holds the warehouse, and one pipeline runs once at a time.

`extract` and `normalize` touch only dlt's working folder (kept under the data folder, so cursors and
pending packages survive); only `load` needs the warehouse, and it runs under the writer lock. A load that
fails leaves its package pending and the next run of the same pipeline completes it first, so nothing
extracted is lost and the cursors (committed with the package) never skip data.

dlt must never run one pipeline name twice at once (two runs overwrite each other's state): `pipeline_lock`
makes a second run of a pipeline wait for the first, however the runs were started. Dagster also queues
such runs before they start (the run-queue limits in `defs/polling.py`), so the UI shows them as queued.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dlt
from filelock import FileLock, Timeout

from sources import duckdb_setup

from .. import settings as project
from .dlt_workarounds import drop_committed_extracts, memoize_capabilities, without_state_round_trips
from .warehouse import WarehouseBusy, load_locked, writer_lock


@dataclass
class LoadSummary:
    rows_by_table: dict[str, int] = field(default_factory=dict)
    load_ids: list[str] = field(default_factory=list)
    api_calls: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    window: str = "incremental"

    def add(self, other: LoadSummary) -> None:
        for table, rows in other.rows_by_table.items():
            self.rows_by_table[table] = self.rows_by_table.get(table, 0) + rows
        self.load_ids += other.load_ids


def pipeline(name: str, dataset: str = project.RAW_DATASET, throwaway: bool = False) -> dlt.Pipeline:
    """A pipeline into the configured warehouse, its working folder under the data folder. A `throwaway`
    pipeline (one batch of a bounded window, removed once loaded) keeps no state (`without_state_round_trips`)."""
    current = project.current()
    created = dlt.pipeline(
        pipeline_name=name,
        destination=memoize_capabilities(
            dlt.destinations.duckdb(credentials=duckdb_setup.dlt_credentials(current.warehouse_path))
        ),
        dataset_name=dataset,
        pipelines_dir=str(current.pipelines_dir),
    )
    return without_state_round_trips(created) if throwaway else created


@contextmanager
def pipeline_lock(name: str, wait_s: float | None = None) -> Iterator[None]:
    """Hold pipeline `name` for this process; another run of it waits (at most `JIMI_WAREHOUSE_WAIT_S`)."""
    current = project.current()
    wait_s = current.warehouse_wait_s if wait_s is None else wait_s
    path = current.pipeline_locks_dir / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        raise WarehouseBusy(
            f"pipeline {name} stayed busy for {wait_s:.0f}s: another run of it is still going"
        ) from None
    try:
        yield
    finally:
        lock.release()


def run_source(
    pipeline: dlt.Pipeline,
    source: dlt.sources.DltSource | dlt.sources.DltResource,
    resources: Sequence[str] | None = None,
    warehouse: Path | None = None,
    schema: dlt.Schema | None = None,
) -> LoadSummary:
    """Extract (into `schema` when given) and normalize without the warehouse, then load under the writer
    lock (on one connection to `warehouse` when given: the file the pipeline's destination names). The
    caller holds the pipeline (`pipeline_lock`) when others may run it."""
    if resources:
        if not isinstance(source, dlt.sources.DltSource):
            raise TypeError(
                f"resources {list(resources)} are chosen from a source, not from resource {source.name}"
            )
        source = source.with_resources(*resources)
    if pipeline.first_run and not pipeline.has_pending_data and pipeline.config.restore_from_destination:
        # A fresh working folder knows no cursors: restore them from the warehouse before extracting.
        with writer_lock():
            pipeline.sync_destination()
    if pipeline.has_pending_data:
        # A load that failed earlier (the warehouse was busy, the process was killed): finish it first.
        drop_committed_extracts(pipeline)
        pipeline.normalize()
        load_locked(pipeline, warehouse)
    pipeline.extract(source, schema=schema)  # type: ignore[arg-type]  # dlt's stub omits the None its default is
    normalized = pipeline.normalize()
    summary = LoadSummary()
    for table, rows in ((normalized.row_counts if normalized else None) or {}).items():
        if not table.startswith("_dlt"):
            summary.rows_by_table[table] = rows
    info = load_locked(pipeline, warehouse)
    info.raise_on_failed_jobs()
    summary.load_ids = list(info.loads_ids)
    return summary
