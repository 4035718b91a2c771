"""The full row list of a paged report query, kept between its page calls.

Clients read mileage, parking, alarm and OBD reports page by page (50-100 rows each); building the rows
of a month of a fleet for every page made reading a report quadratic in its length (a 3-month backfill
spent most of its time there). Rows are a pure function of the query and of the clock where the clock cuts
them off, so the key holds the query parameters and that cut-off; a bounded LRU keeps the memory small.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

MAX_QUERIES = 8  # a backfill reads a few windows at a time; a month of a fleet's OBD rows is ~10^5 pairs


class RowCache:
    """Bounded LRU of row lists by query key; safe to share between handler threads."""

    def __init__(self, size: int = MAX_QUERIES) -> None:
        self._rows: OrderedDict[Hashable, list] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], list]) -> list:
        with self._lock:
            rows = self._rows.get(key)
            if rows is not None:
                self._rows.move_to_end(key)
                return rows
        rows = build()  # outside the lock: two threads may build the same rows, never different ones
        with self._lock:
            self._rows[key] = rows
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)
        return rows
