"""``finance-tui key add|list|remove``: SSH public keys for ``finance-tui serve ssh``.

Your own keys need only your session; ``--for USER`` (someone else's) needs an admin.
The permission checks live in the key service, so these commands only parse and print.
"""

from __future__ import annotations

import argparse
import sys

from finance_tui.commands.common import add_user_option, authenticate, open_db
from finance_tui.config import user_path
from finance_tui.domain.dto import SshKeyRow
from finance_tui.errors import FinanceError
from finance_tui.session import SessionController
from finance_tui.textsafety import printable

MAX_KEY_FILE = 64 * 1024  # a public key line is under 1 KiB (RSA 16384 is ~2.8 KiB)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "key",
        help="manage SSH public keys for 'finance-tui serve ssh'",
        description="Manage the SSH public keys a person may log in with over "
        "'finance-tui serve ssh'. Your own keys: any role; --for USER: admins only.",
    )
    actions = parser.add_subparsers(dest="key_command", metavar="ACTION", required=True)

    add = _action(actions, "add", "add a public key (a .pub file, or - for stdin)")
    add.add_argument(
        "file", metavar="FILE", help="public key file (e.g. ~/.ssh/id_ed25519.pub), or -"
    )
    add.set_defaults(handler=run_add)

    _action(actions, "list", "list SSH keys").set_defaults(handler=run_list)

    remove = _action(actions, "remove", "remove a key by its fingerprint")
    remove.add_argument("fingerprint", metavar="FINGERPRINT", help="SHA256:... as 'key list' shows")
    remove.set_defaults(handler=run_remove)


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    sub = actions.add_parser(
        name, help=help_text, description=help_text[:1].upper() + help_text[1:] + "."
    )
    sub.add_argument("--for", dest="for_user", metavar="USER", help="another user's keys (admins)")
    add_user_option(sub)
    return sub


def _session(args: argparse.Namespace) -> SessionController:
    open_db(args)
    return authenticate(args)


def read_key_text(name: str) -> str:
    """The key file's text (``-``: the rest of stdin); a clear error for a wrong path."""
    if name == "-":
        return sys.stdin.read(MAX_KEY_FILE + 1)[: MAX_KEY_FILE + 1]
    path = user_path(name)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise FinanceError(
            f"cannot read {name}: {exc.strerror or exc}; nothing was changed"
        ) from None
    if len(text) > MAX_KEY_FILE:
        raise FinanceError(f"{name} is too large to be a public key; nothing was changed")
    return text


def describe_key(row: SshKeyRow) -> str:
    comment = f" {printable(row.comment)}" if row.comment else ""
    return f"{row.fingerprint} {row.algorithm}{comment}"


def run_add(args: argparse.Namespace) -> int:
    session = _session(args)
    row = session.ssh_keys.add(read_key_text(args.file), args.for_user)
    print(f"Added for {printable(row.username)}: {describe_key(row)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    session = _session(args)
    rows = session.ssh_keys.list(args.for_user)
    if not rows:
        who = args.for_user or session.principal.username
        print(f"No SSH keys for {printable(who)}")
    for row in rows:
        print(f"{describe_key(row)}  (added {row.created_at:%Y-%m-%d %H:%M} UTC)")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    session = _session(args)
    row = session.ssh_keys.remove(args.fingerprint, args.for_user)
    print(f"Removed from {printable(row.username)}: {describe_key(row)}")
    return 0
