"""A batch of decoded answers as one Arrow table with one row per natural key, before dlt sees it.

The API repeats fixes inside an answer and across neighbouring windows, and a load merges on the natural
key, so a batch must reach the warehouse with each key once. Collapsing the duplicates here, in Arrow,
costs a sort of the key columns and one copy of the table (~30 ms for 300k rows); left to dlt it is a
`row_number()` window over the staging table inside the load, under the writer lock, and dlt also pays a
schema pass and a parquet write per table it is handed, so one table instead of one per answer saves
most of extract too.

Only Arrow compute is used: building arrays from Python objects (`pa.array`, `pa.scalar`) makes pyarrow
import pandas, a second per process that a backfill batch would pay for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dlt
import pyarrow as pa
import pyarrow.compute as pc


def combine(tables: Iterable[pa.Table]) -> pa.Table | None:
    """One table of all the answers (None when there are none), without copying them; schemas that
    differ only in what a lenient cast can reconcile (a column all null in one answer) are unified."""
    tables = [table for table in tables if table.num_rows]
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def unique_on(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """The rows of `table` with each `keys` value once, ordered by the keys; of rows sharing a key the
    last one given wins (the newer answer), as a later load replaces an earlier one.

    Nulls in a key compare equal, as in the SQL `partition by` dlt would otherwise deduplicate with.
    Only the key columns are sorted and compared; the whole table is copied once, by the final `take`.
    """
    count = table.num_rows
    if count < 2:
        return table
    key_columns = table.select(list(keys)).combine_chunks()
    # A stable sort keeps rows of one key in the order they came, so the last of each run is the newest.
    order = pc.sort_indices(key_columns, sort_keys=[(key, "ascending") for key in keys])
    same: pa.Array | None = None
    for key in keys:
        column = pc.take(key_columns[key].chunk(0), order)
        here, after = column.slice(0, count - 1), column.slice(1)
        equal = pc.or_kleene(pc.equal(here, after), pc.and_(pc.is_null(here), pc.is_null(after)))
        same = equal if same is None else pc.and_kleene(same, equal)
    # A null comparison (one side null) means different keys: and-ing with validity turns it into false.
    same = pc.and_kleene(same, pc.is_valid(same))
    if pc.any(same).as_py():
        # Row i (in key order) is dropped when row i + 1 has the same key; the last row ends its run.
        order = pa.concat_arrays(
            [pc.filter(order.slice(0, count - 1), pc.invert(same)), order.slice(count - 1)]
        )
    return table.take(order)


def collapse_duplicates(run: dlt.Pipeline, table: str, keys: Sequence[str]) -> None:
    """Delete all but one row of every `keys` value `table` holds more than once (a scan of the table).

    For the rare load that cannot rule duplicates out: a resumed one (see `loading.load_batch`). The
    caller holds the writer lock.
    """
    with run.sql_client() as client:
        qualified = client.make_qualified_table_name(table)
        key_list = ", ".join(client.escape_column_name(key) for key in keys)
        client.execute_sql(
            f"delete from {qualified} where rowid in (select rowid from (select rowid, "
            f"row_number() over (partition by {key_list}) as copy from {qualified}) where copy > 1)"
        )
