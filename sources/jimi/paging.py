"""Reading every page of one window: the two paging styles the API uses, with its quirks guarded.

- `pages_until_short`: no total is sent, so pages are read until one comes back shorter than asked. Some
  servers ignore the page parameter and answer the first page again (docs/jimi-api.md#paging, #10): a page whose
  first row is the first page's first row ends the reading instead of looping, and the result says so
  (`Pages.repeated`), so a caller that can narrow its window reads the rest that way.
- `pages_from_total`: the envelope carries a row total (`data.totalRecord`); its page count is unreliable,
  so the number of pages is computed from the total.

Every helper returns the tables of every page or raises (after the client's retries): a cursor never moves
past rows that were not read.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyarrow as pa

from .signing import format_time


class Pages(list):
    """The tables of the pages read; `repeated` when reading ended on the first page sent again, so rows
    past the first page may not have been read."""

    repeated = False


def pages_until_short(
    fetch_page: Callable[[int], pa.Table],
    *,
    first: int,
    step: int,
    page_size: int,
    head: Callable[[pa.Table], object],
    max_pages: int,
) -> Pages:
    """`fetch_page(number)` for number = first, first + step, ... until a short page (or a repeated first
    page, judged by `head` of a non-empty page), at most `max_pages` pages."""
    tables = Pages()
    first_head = None
    number = first
    for _ in range(max_pages):
        table = fetch_page(number)
        here = head(table) if table.num_rows else None
        if here is not None and here == first_head:
            tables.repeated = True  # the server ignored the page parameter and sent the first page again
            break
        if first_head is None:
            first_head = here
        tables.append(table)
        if table.num_rows < page_size:
            break
        number += step
    return tables


def pages_from_total(
    fetch_page: Callable[[int], tuple[pa.Table, int | None]], page_size: int
) -> list[pa.Table]:
    """`fetch_page(page_no)` (from 1) for as many pages as the first page's total says (one when it has none),
    stopping early at an empty page."""
    tables: list[pa.Table] = []
    pages, page_no = 1, 1
    while page_no <= pages:
        table, total = fetch_page(page_no)
        tables.append(table)
        if page_no == 1:
            pages = math.ceil((total or table.num_rows) / page_size)
        if table.num_rows == 0:
            break
        page_no += 1
    return tables


def first_key(column: str) -> Callable[[pa.Table], object]:
    """A page's head for `pages_until_short`: (imei, `column`) of its first row."""

    def head(table: pa.Table) -> object:
        return (table.column("imei")[0].as_py(), table.column(column)[0].as_py())

    return head


def describe(imeis: list[str], begin, end) -> str:
    """The context an error names: the devices (the first of a batch) and the window."""
    devices = imeis[0] if len(imeis) == 1 else f"{len(imeis)} devices ({imeis[0]}…)"
    return f"{devices}, {format_time(begin)} to {format_time(end)}"
