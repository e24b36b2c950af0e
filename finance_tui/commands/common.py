"""Helpers every subcommand shares: opening the database, reading secrets, authenticating.

Passwords never come from argv (it shows up in ``ps`` and shell history): they are read
from a terminal prompt, or one per line from standard input in scripts and tests.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import getpass
import hashlib
import os
import secrets
import shlex
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from finance_tui.config import state_dir
from finance_tui.db import AppDatabase, normalize_url, sqlite_path
from finance_tui.db import describe as describe_url
from finance_tui.errors import AuthError, FinanceError, SessionExpired
from finance_tui.startup import connect_checked

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


def open_db(args: argparse.Namespace, *, migrate: bool = True) -> AppDatabase:
    """Open (create and migrate) the database named by ``--db`` or the environment."""
    return connect_checked(db_url(args), migrate=migrate)


def add_user_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="authenticate as NAME (username or email); password read from stdin "
        "(or a prompt on a terminal). Default: the session stored by 'finance-tui login'",
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


class UnsafeTokenFile(AuthError):
    """The stored session file could be (or have been) read or replaced by someone else."""


def store_token(url: str, token: str) -> Path:
    """Write the token readable by its owner only (0600, in a 0700 directory).

    The file is created 0600 under a fresh name (never through a symlink, never an
    existing file) and renamed into place, so it is never readable by others, not even
    for a moment, and a reader never sees half a token. The first line names the
    database (without any password in its URL) for people reading the file; the file
    name is a hash of the full URL.
    """
    path = token_path(url)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as handle:
            handle.write(f"{describe(url)}\n{token}\n")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def foreign_token_file(path: Path, info: os.stat_result) -> str | None:
    """Why a session file is not the user's own regular file, or None."""
    quoted = shlex.quote(str(path))
    if not stat.S_ISREG(info.st_mode):
        return f"session file {path} is not a regular file; remove it (rm {quoted}) and log in"
    if info.st_uid != os.geteuid():
        return (
            f"session file {path} belongs to another user (uid {info.st_uid}); "
            f"remove it (rm {quoted}) and log in again"
        )
    return None


def token_mode_too_open(path: Path, info: os.stat_result) -> str | None:
    """Why the file's mode lets others use the session (as ssh refuses a key), or None."""
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return None
    return (
        f"permissions {mode:04o} for session file {path} are too open: other users "
        f"could use your session. Run chmod 600 {shlex.quote(str(path))} "
        "(or 'finance-tui login' to end that session and start a new one)"
    )


def _read_token_file(path: Path, *, loose_mode_ok: bool) -> str | None:
    """The file's text, opened without following a symlink; None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeTokenFile(
                f"session file {path} is a symbolic link; refusing to use it: remove it "
                f"(rm {shlex.quote(str(path))}) and run 'finance-tui login'"
            ) from None
        raise FinanceError(f"cannot read session file {path}: {exc.strerror or exc}") from exc
    with os.fdopen(fd, encoding="utf-8", errors="surrogatepass") as handle:
        info = os.fstat(handle.fileno())
        problem = foreign_token_file(path, info)
        if problem is None and not loose_mode_ok:
            problem = token_mode_too_open(path, info)
        if problem:
            raise UnsafeTokenFile(problem)
        return handle.read()


def load_token(url: str, *, loose_mode_ok: bool = False) -> str | None:
    """The stored token for ``url``, or None. Refuses a file others could read or swap.

    ``loose_mode_ok`` is for ending the session (login replacing it, logout): revoking
    a token that others may have read is exactly what should happen to it.
    """
    path = token_path(url)
    text = _read_token_file(path, loose_mode_ok=loose_mode_ok)
    if text is None:
        return None
    stored_url, _, token = text.partition("\n")
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
