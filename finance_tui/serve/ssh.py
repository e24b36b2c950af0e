"""``finance-tui serve ssh``: the app as its own SSH server (asyncssh, no system sshd).

Each connection authenticates as an app user (SSH user name = username or email):
with one of the public keys stored for that user, or with the app password through
the same throttled, audited login as everywhere else. The connection then gets one app
process (:mod:`finance_tui.serve.ssh_child`) on a pseudo-terminal of its own, already
logged in with a normal, revocable session. The client's environment never reaches
that process; only the terminal type and size from its pty request (and COLORTERM, the
one variable that says what colours the terminal shows) do.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from finance_tui.errors import AccountLocked, AuthError, FinanceError

CHILD_MODULE = "finance_tui.serve.ssh_child"
GRACE_SECONDS = 3.0
CHECK_SECONDS = 5.0
COLORTERM_VALUES = frozenset({"truecolor", "24bit"})
# Of the server's own environment, what the app process keeps (never the client's).
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "TZ")
MAX_PENDING_INPUT = 1024 * 1024
NO_PTY = "finance-tui needs a terminal: connect with 'ssh -t' (not a command or -T)\r\n"


@dataclass
class ServerOptions:
    db_url: str
    host: str = "127.0.0.1"
    port: int = 2222
    host_key: Path | None = None
    max_sessions: int = 32
    idle_timeout_minutes: float = 0  # 0: no idle timeout
    grace_seconds: float = GRACE_SECONDS
    check_seconds: float = CHECK_SECONDS


@dataclass
class Login:
    """Who a connection proved to be, and how."""

    user_id: Any = None
    via: str = ""
    fingerprint: str = ""
    session: Any = None  # SessionController once opened
    in_use: bool = False  # a shell took it over (and revokes it when it ends)


@dataclass
class ServerState:
    options: ServerOptions
    sessions: set[AppSession] = field(default_factory=set)
    connections: int = 0


def in_thread(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Database and bcrypt work off the event loop (other connections keep flowing)."""
    return asyncio.get_running_loop().run_in_executor(None, lambda: func(*args, **kwargs))


# ---- host key ---------------------------------------------------------------------------
def default_host_key_path() -> Path:
    from finance_tui.config import state_dir

    return state_dir() / "ssh_host_ed25519_key"


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The server's identity, generated (mode 0600, never readable by others) at the
    first start. Returns (key, created)."""
    if path.exists():
        try:
            return asyncssh.read_private_key(str(path)), False
        except (asyncssh.KeyImportError, OSError) as exc:
            raise FinanceError(f"cannot read the host key {path}: {exc}") from None
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key("openssh"))
    return key, True


# ---- authentication ---------------------------------------------------------------------
class AppSSHServer(asyncssh.SSHServer):
    """One per connection: authenticates against the app's users."""

    def __init__(self, state: ServerState):
        self.state = state
        self.login = Login()
        self.address = ""
        self.conn: asyncssh.SSHServerConnection | None = None
        self._accepted_keys: dict[str, Any] = {}

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("", 0)
        self.address = str(peer[0])
        self.state.connections += 1
        # Unauthenticated connections cost little but are capped too (twice the sessions).
        if self.state.connections > 2 * max(self.state.options.max_sessions, 1):
            conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, "finance-tui: too many connections")

    def connection_lost(self, exc: Exception | None) -> None:
        """A password login that never became a shell must not leave a session open."""
        self.state.connections -= 1
        session = self.login.session
        if session is not None and not self.login.in_use:
            self.login.session = None
            asyncio.ensure_future(in_thread(_quiet_logout, session))

    def begin_auth(self, username: str) -> bool:
        return True  # every user authenticates

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def kbdint_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        """Is ``key`` stored for ``username``? (asyncssh then checks the signature.)"""
        from finance_tui.services.ssh_keys import key_owner

        fingerprint = key.get_fingerprint("sha256")
        user = await in_thread(key_owner, username, fingerprint)
        if user is None:
            return False
        self._accepted_keys[fingerprint] = user.id
        self.login = Login(user.id, "ssh-key", fingerprint)
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        return await self._password_login(username, password)

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> Any:
        return "", "", "", [("Password: ", False)]

    async def validate_kbdint_response(self, username: str, responses: Any) -> bool:
        if len(responses) != 1:
            return False
        return await self._password_login(username, responses[0])

    async def _password_login(self, username: str, password: str) -> bool:
        """The app's own login: same throttle, lockout and audit as the login screen."""
        from finance_tui.session import SessionController

        try:
            session = await in_thread(SessionController.login, username, password)
        except AccountLocked as exc:
            self._banner(f"finance-tui: {exc}\r\n")
            return False
        except (AuthError, FinanceError):
            return False
        self.login = Login(session.principal.user_id, "ssh-password", "", session)
        return True

    def _banner(self, text: str) -> None:
        with contextlib.suppress(Exception):  # the client may already be gone
            assert self.conn is not None
            self.conn.send_auth_banner(text)

    def session_requested(self) -> AppSession:
        return AppSession(self)


