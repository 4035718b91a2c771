"""No DuckDB connection of the project can download an extension: they come from the project's folder.

The network test runs in a fresh network namespace (`unshare -n`: no interface but a loopback that is down),
so anything that reached for the network would fail there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dlt
import pytest

from orchestration.defs.dbt import DBT_EXECUTABLE, TRANSFORM_DIR
from orchestration.settings import PROJECT_DIR, current
from sources import duckdb_setup

EXPECTED = {
    "extension_directory": str(Path(sys.prefix) / "duckdb-extensions"),
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "true",
    "allow_unsigned_extensions": "false",
    "allow_community_extensions": "false",
}
SETTINGS_SQL = (
    "select name, value from duckdb_settings() where name in "
    "('extension_directory', 'autoinstall_known_extensions', 'autoload_known_extensions', "
    "'allow_unsigned_extensions', 'allow_community_extensions')"
)

OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys
    import duckdb
    from sources import duckdb_setup

    out = {}
    try:
        socket.create_connection(("pypi.org", 443), timeout=5)
        out["network"] = "reachable"
    except OSError as error:
        out["network"] = type(error).__name__
    try:
        duckdb.connect().execute("install excel")
        out["plain_install"] = "installed"
    except duckdb.Error as error:
        out["plain_install"] = str(error).splitlines()[0]

    folder = sys.argv[1]
    connection = duckdb_setup.connect()
    for name in ("ducklake", "postgres", "httpfs", "spatial"):
        connection.execute(f"load {name}")
    out["point"] = connection.execute("select st_astext(st_point(36.8, -1.3))").fetchone()[0]
    connection.execute(f"attach 'ducklake:{folder}/catalog.ducklake' as lake (data_path '{folder}/files/')")
    connection.execute("create table lake.main.fixes as select * from range(3) t(n)")
    out["lake_rows"] = connection.execute("select sum(n) from lake.main.fixes").fetchone()[0]
    try:
        connection.execute("load excel")
        out["excel"] = "loaded"
    except duckdb.Error as error:
        out["excel"] = str(error).splitlines()[0]
    out["loaded"] = sorted(row[0] for row in connection.execute(
        "select extension_name from duckdb_extensions() where loaded and install_mode <> 'STATICALLY_LINKED'"
    ).fetchall())
    print(json.dumps(out))
    """
)


def test_a_connection_made_the_projects_way_never_installs_and_refuses_unsigned_extensions():
    connection = duckdb_setup.connect()
    try:
        assert dict(connection.execute(SETTINGS_SQL).fetchall()) == EXPECTED
    finally:
        connection.close()


def test_without_the_network_the_packaged_extensions_load_and_a_ducklake_attaches(tmp_path):
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", OFFLINE_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    # The namespace really is offline: a plain connection's install fails to download.
    assert out["network"] in {"gaierror", "OSError"}
    assert out["plain_install"].startswith('IO Error: Failed to download extension "excel"')
    assert out["point"] == "POINT (36.8 -1.3)"
    assert out["lake_rows"] == 3
    assert out["loaded"] == ["ducklake", "httpfs", "postgres_scanner", "spatial"]
    # An extension the project does not ship fails at once, without a download attempt.
    assert (
        out["excel"]
        == f'IO Error: Extension "{EXPECTED["extension_directory"]}/v1.5.5/linux_amd64/excel.duckdb_extension" not found.'
    )


def test_dlt_connections_carry_the_same_settings(tmp_path):
    pipeline = dlt.pipeline(
        pipeline_name="offline_settings",
        pipelines_dir=str(tmp_path / "dlt"),
        dataset_name="probe",
        destination=dlt.destinations.duckdb(credentials=duckdb_setup.dlt_credentials(tmp_path / "w.duckdb")),
    )
    with pipeline.sql_client() as client:
        assert dict(client.execute_sql(SETTINGS_SQL)) == EXPECTED


def test_dbt_connections_carry_the_same_settings(tmp_path):
    sql = SETTINGS_SQL.replace(
        "select name, value", "select string_agg(name || '=' || value, ',' order by name) as s"
    )
    result = subprocess.run(
        [
            str(DBT_EXECUTABLE),
            "show",
            "--inline",
            sql,
            "--output",
            "json",
            "--log-format",
            "json",
            "--profiles-dir",
            str(TRANSFORM_DIR),
            "--project-dir",
            str(TRANSFORM_DIR),
            "--target-path",
            str(tmp_path / "target"),
        ],
        capture_output=True,
        text=True,
        cwd=TRANSFORM_DIR,
        check=False,
        env={**os.environ, **current().dbt_env(), "JIMI_WAREHOUSE_PATH": str(tmp_path / "w.duckdb")},
    )
    assert result.returncode == 0, result.stdout[-2000:]
    shown = [json.loads(line) for line in result.stdout.splitlines() if '"preview"' in line]
    preview = json.loads(shown[-1]["data"]["preview"])
    assert dict(pair.split("=", 1) for pair in preview[0]["s"].split(",")) == EXPECTED


def test_a_missing_extension_folder_fails_at_once_naming_it(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    with pytest.raises(
        RuntimeError,
        match=rf"ducklake, postgres_scanner, httpfs, spatial are not installed in "
        rf"{tmp_path}/duckdb-extensions for DuckDB 1.5.5: run `make install`",
    ):
        duckdb_setup.connect()
