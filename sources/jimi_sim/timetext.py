"""The cloud's time texts, `yyyy-MM-dd HH:mm:ss` in UTC, as API answers, pushes and truth exports write them.

Shared by the API (`api/wire/`), the push items (`push/wire.py`), the geofence and ground-truth exports, so
every one of them writes the same text for the same instant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def utc_text(moment: datetime) -> str:
    """`yyyy-MM-dd HH:mm:ss` of an aware-UTC datetime; the hot-path twin of `signing.format_time`."""
    return moment.isoformat(" ", "seconds")[:19]


@lru_cache(maxsize=8_192)
def _day_text(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")


def epoch_text(epoch: int) -> str:
    """`utc_text` of a whole-second epoch without building a datetime (millions per backfill)."""
    day, second = divmod(epoch, 86400)
    hour, rest = divmod(second, 3600)
    minute, sec = divmod(rest, 60)
    return f"{_day_text(day)}{hour:02d}:{minute:02d}:{sec:02d}"
