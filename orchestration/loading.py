"""Running the dlt source so that slow API work never holds the warehouse.

`extract` and `normalize` touch only dlt's working folder (kept under the data folder, so cursors and
pending packages survive); only `load` needs the warehouse, and it runs under the writer lock. A load that
fails leaves its package pending and the next run completes it first, so nothing extracted is lost and the
cursors (committed with the package) never skip data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import dlt
from dlt.common.pipeline import LoadInfo

from . import config
from .warehouse import writer_lock


@dataclass
class LoadSummary:
    rows_by_table: dict[str, int] = field(default_factory=dict)
    load_ids: list[str] = field(default_factory=list)


def jimi_pipeline() -> dlt.Pipeline:
    """The pipeline that loads the Jimi source; destination and location come from configuration."""
    return dlt.pipeline(
        pipeline_name=config.PIPELINE_NAME,
        destination=dlt.destinations.duckdb(credentials=str(config.warehouse_path())),
        dataset_name=config.RAW_DATASET,
        pipelines_dir=str(config.pipelines_dir()),
    )


def run_source(pipeline: dlt.Pipeline, source: dlt.sources.DltSource, resources: Sequence[str] | None = None) -> LoadSummary:
    """Extract and normalize without the warehouse, then load under the writer lock."""
    if resources:
        source = source.with_resources(*resources)
    if pipeline.first_run and not pipeline.has_pending_data:
        # A fresh working folder knows no cursors: restore them from the warehouse before extracting.
        with writer_lock():
            pipeline.sync_destination()
    pipeline.extract(source)
    pipeline.normalize()
    summary = LoadSummary()
    for table, rows in (pipeline.last_trace.last_normalize_info.row_counts or {}).items():
        if not table.startswith("_dlt"):
            summary.rows_by_table[table] = rows
    with writer_lock():
        info: LoadInfo = pipeline.load()
    info.raise_on_failed_jobs()
    summary.load_ids = list(info.loads_ids)
    return summary


def load_jimi(resources: Sequence[str] | None = None, **source_args: object) -> LoadSummary:
    """Load the chosen Jimi resources; `source_args` (start, end, ...) go to the source, the rest from config."""
    from sources.jimi import jimi_source

    return run_source(jimi_pipeline(), jimi_source(**source_args), resources)
