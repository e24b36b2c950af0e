"""Helpers every subcommand shares: opening the database, reading secrets, authenticating.

Passwords never come from argv (it shows up in ``ps`` and shell history): they are read
from a terminal prompt, or one per line from standard input in scripts and tests.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import hashlib
import os
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from peewee import Database, DatabaseError

from finance_tui.config import state_dir
from finance_tui.db import connect, normalize_url, sqlite_path
from finance_tui.db import describe as describe_url
from finance_tui.errors import AuthError, FinanceError, SessionExpired

if TYPE_CHECKING:  # the session layer (JWT) loads when a command authenticates, not at
    from finance_tui.session import SessionController  # start-up (the TUI path uses open_db)

_ONE_SHOT: list[SessionController] = []  # --user sessions, revoked when the command ends


def db_url(args: argparse.Namespace) -> str:
    """The database URL this command works on (``--db``, environment, or default)."""
    return normalize_url(getattr(args, "db", None))


def sqlite_file(url: str) -> Path:
    """The file a sqlite URL names (``sqlite:////abs`` gives ``/abs``, not ``//abs``)."""
    return Path(sqlite_path(url))


def describe(url: str) -> str:
    """Where the data lives, for messages (no password; a plain path for SQLite)."""
    return str(sqlite_file(url)) if url.startswith("sqlite:") else describe_url(url)


def open_db(args: argparse.Namespace, *, migrate: bool = True) -> Database:
    """Open (create and migrate) the database named by ``--db`` or the environment."""
    url = db_url(args)
    try:
        return connect(url, migrate=migrate)
    except FinanceError:
        raise
    except OSError as exc:  # e.g. the directory of a SQLite path cannot be created
        raise FinanceError(f"Cannot open database {describe(url)}: {exc.strerror or exc}") from exc
    except DatabaseError as exc:  # e.g. the path is not a SQLite database
        raise FinanceError(f"Cannot open database {describe(url)}: {exc}") from exc


def add_user_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="authenticate as NAME (username or email); password read from stdin "
        "(or a prompt on a terminal). Default: the session stored by 'finance-tui login'",
    )


def printable(text: str) -> str:
    """Text as typed, with control and format characters escaped (``\\x1b``, ``\\u202e``).

    Names and emails are user input: printed raw, an escape sequence in one could
    rewrite the admin's terminal.
    """
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf")
        else ch
        for ch in text
    )


# ---- reading secrets ---------------------------------------------------------------
def interactive() -> bool:
    return sys.stdin.isatty()


def read_line(prompt: str, what: str) -> str:
    """Prompt on a terminal; otherwise read one line from stdin."""
    if interactive():
        return input(prompt)
    line = sys.stdin.readline()
    if not line:
        raise FinanceError(f"no {what} on standard input")
    return line.rstrip("\r\n")


def read_password(prompt: str = "Password: ", what: str = "password") -> str:
    """Prompt without echo on a terminal; otherwise read one line from stdin."""
    if interactive():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise AuthError(f"no {what} on standard input")
    return line.rstrip("\r\n")


def read_new_password(label: str = "New password") -> str:
    """A new password: asked twice on a terminal, one line from stdin otherwise."""
    password = read_password(f"{label}: ", label.lower())
    if interactive() and getpass.getpass(f"{label} (again): ") != password:
        raise FinanceError("the two passwords do not match; nothing was changed")
    return password


# ---- stored sessions ---------------------------------------------------------------
def token_dir() -> Path:
    return state_dir() / "sessions"


def token_path(url: str) -> Path:
    """One token file per database, so a login to one does not end another."""
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return token_dir() / f"{digest}.token"


def store_token(url: str, token: str) -> Path:
    """Write the token readable by its owner only (0600, in a 0700 directory).

    The first line names the database (without any password in its URL) for people
    reading the file; the file name is a hash of the full URL.
    """
    path = token_path(url)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(f"{describe(url)}\n{token}\n")
    os.replace(tmp, path)
    return path


def load_token(url: str) -> str | None:
    path = token_path(url)
    try:
        stored_url, _, token = path.read_text("utf-8", "surrogatepass").partition("\n")
    except FileNotFoundError:
        return None
    if stored_url.strip() != describe(url):
        return None
    return token.strip() or None


def delete_token(url: str) -> bool:
    try:
        token_path(url).unlink()
    except FileNotFoundError:
        return False
    return True


# ---- authentication ----------------------------------------------------------------
def login_one_shot(identifier: str, password: str) -> SessionController:
    """Log in for this command only; :func:`end_one_shot_sessions` revokes it."""
    from finance_tui.session import SessionController

    session = SessionController.login(identifier, password)
    _ONE_SHOT.append(session)
    return session


def authenticate(args: argparse.Namespace) -> SessionController:
    """Session for a command: ``--user`` + password, or the token stored by ``login``."""
    url = db_url(args)
    if getattr(args, "user", None):
        return login_one_shot(args.user, read_password(f"Password for {args.user}: "))
    token = load_token(url)
    if token is None:
        raise AuthError(
            f"not logged in to {describe(url)}: run 'finance-tui login' or pass --user NAME"
        )
    from finance_tui.session import SessionController

    try:
        return SessionController.resume(token)
    except SessionExpired as exc:
        delete_token(url)
        raise AuthError(f"{exc} (run 'finance-tui login')") from None


def end_one_shot_sessions() -> None:
    """Revoke the sessions ``--user`` opened, so they do not outlive the command."""
    while _ONE_SHOT:
        session = _ONE_SHOT.pop()
        with contextlib.suppress(Exception):  # best effort: the command already finished
            session.logout()
