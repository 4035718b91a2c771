"""Daily partitions for the Jimi resources that keep history, so months can be backfilled in bounded chunks.

The partitions start `JIMI_HISTORY_DAYS` (default 92) days back: the API keeps the GPS trail for three
months, so older days have nothing to read. A backfill runs at most `JIMI_BACKFILL_DAYS_PER_RUN` (default 7)
partitions per run (a week: what one `track.list` call covers), so a three-month backfill is ~13 runs that can
be cancelled and resumed and that never block the schedules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dagster import BackfillPolicy, DailyPartitionsDefinition

from orchestration.settings import Settings


def history_partitions(settings: Settings) -> DailyPartitionsDefinition:
    start = (datetime.now(UTC) - timedelta(days=settings.history_days)).strftime("%Y-%m-%d")
    # end_offset=1 includes today, which is the partition the incremental schedules attach their runs to.
    return DailyPartitionsDefinition(start_date=start, timezone="UTC", end_offset=1)


def backfill_policy(settings: Settings) -> BackfillPolicy:
    return BackfillPolicy.multi_run(max_partitions_per_run=settings.backfill_days_per_run)
