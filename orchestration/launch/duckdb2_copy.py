"""Run by DuckDB 2.0's own interpreter (see upgrade.py): copy a 2.0 database into a file DuckDB 1.5 reads.

Imports nothing but duckdb, so it runs in a throwaway environment that has only duckdb 2.0:

    python duckdb2_copy.py SOURCE TARGET ALIAS

`ATTACH ... (STORAGE_VERSION 'v1.5.0')` makes 2.0 write the older format and `COPY FROM DATABASE` carries every
schema, table (with its rows), view, sequence and macro. The source is attached as ALIAS (the name the file
has when the project opens it: dbt's views name their tables `"warehouse"."jimi_raw"....`), so those views
bind while they are copied. Prints one JSON line: rows per table and the views, for the caller to check.
"""

import json
import sys

import duckdb


def main(source: str, target: str, alias: str) -> None:
    connection = duckdb.connect()
    connection.execute(f"attach '{source}' as \"{alias}\" (read_only)")
    connection.execute(f"attach '{target}' as upgraded (storage_version 'v1.5.0')")
    connection.execute(f'copy from database "{alias}" to upgraded')
    tables = connection.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? order by 1, 2", [alias]
    ).fetchall()
    rows = {}
    for schema, table in tables:
        name = f'"{schema}"."{table}"'
        before = _count(connection, f'select count(*) from "{alias}".{name}')
        after = _count(connection, f"select count(*) from upgraded.{name}")
        if before != after:
            raise SystemExit(f"{schema}.{table}: {before} rows in the source, {after} after the copy")
        rows[f"{schema}.{table}"] = before
    views = connection.execute(
        "select schema_name || '.' || view_name from duckdb_views() where database_name = ? and not internal "
        "order by 1",
        [alias],
    ).fetchall()
    connection.execute("detach upgraded")
    print(json.dumps({"duckdb": duckdb.__version__, "rows": rows, "views": [v for (v,) in views]}))


def _count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    (count,) = connection.execute(sql).fetchall()[0]
    return count


if __name__ == "__main__":
    main(*sys.argv[1:4])
