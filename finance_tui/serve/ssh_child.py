"""The app process of one SSH connection (started by :mod:`finance_tui.serve.ssh`).

It runs on the pseudo-terminal the server made for the connection, already logged in:
the session token arrives on an inherited pipe (``--token-fd``), never in argv (which
every local user can read with ``ps``) nor in the environment. The database URL comes in
the environment the server set for this process only (readable by the server's own
account alone). When the session ends for any reason (logout, expiry, revocation) the
process exits with the reason instead of showing a login screen: the SSH connection was
the login.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import sys
import termios
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from finance_tui.app import FinanceApp
    from finance_tui.session import SessionController

URL_VARIABLE = "FINANCE_TUI_DATABASE_URL"
MAX_TOKEN = 16 * 1024


def read_token(fd: int) -> str:
    """The whole pipe's content (the server wrote it and closed its end)."""
    chunks: list[bytes] = []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(4096):
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_TOKEN:
                break
    return b"".join(chunks).decode("ascii", "replace").strip()


def take_terminal() -> None:
    """Make the pty this process's controlling terminal, so the kernel delivers
    SIGWINCH (window resizes) and hang-ups to it."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def make_app(url: str, session: SessionController) -> FinanceApp:
    """The normal app, except that the end of the session ends the process."""
    from finance_tui.app import FinanceApp

    return FinanceApp(url, session=session, exit_when_session_ends=True)


def run(token: str, url: str) -> int:
    from finance_tui.session import SessionController
    from finance_tui.startup import connect

    connect(url)
    session = SessionController.resume(token)
    app = make_app(url, session)
    app.run()
    if app.ended_because:
        print(f"finance-tui: {app.ended_because}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finance_tui.serve.ssh_child")
    parser.add_argument("--token-fd", type=int, required=True)
    args = parser.parse_args(argv)
    take_terminal()
    token = read_token(args.token_fd)
    from finance_tui.errors import FinanceError

    try:
        return run(token, os.environ[URL_VARIABLE])
    except FinanceError as exc:
        print(f"finance-tui: {exc}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