# ---- the app process on a pseudo-terminal -------------------------------------------------
def set_window_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def child_environment(db_url: str, term: str, colorterm: str | None) -> dict[str, str]:
    """The app process's whole environment: the server's own settings and the database
    URL (this process only; /proc/PID/environ is readable by the server's account
    alone), TERM from the pty request, COLORTERM if the client named a known value."""
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env.update({k: v for k, v in os.environ.items() if k.startswith("FINANCE_TUI_")})
    env["FINANCE_TUI_DATABASE_URL"] = db_url
    env["TERM"] = term if term and term.isprintable() and len(term) < 64 else "xterm"
    if colorterm in COLORTERM_VALUES:
        env["COLORTERM"] = colorterm
    return env


class AppSession(asyncssh.SSHServerSession):
    """One SSH channel: a pty request and a shell, mapped onto one app process."""

    def __init__(self, server: AppSSHServer):
        self.server = server
        self.state = server.state
        self.chan: asyncssh.SSHServerChannel | None = None
        self.term = ""
        self.size = (80, 24)
        self.has_pty = False
        self.master: int | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.last_input = time.monotonic()
        self.started = time.monotonic()
        self.end_reason = "disconnected"
        self._tasks: list[asyncio.Task] = []
        self._pending = bytearray()  # client input the app has not read yet
        self._writer = False
        self._paused = False  # the client's channel is full: the app's output waits

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple, term_modes: Any) -> bool:
        self.has_pty = True
        self.term = term_type
        width, height = term_size[0] or 80, term_size[1] or 24
        self.size = (width, height)
        return True

    def exec_requested(self, command: str) -> bool:
        return False  # the app is the only program on offer

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def shell_requested(self) -> bool:
        return True

    def session_started(self) -> None:
        self._tasks.append(asyncio.ensure_future(self._run()))

    # -- data flow --
    def data_received(self, data: bytes, datatype: Any) -> None:
        """Client -> app. The pty is non-blocking: an app that stops reading must not
        stall the server's loop (every other connection); input beyond a cap is dropped."""
        self.last_input = time.monotonic()
        if self.master is None:
            return
        if len(self._pending) + len(data) <= MAX_PENDING_INPUT:
            self._pending += data
        self._flush()

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        if self.master is None:
            self._pending.clear()
            return
        try:
            written = os.write(self.master, self._pending) if self._pending else 0
        except BlockingIOError:
            written = 0
        except OSError:
            self._pending.clear()
            written = 0
        del self._pending[:written]
        if self._pending and not self._writer:
            loop.add_writer(self.master, self._flush)
            self._writer = True
        elif not self._pending and self._writer:
            loop.remove_writer(self.master)
            self._writer = False

    def pause_writing(self) -> None:
        """The client reads slower than its app paints (a slow link, a stopped
        terminal): stop reading the app's pty. Its output then waits in the kernel's
        pty buffer and the app's own process blocks; this server's memory, shared by
        every connection, never holds more than the channel's buffer limit."""
        self._paused = True
        if self.master is not None:
            asyncio.get_running_loop().remove_reader(self.master)

    def resume_writing(self) -> None:
        self._paused = False
        if self.master is not None:
            asyncio.get_running_loop().add_reader(self.master, self._pump)

    def terminal_size_changed(self, width: int, height: int, pixw: int, pixh: int) -> None:
        self.size = (width or self.size[0], height or self.size[1])
        if self.master is None or self.proc is None:
            return
        with contextlib.suppress(OSError):
            set_window_size(self.master, *self.size)
            os.killpg(self.proc.pid, signal.SIGWINCH)

    def eof_received(self) -> bool:
        return True  # keep the channel: the app still has output to show

    def connection_lost(self, exc: Exception | None) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self._tasks.append(asyncio.ensure_future(self._stop_child()))

    # -- lifecycle --
    def _say(self, text: str) -> None:
        if self.chan is not None:
            with contextlib.suppress(Exception):
                self.chan.write(text.encode("utf-8"))

    def _close(self, status: int) -> None:
        if self.chan is not None:
            with contextlib.suppress(Exception):
                self.chan.exit(status)

    async def _run(self) -> None:
        if not self.has_pty:
            self._say(NO_PTY)
            await self._end_login("no terminal")
            self._close(1)
            return
        if len(self.state.sessions) >= self.state.options.max_sessions:
            limit = self.state.options.max_sessions
            self._say(f"finance-tui: the server is full ({limit} sessions); try again later\r\n")
            await self._end_login("server full")
            self._close(1)
            return
        self.state.sessions.add(self)
        try:
            await self._serve()
        finally:
            self.state.sessions.discard(self)

    async def _open_session(self) -> Any:
        """The app session: opened now for a key, by the password check for a password."""
        from finance_tui.session import SessionController

        login = self.server.login
        login.in_use = True
        if login.session is None:
            login.session = await in_thread(
                SessionController.open_for,
                login.user_id,
                via=login.via,
                fingerprint=login.fingerprint,
                address=self.server.address,
            )
        await in_thread(self._audit, "ssh_login", {})
        return login.session

    def _audit(self, action: str, extra: dict) -> None:
        from finance_tui.db import write_transaction
        from finance_tui.services.audit import record_event

        login = self.server.login
        principal = login.session.principal
        details = {
            "via": login.via,
            "fingerprint": login.fingerprint,
            "address": self.server.address,
            **extra,
        }
        with write_transaction():
            record_event(principal, action, "user", principal.user_id, after=details)

    async def _serve(self) -> None:
        try:
            session = await self._open_session()
        except FinanceError as exc:
            self._say(f"finance-tui: {exc}\r\n")
            self._close(1)
            return
        await self._spawn(session.token)
        watcher = asyncio.ensure_future(self._watch(session))
        assert self.proc is not None
        status = await self.proc.wait()
        watcher.cancel()
        await self._drain()
        await self._end_login(self.end_reason if self.end_reason != "disconnected" else "exit")
        self._close(status if status >= 0 else 1)

    async def _spawn(self, token: str) -> None:
        master, slave = pty.openpty()
        set_window_size(master, *self.size)
        read_end, write_end = os.pipe()
        os.write(write_end, token.encode("ascii"))
        os.close(write_end)
        env = child_environment(self.state.options.db_url, self.term, self._colorterm())
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                CHILD_MODULE,
                "--token-fd",
                str(read_end),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                pass_fds=(read_end,),
                start_new_session=True,
                env=env,
                close_fds=True,
            )
        finally:
            os.close(slave)
            os.close(read_end)
        os.set_blocking(master, False)
        self.master = master
        if not self._paused:
            asyncio.get_running_loop().add_reader(master, self._pump)

    def _colorterm(self) -> str | None:
        if self.chan is None:
            return None
        value = (self.chan.get_environment() or {}).get("COLORTERM")
        return value if isinstance(value, str) else None

    def _pump(self) -> None:
        """App output -> client. EIO means the app closed its terminal."""
        assert self.master is not None
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._stop_reading()
            return
        if self.chan is not None:
            with contextlib.suppress(Exception):
                self.chan.write(data)

    def _stop_reading(self) -> None:
        if self.master is None:
            return
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.master)
        if self._writer:
            loop.remove_writer(self.master)
            self._writer = False
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = None

    async def _drain(self) -> None:
        """Forward what the app wrote last (its goodbye line), then close the pty."""
        while self.master is not None:
            ready = await in_thread(_readable, self.master, 0.2)
            if not ready:
                break
            self._pump()
        self._stop_reading()

    async def _watch(self, session: Any) -> None:
        """End the connection on the idle timeout and when the session expires (its
        expiry is re-read each time, so a shortened session ends on time too)."""
        options = self.state.options
        jti = session.principal.session_jti
        while True:
            await asyncio.sleep(options.check_seconds)
            idle = time.monotonic() - self.last_input
            if options.idle_timeout_minutes > 0 and idle >= options.idle_timeout_minutes * 60:
                minutes = f"{options.idle_timeout_minutes:g}"
                await self._end_child(
                    "idle timeout", f"disconnected after {minutes} min without input"
                )
                return
            with contextlib.suppress(FinanceError):  # database down: check again later
                if await in_thread(_expired, jti):
                    await self._end_child(
                        "session expired", "your session has expired; connect again"
                    )
                    return

    async def _end_child(self, reason: str, message: str) -> None:
        self.end_reason = reason
        await self._stop_child()
        await self._drain()
        self._say(f"\r\nfinance-tui: {message}\r\n")

    async def _stop_child(self) -> None:
        """SIGTERM to the app's process group; SIGKILL after the grace period."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), self.state.options.grace_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def _end_login(self, reason: str) -> None:
        """Revoke the session and audit the logout (with how long it lasted)."""
        session = self.server.login.session
        if session is None:
            return
        seconds = round(time.monotonic() - self.started)
        with contextlib.suppress(Exception):  # the database may be gone; the token expires
            await in_thread(self._audit, "ssh_logout", {"reason": reason, "seconds": seconds})
        with contextlib.suppress(Exception):
            await in_thread(session.logout)
        self.server.login.session = None


def _expired(jti: str) -> bool:
    from finance_tui.db import database_errors
    from finance_tui.models import Session, utcnow

    with database_errors():
        row = Session.get_or_none(Session.jti == jti)
    return row is None or row.expires_at <= utcnow()


def _quiet_logout(session: Any) -> None:
    with contextlib.suppress(Exception):  # best effort: the token expires anyway
        session.logout()


def _readable(fd: int, timeout: float) -> bool:
    import select

    try:
        return bool(select.select([fd], [], [], timeout)[0])
    except (OSError, ValueError):
        return False


# ---- the server -------------------------------------------------------------------------
async def start_server(
    options: ServerOptions, host_key: asyncssh.SSHKey
) -> tuple[Any, ServerState]:
    """Listen; returns the asyncssh acceptor (``.sockets``, ``.close()``) and the state."""
    state = ServerState(options)
    acceptor = await asyncssh.create_server(
        lambda: AppSSHServer(state),
        options.host,
        options.port,
        server_host_keys=[host_key],
        encoding=None,  # bytes both ways: the pty carries whatever the terminal sends
        login_timeout=60,
        allow_scp=False,
        agent_forwarding=False,
        x11_forwarding=False,
        keepalive_interval=60,
        keepalive_count_max=3,
    )
    return acceptor, state


async def stop_server(acceptor: Any, state: ServerState) -> None:
    """Stop listening and end every session (their apps get SIGTERM, then SIGKILL)."""
    acceptor.close()
    sessions = list(state.sessions)
    await asyncio.gather(
        *(s._end_child("server stopped", "the server is shutting down") for s in sessions),
        return_exceptions=True,
    )
    tasks = [task for session in sessions for task in session._tasks]
    if tasks:
        await asyncio.wait(tasks, timeout=state.options.grace_seconds + 5)
    for session in sessions:
        session._close(1)
    await acceptor.wait_closed()


def bound_port(acceptor: Any) -> int:
    return int(acceptor.sockets[0].getsockname()[1])


async def serve_forever(
    options: ServerOptions, host_key: asyncssh.SSHKey, ready: Callable[[int], None]
) -> None:
    acceptor, state = await start_server(options, host_key)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    ready(bound_port(acceptor))  # after the handlers: a stop right after this is clean
    await stop.wait()
    await stop_server(acceptor, state)
