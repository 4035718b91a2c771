"""dlt source for the Jimi IoT / TrackSolid Pro open API: one resource per analytics endpoint.

The resources, their keys, cursors and cadences are listed in `registry.py`; how each endpoint is read and
mapped to columns is in `resources/`. How a run picks its range (incremental / bounded `start`-`end` /
`catch_up_days`) is in `windows.py`, paging in `paging.py`, the client (signing, tokens, retries) in
`client.py`. The account comes from `[sources.jimi]` in dlt's secrets or the `SOURCES__JIMI__*` variables
(`credentials.py`); without one the source refuses to start, naming the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import dlt

from . import settings
from .callstats import CallStats
from .client import ClientTuning, JimiClient
from .credentials import AccountNotConfigured, JimiCredentials, load_credentials
from .registry import ENDPOINTS, HISTORY, KEYS, Endpoint, endpoint
from .run import SourceRun
from .tokens import TokenCache
from .windows import RunWindow

__all__ = [
    "ENDPOINTS",
    "HISTORY",
    "KEYS",
    "AccountNotConfigured",
    "ClientTuning",
    "Endpoint",
    "JimiCredentials",
    "SourceOptions",
    "endpoint",
    "jimi_source",
    "load_credentials",
]


class SourceOptions(TypedDict, total=False):
    """`jimi_source`'s keywords other than the account, the window and the stats: what callers pass through
    (`**options`) to it, typed so that a wrong name or type is caught where it is passed."""

    imeis: Sequence[str] | None
    initial_days: int
    lookback_minutes: int | None
    mileage_distance_unit: str
    media_models: Sequence[str]
    tag_models: Sequence[str]
    max_workers: int
    calls_per_second: float
    max_attempts: int
    backoff_s: float
    timeout_s: float | None
    token_dir: str
    now: datetime | None


@dlt.source(name="jimi", max_table_nesting=0)
def jimi_source(
    credentials: JimiCredentials | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    catch_up_days: int | None = None,
    imeis: Sequence[str] | None = None,
    initial_days: int = settings.TRACK_INITIAL_DAYS,
    lookback_minutes: int | None = None,
    mileage_distance_unit: str = "auto",
    media_models: Sequence[str] = settings.MEDIA_MODEL_PREFIXES,
    tag_models: Sequence[str] = (),
    max_workers: int = 4,
    calls_per_second: float = 10.0,
    max_attempts: int = 6,
    backoff_s: float = 1.0,
    timeout_s: float | None = None,
    token_dir: str = "data/tokens",
    now: datetime | None = None,
    stats: CallStats | None = None,
) -> list[dlt.sources.DltResource]:
    """Every Jimi resource of the registry.

    `credentials` default to the configured account (`credentials.load_credentials`). `start`/`end` bound a
    backfill window, `catch_up_days` re-reads the trailing days, `now` fixes the clock (tests), `stats`
    collects calls and retries, `timeout_s` replaces every method's own timeout, `token_dir` is the token
    cache every process of one account shares (relative to the working folder unless absolute; the
    orchestration passes its data folder's); the rest are the `[sources.jimi]` settings in the README.
    """
    credentials = credentials or load_credentials()

    def clock() -> datetime:
        return (now or datetime.now(UTC)).replace(microsecond=0)

    tokens = TokenCache(
        Path(token_dir), f"{credentials.base_url}|{credentials.app_key}|{credentials.user_id}", clock=clock
    )
    tuning = ClientTuning(
        max_attempts=max_attempts,
        backoff_s=backoff_s,
        calls_per_second=calls_per_second,
        timeouts_s={method: timeout_s for method in settings.ALL_METHODS} if timeout_s else {},
    )
    client = JimiClient(
        credentials, tokens, tuning, clock=clock, stats=stats if stats is not None else CallStats()
    )
    run = SourceRun(
        client,
        RunWindow(clock(), start, end, catch_up_days, initial_days),
        max_workers=max_workers,
        imeis=imeis,
        track_lookback=timedelta(minutes=lookback_minutes) if lookback_minutes is not None else None,
        media_models=media_models,
        tag_models=tag_models,
        mileage_distance_unit=mileage_distance_unit,
    )
    return [
        dlt.resource(
            _rows(run, entry),
            name=entry.name,
            primary_key=entry.key,
            write_disposition=entry.write_disposition,
            columns=entry.columns,  # type: ignore[arg-type]  # dlt's stub omits the None its default is
        )
        for entry in ENDPOINTS
    ]


def _rows(run: SourceRun, entry: Endpoint) -> Callable[[], Iterator[object]]:
    """The entry's rows as a generator function, so nothing is called before dlt extracts the resource."""

    def rows() -> Iterator[object]:
        yield from entry.rows(run, entry)

    return rows
