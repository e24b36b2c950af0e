"""``finance-tui user ...``: account management for admins, through ``session.users``.

The acting admin authenticates like every data-changing command (stored session or
``--user`` with the password on stdin). New passwords are read from a prompt or stdin,
never argv; with ``--user`` on stdin the admin's password comes first, then the new one.
"""

from __future__ import annotations

import argparse

from finance_tui.commands.common import (
    add_user_option,
    authenticate,
    open_db,
    read_new_password,
)
from finance_tui.domain.dto import UserRow
from finance_tui.errors import NotFound
from finance_tui.models import utcnow
from finance_tui.permissions import Permission, Role
from finance_tui.session import SessionController
from finance_tui.textsafety import printable

ROLES = ", ".join(r.value for r in Role)
STDIN_ORDER_NOTE = {
    name: "On standard input: with --user, your password on the first line, then the "
    "new password; with a stored session, just the new password."
    for name in ("add", "reset-password")
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "user",
        help="manage user accounts (admins)",
        description="Manage user accounts. Requires an admin: the session stored by "
        "'finance-tui login', or --user NAME with the password on standard input.",
    )
    actions = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    add = _action(actions, "add", "create a user (password from a prompt or stdin)")
    add.add_argument("username")
    add.add_argument("email")
    add.add_argument("--role", default=Role.VIEWER.value, help=f"{ROLES} (default: viewer)")
    add.set_defaults(handler=run_add)

    _action(actions, "list", "list all users").set_defaults(handler=run_list)

    set_role = _action(actions, "set-role", "change a user's role")
    set_role.add_argument("who", metavar="USER", help="username, email or id")
    set_role.add_argument("role", metavar="ROLE", help=ROLES)
    set_role.set_defaults(handler=run_set_role)

    for name, active in (("activate", True), ("deactivate", False)):
        verb = "allow a user to log in again" if active else "stop a user logging in"
        sub = _action(actions, name, verb + (" (ends their sessions)" if not active else ""))
        sub.add_argument("who", metavar="USER", help="username, email or id")
        sub.set_defaults(handler=run_set_active, active=active)

    unlock = _action(actions, "unlock", "lift a user's login lock after failed attempts")
    unlock.add_argument("who", metavar="USER", help="username, email or id")
    unlock.set_defaults(handler=run_unlock)

    reset = _action(actions, "reset-password", "set a new password for a user")
    reset.add_argument("who", metavar="USER", help="username, email or id")
    reset.set_defaults(handler=run_reset_password)


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    description = help_text[:1].upper() + help_text[1:] + "."
    if name in STDIN_ORDER_NOTE:
        description += " " + STDIN_ORDER_NOTE[name]
    sub = actions.add_parser(name, help=help_text, description=description)
    add_user_option(sub)
    return sub


def _admin_session(args: argparse.Namespace) -> SessionController:
    """Authenticated session, refused before any prompt if it may not manage users."""
    open_db(args)
    session = authenticate(args)
    session.require(Permission.MANAGE_USERS)
    return session


def resolve(session: SessionController, who: str) -> UserRow:
    """Find a user by username, email or id (case-insensitive)."""
    key = who.strip().lower()
    for row in session.users.list():
        if key in (row.username.lower(), row.email.lower(), str(row.id)):
            return row
    raise NotFound(f"no user {who!r}")


def is_locked(row: UserRow) -> bool:
    return row.locked_until is not None and row.locked_until > utcnow()


def status(row: UserRow) -> str:
    if not row.is_active:
        return "inactive"
    if is_locked(row):
        return f"locked until {row.locked_until:%Y-%m-%d %H:%M} UTC"
    return "active"


def describe_user(row: UserRow) -> str:
    return f"{printable(row.username)} <{printable(row.email)}> ({row.role}, {status(row)})"


def run_add(args: argparse.Namespace) -> int:
    session = _admin_session(args)
    password = read_new_password(f"Password for {args.username}")
    row = session.users.create(args.username, args.email, password, args.role.strip().lower())
    print(f"Created {describe_user(row)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    rows = _admin_session(args).users.list()
    table = [("USERNAME", "EMAIL", "ROLE", "STATUS", "LAST LOGIN (UTC)")]
    for row in rows:
        last = f"{row.last_login_at:%Y-%m-%d %H:%M}" if row.last_login_at else "never"
        table.append((printable(row.username), printable(row.email), row.role, status(row), last))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0


def run_set_role(args: argparse.Namespace) -> int:
    session = _admin_session(args)
    target = resolve(session, args.who)
    row = session.users.set_role(target.id, args.role.strip().lower())
    print(f"{printable(row.username)} is now {row.role} (was {target.role})")
    return 0


def run_set_active(args: argparse.Namespace) -> int:
    session = _admin_session(args)
    row = session.users.set_active(resolve(session, args.who).id, args.active)
    if row.is_active:
        print(f"Activated {describe_user(row)}")
    else:
        print(f"Deactivated {describe_user(row)}; their sessions have ended")
    return 0


def run_reset_password(args: argparse.Namespace) -> int:
    session = _admin_session(args)
    target = resolve(session, args.who)
    row = session.users.reset_password(
        target.id, read_new_password(f"New password for {printable(target.username)}")
    )
    print(
        f"Password reset for {printable(row.username)}; their sessions have ended and any lock is lifted"
    )
    return 0


def run_unlock(args: argparse.Namespace) -> int:
    session = _admin_session(args)
    target = resolve(session, args.who)
    row = session.users.unlock(target.id)
    if is_locked(target):
        print(f"Lifted the lock on {printable(row.username)}; they can log in now")
    else:
        print(f"{printable(row.username)} was not locked; their failed attempts are forgotten")
    return 0
