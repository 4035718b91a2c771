"""Loading Jimi resources: incremental from their cursors, a bounded window, or the trailing days again.

Each resource runs in a dlt pipeline of its own (`jimi_<resource>`, see `accounts.pipeline_name`), so the
minute sweep, a long track poll and an alarm poll can run at the same time without sharing a working folder;
a bounded window (a backfill chunk) loads in batches through throwaway pipelines (`backfill.py`), since it
stores no cursor. Before anything is called, a run checks that polling is on, that an account is configured
and that the warehouse was loaded from that account (`accounts.py`); each of those fails naming what to set.
Every resource's run is recorded in `jimi_ingest` (`ingest_log.py`), whether it succeeded or failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Unpack

from sources.jimi import JimiCredentials, SourceOptions, endpoint, jimi_source, load_credentials
from sources.jimi.callstats import CallStats

from .. import settings as project
from . import ingest_log
from .accounts import Account, ensure_account, pipeline_name
from .backfill import WindowSourceArgs, load_window
from .pipelines import LoadSummary, pipeline, pipeline_lock, run_source


class PollingDisabled(RuntimeError):
    """Polling is switched off for this deployment (`JIMI_POLLING=off`)."""


def prepare_polling(credentials: JimiCredentials | None = None) -> tuple[JimiCredentials, Account]:
    """Everything a polling run checks before it calls the API (see the module docstring)."""
    if not project.current().polling:
        raise PollingDisabled(
            "polling is off for this deployment (JIMI_POLLING=off): push and dbt run, the API is not read; "
            "set JIMI_POLLING=on and configure an account to poll"
        )
    credentials = credentials or load_credentials()
    return credentials, ensure_account(credentials)


def load_jimi(
    resources: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
    catch_up_days: int | None = None,
    run_id: str | None = None,
    credentials: JimiCredentials | None = None,
    **source_args: Unpack[SourceOptions],
) -> LoadSummary:
    """Load Jimi resources, each in its own pipeline: incremental from the cursors by default, exactly
    [start, end) when both are given (cursors untouched), or the trailing `catch_up_days`."""
    run_id = run_id or ingest_log.new_run_id()
    total = LoadSummary()
    if start is not None and end is not None:
        total.window = f"{start.isoformat()} to {end.isoformat()}"
    else:
        total.window = f"catch-up {catch_up_days} days" if catch_up_days else "incremental"
    records: dict[str, list[dict]] = {}
    try:
        credentials, account = prepare_polling(credentials)
    except Exception as exc:
        # Refused before anything was called: still a run the ingestion-health record shows, with the reason.
        for resource in resources:
            _merge(
                records,
                ingest_log.polling_records(
                    run_id, resource, total.window, CallStats(resource), datetime.now(UTC), None, [], exc
                ),
            )
        ingest_log.record(records)
        raise
    source_args = {"token_dir": str(project.current().token_dir), **source_args}
    try:
        for resource in resources:
            part = _load_resource(
                resource,
                account,
                total.window,
                records,
                run_id,
                total,
                credentials=credentials,
                start=start,
                end=end,
                catch_up_days=catch_up_days,
                **source_args,
            )
            total.add(part)
    finally:
        if records:
            ingest_log.record(records)
    return total


def _load_resource(
    resource: str,
    account: Account,
    mode: str,
    records: dict[str, list[dict]],
    run_id: str,
    total: LoadSummary,
    *,
    start: datetime | None,
    end: datetime | None,
    catch_up_days: int | None,
    **source_args: Unpack[WindowSourceArgs],
) -> LoadSummary:
    """One resource of a run, its outcome added to `records` (and its calls to `total`) whatever happens."""
    stats = CallStats(resource)
    started = datetime.now(UTC)
    try:
        if start is not None and end is not None and endpoint(resource).history:
            part = load_window(resource, start, end, stats, **source_args)
        else:
            name = pipeline_name(account, resource)
            with pipeline_lock(name):
                source = jimi_source(
                    start=start, end=end, catch_up_days=catch_up_days, stats=stats, **source_args
                )
                part = run_source(pipeline(name), source, [resource])
    except BaseException as exc:
        _merge(records, ingest_log.polling_records(run_id, resource, mode, stats, started, None, [], exc))
        raise
    finally:
        total.api_calls += stats.calls
        for cause, count in stats.retries.items():
            total.retries[cause] = total.retries.get(cause, 0) + count
    _merge(
        records,
        ingest_log.polling_records(
            run_id, resource, mode, stats, started, part.rows_by_table, part.load_ids, None
        ),
    )
    return part


def _merge(records: dict[str, list[dict]], more: dict[str, list[dict]]) -> None:
    for table, rows in more.items():
        records.setdefault(table, []).extend(rows)
