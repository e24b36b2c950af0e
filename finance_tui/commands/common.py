"""Helpers every subcommand shares: opening the database and authenticating."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from finance_tui.config import state_dir
from finance_tui.db import connect, normalize_url
from finance_tui.errors import AuthError, SessionExpired
from finance_tui.session import SessionController


def open_db(args: argparse.Namespace):
    """Open (create and migrate) the database named by ``--db`` or the environment."""
    return connect(getattr(args, "db", None))


def add_user_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="authenticate as NAME (username or email); password read from stdin "
        "(or a prompt on a terminal). Default: the session stored by 'finance-tui login'",
    )


def token_path() -> Path:
    return state_dir() / "session.token"


def read_password(prompt: str = "Password: ") -> str:
    """Prompt on a terminal; otherwise read one line from stdin (scripts, tests)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise AuthError("no password on standard input")
    return line.rstrip("\r\n")


def store_token(url: str, token: str) -> Path:
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{url}\n{token}\n")
    os.chmod(path, 0o600)
    return path


def load_token(url: str) -> str | None:
    path = token_path()
    if not path.exists():
        return None
    stored_url, _, token = path.read_text().partition("\n")
    return token.strip() if stored_url.strip() == url else None


def authenticate(args: argparse.Namespace) -> SessionController:
    """Session for a data-changing command: ``--user`` + password, or the stored token."""
    url = normalize_url(getattr(args, "db", None))
    if getattr(args, "user", None):
        return SessionController.login(args.user, read_password())
    token = load_token(url)
    if token is None:
        raise AuthError("not logged in: run 'finance-tui login' or pass --user NAME")
    try:
        return SessionController.resume(token)
    except SessionExpired as exc:
        raise AuthError(f"{exc} (run 'finance-tui login')") from None
