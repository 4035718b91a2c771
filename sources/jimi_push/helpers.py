"""Reading a batch of landed files into typed Arrow tables, and setting aside the files that cannot be read.

DuckDB (in memory, never the warehouse) reads the envelopes, checks each one, explodes the items and runs
each family's SQL (`mapping.py`); the result is Arrow, which dlt loads without touching a Python dict per
row. A file that is not a valid envelope is quarantined with its reason and none of its items are used. An
item whose natural key cannot be read (no IMEI, no time...) goes to `other_pushes` with the reason, so
nothing is dropped. Within a batch, repeated items keep their latest delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from sources import duckdb_setup

from . import settings
from .batches import relative_name
from .mapping import DROPPED, FAMILIES, IMEI, MACROS, Family

# `doc` is NULL for text that is not JSON: DuckDB 1.5 evaluates a repeated `content::json` for every row
# (common subexpression), ahead of the `case` that would have skipped it, and the cast fails the query.
ENVELOPE_CHECKS = """
select file, case
    when not json_valid(content) then 'not valid JSON'
    when json_type(doc) <> 'OBJECT' then 'not a JSON object'
    when json_type(doc, '$.items') is distinct from 'ARRAY' then 'items is missing or not an array'
    when (doc->>'path') is null or (doc->>'path') not in $paths then 'path is missing or unknown'
    when (doc->>'path') <> split_part(file, '/', -3) then 'path differs from the folder it landed in'
    when try_strptime(doc->>'received_at', '%Y-%m-%dT%H:%M:%S.%fZ') is null then 'received_at is not a UTC time'
    when try_cast(doc->>'item_count' as bigint) is distinct from json_array_length(doc, '$.items')
        then 'item_count differs from the number of items'
    when list_bool_or(list_transform(json_extract(doc, '$.items[*]'), lambda i: json_type(i) <> 'OBJECT'))
        then 'an item is not a JSON object'
    end as reason
from (select file, content, try_cast(content as json) as doc from envelopes)
"""

EXPLODE = """
create temp table items as
select *, cast(item as varchar) as raw_json from (
    select file, landing_file, path, received_at,
           unnest(json_extract(doc, '$.items[*]')) as item,
           generate_subscripts(json_extract(doc, '$.items[*]'), 1) as idx
    from (
        select file, regexp_extract(file, '([^/]+/[^/]+/[^/]+)$', 1) as landing_file, content::json as doc,
               content::json->>'path' as path,
               strptime(content::json->>'received_at', '%Y-%m-%dT%H:%M:%S.%fZ')::timestamptz as received_at
        from envelopes where file not in (select file from rejected)
    )
)
"""


@dataclass
class LandedBatch:
    """What one batch of files yields: a table per destination, and the files set aside."""

    files: list[Path]
    tables: dict[str, pa.Table] = field(default_factory=dict)
    quarantined: dict[Path, str] = field(default_factory=dict)
    items: int = 0
    routed: int = 0

    @property
    def readable(self) -> list[Path]:
        return [file for file in self.files if file not in self.quarantined]

    def rows(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}


def connect() -> duckdb.DuckDBPyConnection:
    connection = duckdb_setup.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute(MACROS)
    return connection


def _read_envelopes(connection: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> dict[Path, str]:
    """Load every file's text; a file DuckDB cannot read as UTF-8 text is returned with the reason."""
    connection.execute("create temp table envelopes (file varchar, content varchar)")
    names = [str(file) for file in files]
    try:
        connection.execute("insert into envelopes select filename, content from read_text(?)", [names])
        return {}
    except duckdb.Error:
        pass  # one bad file fails the whole read: find it one file at a time
    unreadable = {}
    for file in files:
        try:
            connection.execute(
                "insert into envelopes select filename, content from read_text(?)", [str(file)]
            )
        except duckdb.Error as exc:
            unreadable[file] = f"not readable as UTF-8 text ({type(exc).__name__})"
    return unreadable


def _family_sql(family: Family) -> str:
    base = "".join(f", {expression} as {name}" for name, expression in family.base.items())
    columns = ",\n".join(f"{expression} as {name}" for name, expression in family.columns.items())
    key = settings.PRIMARY_KEYS[family.table]
    reason = " ".join(f"when {column} is null then 'missing {column}'" for column in key)
    return f"""
        select *, case {reason} end as _reason from (
            select {columns}, received_at, landing_file, raw_json, idx
            from (select *{base} from items where path = '{family.path}')
        )"""


