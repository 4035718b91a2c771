"""How every DuckDB connection of the project is opened: extensions come only from the project's folder.

DuckDB extensions are never downloaded (no network for them here, nor in many corporate networks). The
extension packages pinned in pyproject.toml (`duckdb-extension-*`, built for this exact DuckDB version, their
binaries signed) are installed by `make install` (`python -m sources.duckdb_setup`) into a folder inside the
virtual environment, next to the DuckDB they were built for: it is rebuilt with the venv and can never hold
files for another version. Every connection names that folder and has automatic installs off, so an
extension that is not there fails at once instead of reaching for the network; unsigned and community
extensions are refused.

This module sits at the bottom of the import layers because the sources themselves open DuckDB.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import duckdb

# The packaged extensions, by package suffix (`duckdb_extension_<name>`), and the name each one installs as:
# the postgres file's entry point is `postgres_scanner`, the name DuckDB loads it by.
PACKAGED = {"ducklake": "ducklake", "postgres": "postgres_scanner", "httpfs": "httpfs", "spatial": "spatial"}
ENV_VAR = "JIMI_DUCKDB_EXTENSIONS"  # how dbt's profile (a separate process) learns the folder


def extension_directory() -> Path:
    return Path(sys.prefix) / "duckdb-extensions"


def _missing() -> list[str]:
    folder = extension_directory() / f"v{duckdb.__version__}"
    return [name for name in PACKAGED.values() if not any(folder.glob(f"*/{name}.duckdb_extension"))]


def connection_config() -> dict[str, Any]:
    """The settings every DuckDB connection needs, for `duckdb.connect(config=...)` or `SET GLOBAL`.

    Fails, naming the folder, when the packaged extensions were not installed into it.
    """
    missing = _missing()
    if missing:
        raise RuntimeError(
            f"DuckDB extensions {', '.join(missing)} are not installed in {extension_directory()} "
            f"for DuckDB {duckdb.__version__}: run `make install` (or `python -m sources.duckdb_setup`)"
        )
    return {
        "extension_directory": str(extension_directory()),
        "autoinstall_known_extensions": False,
        # Loading is local (ATTACH 'ducklake:...' loads ducklake, postgres and httpfs by itself).
        "autoload_known_extensions": True,
        "allow_unsigned_extensions": False,
        "allow_community_extensions": False,
    }


def connect(database: str | Path = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(database), read_only=read_only, config=connection_config())


def dlt_credentials(database: str | Path | duckdb.DuckDBPyConnection) -> Any:
    """Credentials for dlt's duckdb destination (a file path or an open connection) with the same settings."""
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    target = database if isinstance(database, duckdb.DuckDBPyConnection) else str(database)
    return DuckDbCredentials(target, global_config=connection_config())


def dbt_env() -> dict[str, str]:
    """Environment for a dbt process: its profile passes the folder in `config_options`."""
    connection_config()
    return {ENV_VAR: str(extension_directory())}


def install_extensions() -> list[str]:
    """`FORCE INSTALL` each packaged extension file into the folder (DuckDB lays it out and names it)."""
    connection = duckdb.connect(
        config={"extension_directory": str(extension_directory()), "autoinstall_known_extensions": False}
    )
    installed = []
    try:
        for package in PACKAGED:
            module = importlib.import_module(f"duckdb_extension_{package}")
            files = sorted(
                Path(module.__path__[0]).glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension")
            )
            if len(files) != 1:
                raise RuntimeError(
                    f"duckdb-extension-{package} has no single file for DuckDB "
                    f"{duckdb.__version__}: {[str(f) for f in files]}"
                )
            connection.execute(f"force install '{files[0]}'")
            installed.append(package)
    finally:
        connection.close()
    return installed


if __name__ == "__main__":
    names = install_extensions()
    connection_config()  # the check every connection makes
    print(f"DuckDB {duckdb.__version__} extensions {', '.join(names)} installed in {extension_directory()}")
