"""Turning raw Jimi answers into typed Arrow tables, with DuckDB's JSON reader doing the per-row work.

Parsing bodies row by row in Python runs at ~35k rows/s, too slow to backfill a large fleet; DuckDB's
`from_json` with a typed structure runs at ~450k rows/s and casts leniently, which is exactly what the API
needs: numbers that arrive as strings or as numbers (docs/jimi-api.md #18), unpadded hours (#28), optional keys.
Each `Shape` names where the rows sit in the envelope (`result`, `data.rows`, `data.result`), the API
fields with the type to read them as, and the SQL that maps them to our columns (snake_case, units in the
names, UTC timestamps). A `result` that is a lone object instead of a list is wrapped; `null` is no rows.
The raw API name behind every column is the `fields` key its expression reads.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from dataclasses import dataclass

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from sources import duckdb_setup

from .errors import JimiResponseError


class MalformedBody(ValueError):
    """The body is not JSON (for example truncated in transit); the call should be retried."""


@dataclass(frozen=True)
class Shape:
    method: str
    path: tuple[str, ...]
    fields: dict[str, str]
    select: str
    where: str = "true"
    # Columns that are never null (the table's key): declared so in the Arrow schema, as dlt's hints say.
    # A row missing one is dropped, in Arrow: a `where` on them in the SQL cost ~10 % of a track answer's
    # decode, and a column computed from a present field can still be null.
    keys: tuple[str, ...] = ()
    # The first column, holding `key` (the IMEI asked) on every row. Added in Arrow: DuckDB repeating the
    # bound parameter per row cost ~6 % of a track answer's decode.
    key_column: str | None = None

    def structure(self) -> str:
        inner: object = [self.fields]
        for key in reversed(self.path):
            inner = {key: inner}
        return orjson.dumps(inner).decode()

    def accessor(self) -> str:
        return "".join(f'."{key}"' for key in self.path)


log = logging.getLogger(__name__)
_local = threading.local()
_database: duckdb.DuckDBPyConnection | None = None
_database_lock = threading.Lock()
# DuckDB suggests the relation API for Arrow output from `execute`; measured, it is the slower of the two here.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def _connection() -> duckdb.DuckDBPyConnection:
    # A connection is not shareable across threads, so each thread gets a cursor of its own, all on one
    # in-memory database: a database costs ~15 ms of CPU to open, a cursor next to nothing, and worker pools
    # (a backfill's, the benchmark's) are created afresh for every window.
    global _database
    connection = getattr(_local, "connection", None)
    if connection is None:
        with _database_lock:
            if _database is None:
                _database = duckdb_setup.connect()
                # The callers are already one thread per API answer; a pool per query would oversubscribe.
                _database.execute("set threads = 1")
            connection = _database.cursor()
        connection.execute("set timezone = 'UTC'")
        _local.connection = connection
    return connection


def _list_at(shape: Shape, body: bytes) -> bytes:
    """Rewrite a body whose row list is an object or null into the canonical list form."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody(f"{shape.method}: body is not JSON ({len(body)} bytes)") from None
    node: object = document
    for key in shape.path:
        node = node.get(key) if isinstance(node, dict) else None
    if node is None:
        rows: list = []
    elif isinstance(node, dict):
        rows = [node]
    elif isinstance(node, list) and all(isinstance(item, dict) for item in node):
        rows = node
    else:
        where = ".".join(shape.path)
        raise JimiResponseError(
            shape.method, None, f"`{where}` is a {type(node).__name__}, not a list of objects"
        )
    canonical: object = rows
    for key in reversed(shape.path):
        canonical = {key: canonical}
    return orjson.dumps(canonical)


def _list_opens_early(shape: Shape, body: bytes) -> bool:
    """True when the row list visibly opens near the top of the body (`"result":[` right after `code`),
    the common case; anything else takes the careful path through `_list_at`."""
    head = body[:256]
    if len(shape.path) == 1:
        return (
            re.search(
                rb'^\s*\{\s*"code"\s*:\s*"?0"?\s*,(\s*"message"\s*:\s*"[^"]*"\s*,)?\s*"'
                + re.escape(shape.path[0].encode())
                + rb'"\s*:\s*\[',
                head,
            )
            is not None
        )
    return False


