"""``login``, ``logout`` and ``passwd``: your own session and password from the shell.

``login`` stores the session token (file mode 0600, one per database, in the user's
state directory) so later commands need no password until it expires or ``logout``
revokes it.
"""

from __future__ import annotations

import argparse
import contextlib

from finance_tui.commands.common import (
    add_user_option,
    authenticate,
    db_url,
    delete_token,
    describe,
    interactive,
    load_token,
    login_one_shot,
    open_db,
    read_line,
    read_new_password,
    read_password,
    store_token,
)
from finance_tui.errors import FinanceError, SessionExpired
from finance_tui.models import Session
from finance_tui.session import SessionController
from finance_tui.textsafety import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    login = subparsers.add_parser(
        "login",
        help="log in and keep the session for later commands",
        description="Log in (password from a prompt, or stdin) and store the session token "
        "readable only by you, so later commands need no password.",
    )
    login.add_argument("--user", metavar="NAME", help="username or email (asked if omitted)")
    login.set_defaults(handler=run_login)

    logout = subparsers.add_parser(
        "logout",
        help="end the stored session",
        description="Revoke the session stored by 'finance-tui login' and delete it.",
    )
    logout.set_defaults(handler=run_logout)

    passwd = subparsers.add_parser(
        "passwd",
        help="change your own password",
        description="Change your password. Asks for the current one, then the new one "
        "(twice on a terminal; one line each on stdin). With --user, the login password "
        "is the current one. Your other sessions end.",
    )
    add_user_option(passwd)
    passwd.set_defaults(handler=run_passwd)


def run_login(args: argparse.Namespace) -> int:
    open_db(args)
    url = db_url(args)
    identifier = args.user
    if not identifier:
        if not interactive():
            raise FinanceError("pass --user NAME (the password is read from standard input)")
        identifier = read_line("Username or email: ", "username")
    session = SessionController.login(identifier, read_password())
    _revoke_stored(url)  # a second login replaces the first session instead of leaking it
    path = store_token(url, session.token)
    principal = session.principal
    expires = Session.get(Session.jti == principal.session_jti).expires_at
    print(
        f"Logged in to {describe(url)} as {printable(principal.username)} ({principal.role}) "
        f"until {expires:%Y-%m-%d %H:%M} UTC; session saved in {path}"
    )
    return 0


def _revoke_stored(url: str) -> None:
    """End the stored session, even from a file others could read (that is the fix).

    A file that is not the user's own (a symlink, another owner) is not read at all;
    the new token replaces it.
    """
    try:
        token = load_token(url, loose_mode_ok=True)
    except FinanceError:
        return
    if token:
        with contextlib.suppress(SessionExpired):
            SessionController(token).logout()


def run_logout(args: argparse.Namespace) -> int:
    open_db(args)
    url = db_url(args)
    token = load_token(url, loose_mode_ok=True)
    if token is None:
        print(f"Not logged in to {describe(url)}")
        return 0
    session = SessionController(token)
    with contextlib.suppress(SessionExpired):
        session.verify()  # so the logout is audited under the user's name
    session.logout()
    delete_token(url)
    print(f"Logged out of {describe(url)}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    open_db(args)
    if args.user:
        current = read_password(f"Password for {args.user}: ")
        session = login_one_shot(args.user, current)
    else:
        session = authenticate(args)
        current = read_password("Current password: ", "current password")
    session.users.change_own_password(current, read_new_password())
    print(
        f"Password changed for {printable(session.principal.username)}; your other sessions have ended"
    )
    return 0