def _latest(relation: str, key: Sequence[str], columns: Sequence[str]) -> str:
    keep = ", ".join(columns)
    return f"""select {keep} from {relation}
        qualify row_number() over (partition by {", ".join(key)} order by received_at desc, landing_file desc, idx desc) = 1"""


def read_landed(files: Sequence[Path]) -> LandedBatch:
    """Typed tables (Arrow) for every family in `files`, the other items raw, the bad files set aside."""
    batch = LandedBatch(files=list(files))
    if not files:
        return batch
    connection = connect()
    try:
        batch.quarantined = _read_envelopes(connection, files)
        paths = "(" + ", ".join(f"'{path}'" for path in settings.PUSH_PATHS) + ")"
        rejected = connection.execute(ENVELOPE_CHECKS.replace("$paths", paths)).fetchall()
        by_name = {str(file): file for file in files}
        batch.quarantined.update({by_name[name]: reason for name, reason in rejected if reason})
        connection.execute("create temp table rejected (file varchar)")
        connection.execute(
            "insert into rejected select unnest(?::varchar[])", [[str(file) for file in batch.quarantined]]
        )
        connection.execute(EXPLODE)
        batch.items = connection.execute("select count(*) from items").fetchall()[0][0]
        connection.execute("create temp table routed (landing_file varchar, idx bigint, reason varchar)")
        for family in FAMILIES:
            connection.execute(f"create temp table typed as {_family_sql(family)}")
            columns = [name for name in family.columns if name not in DROPPED]
            columns += ["received_at", "landing_file", "raw_json"]
            key = settings.PRIMARY_KEYS[family.table]
            table = _keyed(
                connection.sql(_latest("typed where _reason is null", key, columns)).to_arrow_table(), key
            )
            if table.num_rows:
                batch.tables[family.table] = table
            connection.execute(
                "insert into routed select distinct landing_file, idx, _reason from typed where _reason is not null"
            )
            connection.execute("drop table typed")
        batch.routed = connection.execute("select count(*) from routed").fetchall()[0][0]
        other = _other_pushes(connection)
        if other.num_rows:
            batch.tables[settings.OTHER_TABLE] = other
    finally:
        connection.close()
    return batch


def _other_pushes(connection: duckdb.DuckDBPyConnection) -> pa.Table:
    """Items of families without a table of their own, and items routed out of a typed table."""
    families = ", ".join(f"'{family.path}'" for family in FAMILIES)
    relation = f"""(
        select i.*, r.reason from items i left join routed r using (landing_file, idx)
        where i.path not in ({families}) or r.reason is not null
    )"""
    columns = [
        "path",
        f"{IMEI} as imei",
        """coalesce(p_time(item->>'gateTime'), p_time(item->>'postTime'), p_time(item->>'gpsTime'),
            p_time(item->>'alarmTime')) as event_time""",
        "md5(raw_json) as item_hash",
        "reason",
        "received_at",
        "landing_file",
        "raw_json",
    ]
    rows = f"(select {', '.join(columns)}, idx from {relation})"
    keep = ["path", "imei", "event_time", "item_hash", "reason", "received_at", "landing_file", "raw_json"]
    key = settings.PRIMARY_KEYS[settings.OTHER_TABLE]
    return _keyed(connection.sql(_latest(rows, key, keep)).to_arrow_table(), key)


def _keyed(table: pa.Table, key: Sequence[str]) -> pa.Table:
    """Mark the key columns non-null (rows with a null key were routed away) as dlt's primary key hint says."""
    fields = [field.with_nullable(field.name not in key) for field in table.schema]
    return table.cast(pa.schema(fields))


FILES_SCHEMA = pa.schema(
    [
        pa.field("landing_file", pa.string(), nullable=False),
        ("path", pa.string()),
        ("batch", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


def files_table(batch: LandedBatch, batch_id: str, now: datetime | None = None) -> pa.Table:
    """The ledger rows of a batch: every file, loaded or quarantined, with the reason."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    rows = [
        {
            "landing_file": relative_name(file),
            "path": file.parts[-3],
            "batch": batch_id,
            "status": "quarantined" if file in batch.quarantined else "loaded",
            "reason": batch.quarantined.get(file),
            "recorded_at": moment,
        }
        for file in batch.files
    ]
    return pa.Table.from_pylist(rows, schema=FILES_SCHEMA)
