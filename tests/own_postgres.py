"""A private, throw-away PostgreSQL 15 server that a test may stop and start again.

The shared server of ``.ci/with-postgres`` cannot be restarted under the other tests;
this one lives in its own temporary directory, on its own port. Done as that script
does it: initdb as the ``postgres`` user when running as root (the server refuses to
run as root), trust authentication, 127.0.0.1 only, fsync off.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def unavailable_reason() -> str | None:
    """Why no private server can be started here, or None when it can."""
    if not os.access(PG_BIN / "initdb", os.X_OK):
        return f"PostgreSQL 15 binaries not found in {PG_BIN} (set PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server"
        if shutil.which("runuser") is None:
            return "running as root and 'runuser' is missing"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnPostgres:
    """``start()``, ``stop()``, ``url``; ``remove()`` stops it and deletes its files."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="finance-tui-pg."))
        self.data = self.root / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.root.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "db")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/db"

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        log = str(self.root / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "start", "-o", options
        )

    def stop(self) -> None:
        """Fast shutdown: every client connection is terminated, as in a restart."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if self.running:
            with contextlib.suppress(RuntimeError):  # stopped meanwhile
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.root / "server.log"
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({result.returncode}): {result.stdout}{result.stderr}"
                f"{server_log}"
            )
