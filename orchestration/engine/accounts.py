"""Which Jimi accounts a warehouse was loaded from, so two fleets never mix in it by accident.

Cursors live in dlt's pipeline state and know nothing of accounts: pointed at another account, a warehouse
would continue the new fleet from the old fleet's cursors and mix both in the marts. So the warehouse records
the accounts it loads (`jimi_raw.jimi_accounts`: base URL, user and target, never a secret), and a polling run
whose configured account is not among them refuses to start, naming both.

- The first polling run of a warehouse records its account.
- `add` records another account on purpose: its runs use pipelines of their own (`jimi_<resource>_<id>`), so
  its cursors start fresh, and `dim_devices.source_account` tells the fleets apart.
- `reset` starts the warehouse over: the polled raw data, everything dbt built from it, the polling pipelines'
  state and the account record go (push data and the ingestion-health record stay).
`make accounts`, `make account-add` and `make account-reset` run these (`orchestration/launch/accounts.py`).

Reading the record needs the warehouse, which a long dbt build may hold for minutes, and a poll must not wait
for it before reading the API. So each machine remembers which accounts it has seen in which warehouse
(`$JIMI_DATA_DIR/accounts.json`): a run of a remembered account starts at once, and only a new account (the
one case that may be refused) waits for the warehouse to check it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sources import duckdb_setup
from sources.jimi import JimiCredentials

from .. import settings as project
from .warehouse import writer_lock

TABLE = f"{project.RAW_DATASET}.jimi_accounts"
# Schemas a reset drops: the polled raw data and what dbt builds (dbt builds them again from the raw data).
RESET_SCHEMAS = (
    project.RAW_DATASET,
    "staging",
    "intermediate",
    project.MART_SCHEMA,
    project.HEALTH_SCHEMA,
    "snapshots",
    "seeds",
)
_CREATE = f"""
create schema if not exists {project.RAW_DATASET};
create table if not exists {TABLE} (
    account_id varchar primary key,
    base_url varchar not null,
    user_id varchar not null,
    target varchar,
    pipeline_prefix varchar not null,
    added_at timestamptz not null,
    added_how varchar not null
)
"""


class AccountMismatch(RuntimeError):
    """The configured account is not one this warehouse was loaded from."""


@dataclass(frozen=True)
class Account:
    account_id: str
    pipeline_prefix: str
    added_at: datetime
    added_how: str


def pipeline_name(account: Account, resource: str) -> str:
    """The dlt pipeline that holds `resource`'s cursors for `account`."""
    return f"{account.pipeline_prefix}_{resource}"


def recorded_accounts() -> list[Account]:
    with writer_lock(), _warehouse() as connection:
        return _accounts(connection)


def ensure_account(credentials: JimiCredentials) -> Account:
    """The recorded account the credentials belong to; the first account of a warehouse is recorded here,
    any other refused with `AccountMismatch`."""
    known = _remembered().get(credentials.account_id)
    if known is not None:
        return known
    with writer_lock(), _warehouse() as connection:
        accounts = _accounts(connection)
        for account in accounts:
            if account.account_id == credentials.account_id:
                return _remember(account)
        if not accounts:
            return _remember(_insert(connection, credentials, "jimi", "first polling run"))
    ids = ", ".join(account.account_id for account in accounts)
    raise AccountMismatch(
        f"this warehouse ({project.current().warehouse_path}) was loaded from the Jimi account {ids}, and the "
        f"configured account is {credentials.account_id}: polling refuses to mix two fleets. To load both into "
        "this warehouse run `make account-add`; to start this warehouse over for the new account, `make "
        "account-reset`; or point JIMI_DATA_DIR / JIMI_WAREHOUSE_PATH at another warehouse."
    )


def add_account(credentials: JimiCredentials) -> Account:
    """Record the credentials' account in this warehouse (its cursors start fresh); idempotent."""
    with writer_lock(), _warehouse() as connection:
        for account in _accounts(connection):
            if account.account_id == credentials.account_id:
                return account
        digest = hashlib.sha256(credentials.account_id.encode()).hexdigest()[:8]
        prefix = "jimi" if not _accounts(connection) else f"jimi_{digest}"
        return _remember(_insert(connection, credentials, prefix, "added"))


def reset_warehouse() -> list[str]:
    """Drop every account's polled data, what dbt built from it and the polling pipelines' state; returns
    the schemas dropped. The caller has asked the user to confirm."""
    current = project.current()
    with writer_lock(), _warehouse() as connection:
        existing = {
            name
            for (name,) in connection.execute(
                "select schema_name from information_schema.schemata"
            ).fetchall()
        }
        dropped = [schema for schema in RESET_SCHEMAS if schema in existing]
        for schema in dropped:
            connection.execute(f'drop schema "{schema}" cascade')
        for folder in current.pipelines_dir.glob("jimi_*") if current.pipelines_dir.is_dir() else []:
            if not folder.name.startswith(("jimi_push", "jimi_ingest")):
                shutil.rmtree(folder, ignore_errors=True)
        _forget()
    return dropped


def _memory_path() -> Path:
    return project.current().data_dir / "accounts.json"


def _remembered() -> dict[str, Account]:
    """The accounts this machine has seen recorded in the configured warehouse."""
    try:
        memory = json.loads(_memory_path().read_text())
    except (OSError, ValueError):
        return {}
    rows = memory.get(str(project.current().warehouse_path), [])
    return {
        row["account_id"]: Account(
            row["account_id"],
            row["pipeline_prefix"],
            datetime.fromisoformat(row["added_at"]),
            row["added_how"],
        )
        for row in rows
    }


def _remember(account: Account) -> Account:
    path = _memory_path()
    try:
        memory = json.loads(path.read_text())
    except (OSError, ValueError):
        memory = {}
    rows = [
        row
        for row in memory.get(str(project.current().warehouse_path), [])
        if row["account_id"] != account.account_id
    ]
    rows.append(
        {
            "account_id": account.account_id,
            "pipeline_prefix": account.pipeline_prefix,
            "added_at": account.added_at.isoformat(),
            "added_how": account.added_how,
        }
    )
    memory[str(project.current().warehouse_path)] = rows
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(memory, indent=1))
    os.replace(temporary, path)
    return account


def _forget() -> None:
    path = _memory_path()
    try:
        memory = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    memory.pop(str(project.current().warehouse_path), None)
    path.write_text(json.dumps(memory, indent=1))


@contextmanager
def _warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse file with the accounts table in place (under the caller's writer lock)."""
    path = project.current().warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb_setup.connect(str(path))
    try:
        connection.execute(_CREATE)
        yield connection
    finally:
        connection.close()


def _accounts(connection: duckdb.DuckDBPyConnection) -> list[Account]:
    rows = connection.execute(
        f"select account_id, pipeline_prefix, added_at, added_how from {TABLE} order by added_at"
    ).fetchall()
    return [Account(account_id, prefix, added_at, how) for account_id, prefix, added_at, how in rows]


def _insert(
    connection: duckdb.DuckDBPyConnection, credentials: JimiCredentials, prefix: str, how: str
) -> Account:
    added_at = datetime.now(UTC)
    connection.execute(
        f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?)",
        [
            credentials.account_id,
            credentials.base_url,
            credentials.user_id,
            credentials.target,
            prefix,
            added_at,
            how,
        ],
    )
    return Account(credentials.account_id, prefix, added_at, how)
