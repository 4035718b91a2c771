"""Daily partitions for the history-bearing Jimi assets, so months can be backfilled in bounded chunks.

The partitions start `JIMI_HISTORY_DAYS` (default 92) days back: the API keeps the GPS trail for three
months, so older days have nothing to read. A backfill runs at most `BACKFILL_DAYS_PER_RUN` partitions per
run (a week: what one `track.list` call covers), so a three-month backfill is ~13 runs that can be
cancelled and resumed and that never block the schedules.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from dagster import BackfillPolicy, DailyPartitionsDefinition

HISTORY_DAYS = int(os.environ.get("JIMI_HISTORY_DAYS", "92"))
BACKFILL_DAYS_PER_RUN = int(os.environ.get("JIMI_BACKFILL_DAYS_PER_RUN", "7"))


def history_start() -> str:
    return (datetime.now(UTC) - timedelta(days=HISTORY_DAYS)).strftime("%Y-%m-%d")


# end_offset=1 includes today, which is the partition the incremental schedules attach their runs to.
history_partitions = DailyPartitionsDefinition(start_date=history_start(), timezone="UTC", end_offset=1)
backfill_policy = BackfillPolicy.multi_run(max_partitions_per_run=BACKFILL_DAYS_PER_RUN)