def decode(shape: Shape, body: bytes, key: str | None = None) -> pa.Table:
    """The rows of one answer as a typed table; `key` is exposed to the SQL as `k` (e.g. the IMEI asked)."""
    early = _list_opens_early(shape, body)
    if not early:
        body = _list_at(shape, body)
    connection = _connection()
    sql = (
        f"with answer as (select ?::varchar as k, ?::varchar as body), "
        f"parsed as (select k, unnest(from_json(body, '{shape.structure()}'){shape.accessor()}) as r from answer) "
        f"select {shape.select} from parsed where {shape.where}"
    )
    try:
        # Bound as a parameter (not a registered Arrow table, whose scan would hold the GIL), so answers
        # decode in parallel on the workers' threads. `execute` rather than `sql(..., params=)`: the
        # relation form costs ~25% more CPU per answer (measured on track.list answers of 6.6k points).
        table = connection.execute(sql, [key, body.decode("utf-8", "replace")]).to_arrow_table()
    except duckdb.InvalidInputException:
        # Malformed JSON (a body truncated in transit): never loaded, the caller fetches it again.
        raise MalformedBody(f"{shape.method}: body is not JSON ({len(body)} bytes)") from None
    assert table is not None  # a select always has a result (duckdb types it optional for other statements)
    read, required = table.num_rows, [name for name in shape.keys if name != shape.key_column]
    table = _without_null_keys(table, required)
    if table.num_rows < read:
        log.warning(
            "%s: %d of %d rows dropped, missing a key (%s)",
            shape.method,
            read - table.num_rows,
            read,
            ", ".join(required),
        )
    if early and not table.num_rows:
        # The fast path trusted the list to hold objects, and items that are not read as empty rows: an
        # answer left with none is checked the careful way, which names a list of anything else.
        _list_at(shape, body)
    if shape.key_column:
        table = table.add_column(0, shape.key_column, _repeated(key, table.num_rows))
    schema = pa.schema(
        [
            field.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(field.type) else field
            for field in table.schema
        ]
    )
    schema = pa.schema([field.with_nullable(field.name not in shape.keys) for field in schema])
    return table.cast(schema)


def _without_null_keys(table: pa.Table, keys: list[str]) -> pa.Table:
    """The rows of `table` with every key column set (a copy only when some row misses one)."""
    if not any(table.column(name).null_count for name in keys):
        return table
    valid = pc.is_valid(table.column(keys[0]))
    for name in keys[1:]:
        valid = pc.and_(valid, pc.is_valid(table.column(name)))
    return table.filter(valid)


def _repeated(value: str | None, count: int) -> pa.Array:
    """`value` `count` times as a string array, built from buffers: `pa.array` on Python objects would
    import pandas (a second, once per process)."""
    if value is None:
        return pa.nulls(count, pa.string())
    data = value.encode("utf-8")
    offsets = np.arange(count + 1, dtype=np.int32) * np.int32(len(data))
    return pa.Array.from_buffers(
        pa.string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data * count)]
    )


def total_of(body: bytes, *path: str) -> int | None:
    """A count the envelope carries (`data.totalRecord`, `data.dataTotalRows`), numeric or string."""
    node: object = orjson.loads(body)
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    try:
        return int(float(node)) if isinstance(node, (str, int, float)) and node != "" else None
    except (TypeError, ValueError):
        return None


def decode_nested(
    method: str, body: bytes, path: tuple[str, ...], fields: dict, sql: str, keys: tuple[str, ...]
) -> pa.Table:
    """Rows of a list at `path` whose own lists are unnested by `sql` (which selects from `parsed(r)`): an
    alarm event's `fileList`, a fence's bound `imeis`. Key columns are declared non-null, times UTC."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody(f"{method}: body is not JSON ({len(body)} bytes)") from None
    node: object = document
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    rows = node if isinstance(node, list) else ([node] if isinstance(node, dict) else [])
    canonical: object = rows
    for key in reversed(path):
        canonical = {key: canonical}
    structure: object = [fields]
    for key in reversed(path):
        structure = {key: structure}
    accessor = "".join(f'."{key}"' for key in path)
    query = (
        f"with answer as (select ?::varchar as body), parsed as (select unnest(from_json(body, "
        f"'{orjson.dumps(structure).decode()}'){accessor}) as r from answer) {sql}"
    )
    table = _connection().sql(query, params=[orjson.dumps(canonical).decode()]).to_arrow_table()
    schema = pa.schema(
        [
            (
                field.with_type(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(field.type) else field
            ).with_nullable(field.name not in keys)
            for field in table.schema
        ]
    )
    return table.cast(schema)


def parse_json(method: str, body: bytes) -> object:
    """The body parsed, or `MalformedBody` (retried by the client) when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody(f"{method}: body is not JSON ({len(body)} bytes)") from None
