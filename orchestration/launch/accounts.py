"""`make accounts`, `make account-add`, `make account-reset`: which Jimi accounts this warehouse holds.

A polling run refuses an account the warehouse was not loaded from (engine/accounts.py says why). These
commands show the recorded accounts, record the configured one on purpose, or start the warehouse over:

    make accounts            # the accounts recorded in the warehouse, and the configured one
    make account-add         # record the configured account: both fleets load into this warehouse
    make account-reset       # drop every account's polled data and what dbt built from it (asks first)
"""

from __future__ import annotations

import argparse
import sys

from sources.jimi import AccountNotConfigured, load_credentials

from ..engine.accounts import add_account, recorded_accounts, reset_warehouse
from ..settings import current


def show() -> int:
    print(f"warehouse: {current().warehouse_path}")
    accounts = recorded_accounts()
    for account in accounts:
        print(
            f"  {account.account_id}  (pipelines {account.pipeline_prefix}_*, {account.added_how} {account.added_at:%Y-%m-%d %H:%M} UTC)"
        )
    if not accounts:
        print("  no account recorded yet: the first polling run records its account")
    try:
        configured = load_credentials().account_id
    except AccountNotConfigured as exc:
        print(f"configured: none ({exc})")
        return 0
    status = "recorded" if any(account.account_id == configured for account in accounts) else "NOT recorded"
    print(f"configured: {configured} ({status})")
    return 0


def add() -> int:
    account = add_account(load_credentials())
    print(f"recorded {account.account_id}: its runs use the pipelines {account.pipeline_prefix}_<resource>")
    return 0


def reset(confirmed: bool) -> int:
    where = current().warehouse_path
    if not confirmed:
        answer = input(
            f"Drop every account's polled data in {where} and everything dbt built from it? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 1
    dropped = reset_warehouse()
    print(f"dropped {', '.join(dropped) or 'nothing'} in {where}; the next polling run records its account")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["show", "add", "reset"])
    parser.add_argument("--yes", action="store_true", help="reset without asking")
    args = parser.parse_args()
    try:
        if args.command == "show":
            sys.exit(show())
        if args.command == "add":
            sys.exit(add())
        sys.exit(reset(args.yes))
    except AccountNotConfigured as exc:
        print(f"accounts: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
