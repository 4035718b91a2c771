"""Every place the load engine reaches past dlt's public API, in one module (written against dlt 1.31).

Each is here because a benchmark or a recovery test needs it, says which dlt behaviour it relies on, and has
a test in `tests/engine/test_dlt_workarounds.py` that fails when dlt changes that behaviour. Check them
again when upgrading dlt: that test file also fails while the installed dlt is not `WRITTEN_AGAINST`.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import dlt
from dlt.common.destination import Destination, DestinationCapabilitiesContext
from dlt.common.pipeline import LoadInfo

from sources import duckdb_setup

log = logging.getLogger(__name__)

WRITTEN_AGAINST = "1.31"  # the dlt release (major.minor) every workaround here was written and tested against


def memoize_capabilities(destination: Destination) -> Destination:
    """The destination, computing its capabilities once (`bench/ingest_ratio.py`).

    dlt 1.31 asks `destination.capabilities()` about 20 times per extract, normalize and load, and each time
    resolves the destination's whole configuration (~3.5 ms); within a pipeline's life they cannot change.
    Calls with a resolved configuration or a case-sensitive naming convention (which adjust them) still compute.
    """
    compute = destination.capabilities
    memo: list[DestinationCapabilitiesContext] = []

    def capabilities(config=None, naming=None) -> DestinationCapabilitiesContext:
        if config is not None or (naming is not None and naming.is_case_sensitive):
            return compute(config, naming)
        if not memo:
            memo.append(compute())
        return memo[0].copy()  # callers may adjust what they are given

    destination.capabilities = capabilities  # type: ignore[method-assign]
    return destination


def without_state_round_trips(pipeline: dlt.Pipeline) -> dlt.Pipeline:
    """A pipeline that neither restores nor stores state in the destination and keeps no runtime trace.

    For one batch of a bounded window, which has no cursor and whose folder is deleted once loaded: each of
    those is a round of dlt bookkeeping per batch that nothing reads. dlt 1.31 reads these two fields of
    `pipeline.config` at each step, and `dlt.pipeline()` takes no arguments for them (configuration would set
    them for every pipeline).
    """
    pipeline.config.restore_from_destination = False
    pipeline.config.enable_runtime_trace = False
    return pipeline


def load_on_connection(pipeline: dlt.Pipeline, warehouse: Path) -> LoadInfo:
    """`pipeline.load()` on one DuckDB connection to `warehouse` (the file the pipeline's destination names).

    Given a path, dlt 1.31 opens the file for each client it makes and closes it (a checkpoint) when that client
    is done, several times a package (~0.1 s of a backfill batch); given an open connection it takes cursors of
    it, and the one checkpoint comes when it is closed here. dlt keeps the credentials it was last given, so
    they are set back to the path: a closed connection would fail the pipeline's next step.
    """
    connection = duckdb_setup.connect(str(warehouse))
    # The checkpoint at close would merge this load's last, partly filled row group with the earlier load's:
    # a rewrite of a whole batch every other batch (0.11 s of a week of 45 devices' fixes). Left unmerged, a
    # table has one partly filled row group per batch; fully deleted row groups are still dropped.
    connection.execute("set max_vacuum_tasks = 0")
    try:
        return pipeline.load(credentials=connection)
    finally:
        connection.close()
        pipeline.destination.config_params["credentials"] = duckdb_setup.dlt_credentials(warehouse)


def drop_committed_extracts(pipeline: dlt.Pipeline) -> None:
    """Delete extracted packages whose normalized package was already committed.

    dlt 1.31's normalize commits a package by renaming it into `load/normalized/` (atomic) and then deletes the
    extracted copy: a process killed between the two (dlt logs "do not kill this process" there) leaves both,
    and every later normalize fails renaming onto the committed one. That copy is complete, so the leftover
    goes, as the dead process was about to do.
    """
    extracted = Path(pipeline.working_dir, "normalize", "extracted")
    load = Path(pipeline.working_dir, "load")
    for package in sorted(extracted.iterdir()) if extracted.is_dir() else []:
        if any((load / stage / package.name).is_dir() for stage in ("normalized", "loaded")):
            log.warning(
                "pipeline %s: dropping the extract of package %s, already normalized",
                pipeline.pipeline_name,
                package.name,
            )
            shutil.rmtree(package)
