"""``finance-tui init``: create or migrate the database; on an empty one, add the first admin."""

from __future__ import annotations

import argparse

from finance_tui.commands.common import (
    describe,
    interactive,
    open_db,
    read_line,
    read_new_password,
)
from finance_tui.domain.dto import UserRow
from finance_tui.errors import FinanceError, ValidationError
from finance_tui.migrations import schema_version
from finance_tui.models import User
from finance_tui.services.users import bootstrap_admin
from finance_tui.textsafety import printable

INTERACTIVE_ATTEMPTS = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init",
        help="create or migrate the database; on an empty one, create the first admin",
        description="Create the database (or bring its schema up to date). If it has no "
        "users yet, create the first admin: asked interactively on a terminal, or given "
        "with --admin-user/--admin-email and the password on standard input.",
    )
    parser.add_argument("--admin-user", metavar="NAME", help="username of the first admin")
    parser.add_argument("--admin-email", metavar="EMAIL", help="email of the first admin")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.admin_user) != bool(args.admin_email):
        raise FinanceError("--admin-user and --admin-email go together")
    db = open_db(args)
    where = describe(db.finance_url)
    print(f"Database ready: {where} (schema version {schema_version(db)})")
    if User.select().exists():
        if args.admin_user:
            raise FinanceError(
                "this database already has users; an admin adds more with 'finance-tui user add'"
            )
        return 0
    if args.admin_user:
        row = bootstrap_admin(args.admin_user, args.admin_email, read_new_password("Password"))
    elif interactive():
        row = _ask_for_admin()
    else:
        raise FinanceError(
            "the database has no users yet: run 'finance-tui init' on a terminal, or pass "
            "--admin-user NAME --admin-email EMAIL with the password on standard input"
        )
    print(
        f"Created admin {printable(row.username)} <{printable(row.email)}>. Log in with 'finance-tui login'."
    )
    return 0


def _ask_for_admin() -> UserRow:
    """Prompt until the details are valid (a few tries), showing each field's problem."""
    print("No users yet: create the first admin.")
    attempt = 0
    while True:
        attempt += 1
        username = read_line("Username: ", "username").strip()
        email = read_line("Email: ", "email").strip()
        password = read_new_password("Password")
        try:
            return bootstrap_admin(username, email, password)
        except ValidationError as exc:
            if attempt >= INTERACTIVE_ATTEMPTS:
                raise
            for field, message in exc.fields.items():
                print(f"  {field}: {message}")
