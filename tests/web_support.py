"""A real ``finance-tui serve web`` in a subprocess, for the web server's tests.

The server runs as users run it (its own process, its own children), so the tests see
what a browser would: the HTTP answers, the app processes it starts and ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from polling import wait_until

# A variable the server has and its app processes must not get.
SERVER_ONLY_SECRET = ("AWS_SECRET_ACCESS_KEY", "server-only-secret-0042")
START_TIMEOUT = 90.0  # a busy 2-core machine may take a while to import and migrate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``condition`` until it returns something true; fail naming ``what``."""
    return wait_until(condition, what, timeout, interval=0.2)


def process_state(pid: int) -> str | None:
    """The state letter of ``pid`` (``R``, ``S``, ``Z``, ...), or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    """Running or sleeping; a zombie has ended (nobody may be left to reap it)."""
    return process_state(pid) not in (None, "Z", "X")


def children(pid: int) -> list[int]:
    """Live child processes of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return sorted(found)


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def command_line_of(pid: int) -> list[str]:
    return [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


class WebServer:
    """``finance-tui serve web`` on a free loopback port, stopped (SIGTERM) by ``stop``."""

    def __init__(
        self, db_url: str | None, *extra: str, cwd: Path, env: dict[str, str] | None = None
    ) -> None:
        self.db_url = db_url
        self.extra = extra
        self.env = env or {}
        self.cwd = cwd
        self.log = cwd / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.seen_children: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        for _attempt in range(3):  # another test may grab the free port first
            self.port = free_port()
            if self._start_once():
                return self
        raise AssertionError(f"server did not start:\n{self.log_text()}")

    def _start_once(self) -> bool:
        env = dict(os.environ)
        env[SERVER_ONLY_SECRET[0]] = SERVER_ONLY_SECRET[1]
        env.update(self.env)
        command = [sys.executable, "-m", "finance_tui", "serve", "web"]
        command += ["--db", self.db_url] if self.db_url else []
        command += ["--port", str(self.port), *self.extra]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.2)
        return False

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self) -> list[int]:
        assert self.process is not None
        found = children(self.process.pid)
        self.seen_children.update(found)
        return found

    def wait_children(self, count: int, timeout: float = 60.0) -> list[int]:
        """Wait until exactly ``count`` app processes run; return their pids."""
        wait_for(lambda: len(self.children()) == count, timeout, f"{count} app process(es)")
        return self.children()

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; returns the server's exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.children()
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"server ignored SIGTERM:\n{self.log_text()}") from None

    def leftover_children(self) -> list[int]:
        """App processes this server started that still run (should be none)."""
        return sorted(pid for pid in self.seen_children if alive(pid))
