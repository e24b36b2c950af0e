"""``finance-tui serve ssh`` against the real OpenSSH client, in real terminals (tmux).

The server runs in this process (its own event loop in a thread) on the test's
database, so the tests can look at its state; every connection's app is a real
process on a real pseudo-terminal, as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import polling
import pytest

from finance_tui.db import write_transaction
from finance_tui.models import AuditEvent, Record, Session, User, utcnow
from finance_tui.serve.ssh import ServerOptions, start_server, stop_server
from finance_tui.services.users import insert_user
from finance_tui.session import SessionController

PASSWORD = "correct-horse-1"
SSH = shutil.which("ssh")
TMUX = shutil.which("tmux")
pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX pseudo-terminals"),
    pytest.mark.skipif(SSH is None or TMUX is None, reason="needs OpenSSH's ssh and tmux"),
]
TIMEOUT = 60.0  # generous: a busy 2-core machine starts Python and Textual slowly
SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "ConnectTimeout=30",
]  # fmt: skip


def wait_until(condition: Callable[[], object], what: str, timeout: float = TIMEOUT) -> object:
    """:func:`polling.wait_until` with this module's timeout."""
    return polling.wait_until(condition, what, timeout)


class Server:
    """The SSH server on its own event loop thread; stopped at the end of the test."""

    def __init__(self, options: ServerOptions):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        key = asyncssh.generate_private_key("ssh-ed25519")
        self.acceptor, self.state = self._call(start_server(options, key))
        self.port = int(self.acceptor.sockets[0].getsockname()[1])

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)  # type: ignore[arg-type]

    def child_pids(self) -> list[int]:
        return [s.proc.pid for s in list(self.state.sessions) if s.proc is not None]

    def stop(self) -> None:
        self._call(stop_server(self.acceptor, self.state))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)


class Terminal:
    """A tmux window running one ssh client; the screen is read back as text."""

    def __init__(self, tmp: Path, width: int = 110, height: int = 32):
        self.socket = str(tmp / f"tmux-{uuid.uuid4().hex[:8]}")
        self.width, self.height = width, height

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-S", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        return done.stdout

    def start(self, command: list[str], env: dict[str, str] | None = None) -> None:
        """Run ``command``; afterwards the pane shows its exit status and stays open."""
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        line = (
            f'env TERM=xterm-256color {prefix} {shlex.join(command)}; echo "[exit $?]"; sleep 600'
        )
        self.tmux("new-session", "-d", "-x", str(self.width), "-y", str(self.height), line)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J")

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> str:
        try:
            wait_until(lambda: text in self.screen(), f"{text!r} on screen", timeout)
        except AssertionError:
            raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}") from None
        return self.screen()

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-x", str(width), "-y", str(height))

    def close(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def serve(db_url, tmp_path, monkeypatch) -> Iterator[Callable[..., Server]]:
    """``serve(max_sessions=..., ...)`` starts a server on a free port."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # the apps' theme files stay in the test
    servers: list[Server] = []

    def start(**overrides: object) -> Server:
        options = ServerOptions(
            db_url=db_url, port=0, check_seconds=0.2, grace_seconds=2.0, **overrides
        )
        servers.append(Server(options))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def terminals(tmp_path) -> Iterator[Callable[..., Terminal]]:
    made: list[Terminal] = []

    def make(**size: int) -> Terminal:
        made.append(Terminal(tmp_path, **size))
        return made[-1]

    yield make
    for term in made:
        term.close()


def make_key(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A private key file (0600) and its public line."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"{name}@test")
    path = tmp_path / f"id_{name}"
    path.write_bytes(key.export_private_key("openssh"))
    path.chmod(0o600)
    return path, key.export_public_key("openssh").decode()


def add_user(name: str, role: str, public_key: str | None = None) -> None:
    with write_transaction():
        insert_user(name, f"{name}@example.com", PASSWORD, role)
    if public_key:
        session = SessionController.login(name, PASSWORD)
        session.ssh_keys.add(public_key)
        session.logout()


def key_command(server: Server, user: str, key: Path) -> list[str]:
    return [
        SSH, "-tt", "-p", str(server.port), *SSH_OPTIONS, "-o", "LogLevel=ERROR",
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
        "-i", str(key), f"{user}@127.0.0.1",
    ]  # fmt: skip


def password_command(
    server: Server, user: str, method: str = "password", log: str = "ERROR"
) -> list[str]:
    """``log="INFO"`` shows the server's banner (the reason for a refusal)."""
    return [
        SSH, "-tt", "-p", str(server.port), *SSH_OPTIONS, "-o", f"LogLevel={log}",
        "-o", f"PreferredAuthentications={method}", "-o", "PubkeyAuthentication=no",
        "-o", "NumberOfPasswordPrompts=1", f"{user}@127.0.0.1",
    ]  # fmt: skip


def askpass_env(tmp_path: Path, password: str) -> dict[str, str]:
    """ssh reads the password from this script (no terminal prompt to answer)."""
    script = tmp_path / f"askpass-{uuid.uuid4().hex[:6]}"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' {shlex.quote(password)}\n")
    script.chmod(0o700)
    return {"SSH_ASKPASS": str(script), "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}


def run_ssh(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A connection expected to be refused: no terminal needed to read the refusal."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,  # no controlling terminal: ssh must use SSH_ASKPASS
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def pty_size(pid: int) -> list[str]:
    """``[rows, columns]`` of the terminal the app process ``pid`` runs on."""
    with open(f"/proc/{pid}/fd/0") as tty:
        done = subprocess.run(["stty", "size"], stdin=tty, capture_output=True, text=True)
    return done.stdout.split()


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# ---- tests ------------------------------------------------------------------------------
def test_key_login_lands_on_dashboard_and_is_audited(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "ana")
    add_user("ana", "analyst", public)
    server = serve()
    term = terminals()
    term.start(key_command(server, "ana", key))
    screen = term.wait_for("ana (analyst)")
    assert "Dashboard" in screen
    fingerprint = asyncssh.import_public_key(public).get_fingerprint("sha256")
    (login,) = events("ssh_login")
    assert login.actor_name == "ana"
    assert fingerprint in login.after and "127.0.0.1" in login.after and "ssh-key" in login.after
    live = Session.select().where(Session.revoked_at.is_null(), Session.user == login.actor)
    assert live.count() == 1  # a normal, revocable session row
    term.keys("C-q")
    term.wait_for("[exit 0]")
    wait_until(lambda: events("ssh_logout"), "the logout event")
    assert live.count() == 0  # revoked when the connection ended


def test_viewer_admin_keys_stay_inert(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "vic")
    add_user("vic", "viewer", public)
    server = serve()
    term = terminals()
    term.start(key_command(server, "vic", key))
    screen = term.wait_for("vic (viewer)")
    assert "5 Users" not in screen and "6 Audit log" not in screen
    term.keys("5", "6", "4", "?")  # help names the screen the keys left us on
    screen = term.wait_for("Keys — ")
    assert "Keys — Dashboard" in screen
    assert not events("permission_denied")


def test_wrong_key_and_unknown_user_are_refused(serve, tmp_path, admin):
    key, public = make_key(tmp_path, "kim")
    other, _ = make_key(tmp_path, "other")
    add_user("kim", "viewer", public)
    server = serve()
    wrong = run_ssh(key_command(server, "kim", other))
    assert wrong.returncode == 255 and "Permission denied" in wrong.stderr
    unknown = run_ssh(key_command(server, "nobody", key))
    assert unknown.returncode == 255 and "Permission denied" in unknown.stderr
    assert (
        events("ssh_login") == []
        and Session.select().where(Session.revoked_at.is_null()).count() == 1
    )


@pytest.mark.parametrize("method", ["password", "keyboard-interactive"])
def test_password_login_and_wrong_password(serve, terminals, tmp_path, admin, method):
    add_user("pat", "viewer")
    server = serve()
    wrong = run_ssh(password_command(server, "pat", method), askpass_env(tmp_path, "wrong-pass-1"))
    assert wrong.returncode == 255 and "Permission denied" in wrong.stderr
    (failed,) = events("login_failed")
    assert "bad_password" in failed.after and failed.actor_name == "pat"
    term = terminals()
    term.start(password_command(server, "pat", method), askpass_env(tmp_path, PASSWORD))
    term.wait_for("pat (viewer)")
    (login,) = events("ssh_login")
    assert "ssh-password" in login.after


def test_lockout_holds_over_ssh(serve, tmp_path, admin):
    add_user("lou", "viewer")
    server = serve()
    for _ in range(5):
        with contextlib.suppress(Exception):
            SessionController.login("lou", "wrong-pass-1")
    refused = run_ssh(password_command(server, "lou", log="INFO"), askpass_env(tmp_path, PASSWORD))
    assert refused.returncode == 255
    assert "Too many failed attempts" in refused.stderr  # the banner says why
    assert "account_locked" in events("login_failed")[-1].after
    assert events("ssh_login") == []


def test_resize_reaches_the_app(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "rae")
    add_user("rae", "viewer", public)
    server = serve()
    term = terminals(width=100, height=30)
    term.start(key_command(server, "rae", key))
    term.wait_for("rae (viewer)")
    (pid,) = server.child_pids()
    size = lambda: pty_size(pid)  # noqa: E731
    assert size() == ["30", "100"]
    term.resize(140, 40)
    wait_until(lambda: size() == ["40", "140"], "the app's terminal to be 140x40")
    # The app redrew at the new width: its header's right edge moved to column 140.
    wait_until(lambda: max(map(len, term.screen().splitlines())) > 100, "a wider frame")


def test_two_sessions_see_each_others_changes(serve, terminals, tmp_path, admin):
    key_a, public_a = make_key(tmp_path, "amy")
    key_b, public_b = make_key(tmp_path, "ben")
    add_user("amy", "admin", public_a)
    add_user("ben", "viewer", public_b)
    server = serve()
    amy, ben = terminals(), terminals()
    amy.start(key_command(server, "amy", key_a))
    ben.start(key_command(server, "ben", key_b))
    # an admin's nav bar is full at 120 columns (the name gives way): Users is hers alone
    amy.wait_for("5 Users")
    ben.wait_for("ben (viewer)")
    ben.keys("2")
    ben.wait_for("Records")
    assert "amy" not in ben.screen()
    amy.keys("2")
    amy.wait_for("Records")
    amy.keys("n")
    amy.wait_for("Amount")  # amy's own SSH session writes the record through the form
    amy.keys("e", "Enter", *"4321.09", "Enter", *"fo", "Enter", "Enter", *"over-ssh", "Enter")
    # On a busy machine a key can outrun the form's focus change, so the test does not
    # depend on every character: ben's list shows a row by amy, written over SSH.
    ben.wait_for("amy")
    amy_id = User.get(User.username_lower == "amy").id
    assert Record.select().where(Record.created_by == amy_id).count() == 1


def test_disconnect_leaves_no_child(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "dan")
    add_user("dan", "viewer", public)
    server = serve()
    term = terminals()
    term.start(key_command(server, "dan", key))
    term.wait_for("dan (viewer)")
    (pid,) = server.child_pids()
    term.close()  # the client goes away without a word
    wait_until(lambda: gone(pid), "the app process to end")
    wait_until(lambda: not server.state.sessions, "the session to be forgotten")
    (logout,) = wait_until(lambda: events("ssh_logout"), "the logout event")
    assert "disconnected" in logout.after or "exit" in logout.after


def test_connection_cap_is_enforced(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "cap")
    add_user("cap", "viewer", public)
    server = serve(max_sessions=1)
    first, second = terminals(), terminals()
    first.start(key_command(server, "cap", key))
    first.wait_for("cap (viewer)")
    second.start(key_command(server, "cap", key))
    second.wait_for("the server is full (1 sessions)")
    second.wait_for("[exit 1]")
    assert len(server.child_pids()) == 1


def test_no_pty_gets_a_message(serve, tmp_path, admin):
    key, public = make_key(tmp_path, "nop")
    add_user("nop", "viewer", public)
    server = serve()
    command = [c for c in key_command(server, "nop", key) if c != "-tt"]
    done = run_ssh([*command[:1], "-T", *command[1:]])
    assert "finance-tui needs a terminal" in done.stdout + done.stderr
    assert done.returncode == 1
    assert Session.select().where(Session.revoked_at.is_null()).count() == 1  # only admin's


def test_idle_timeout_ends_the_session(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "ida")
    add_user("ida", "viewer", public)
    server = serve(idle_timeout_minutes=0.05)  # 3 seconds
    term = terminals()
    term.start(key_command(server, "ida", key))
    term.wait_for("disconnected after 0.05 min without input")
    assert "idle timeout" in wait_until(lambda: events("ssh_logout"), "logout")[0].after


def test_signing_out_everywhere_ends_the_ssh_session(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "rev")
    add_user("rev", "viewer", public)
    server = serve()
    term = terminals()
    term.start(key_command(server, "rev", key))
    term.wait_for("rev (viewer)")
    (pid,) = server.child_pids()
    user_id = events("ssh_login")[0].actor
    admin.users.sign_out_everywhere(user_id)
    term.keys("2")  # the next action is refused: the app ends instead of a login screen
    term.wait_for("You have been signed out")
    term.wait_for("[exit 0]")
    wait_until(lambda: gone(pid), "the app process to end")


def test_child_gets_no_client_environment_and_no_token_in_argv(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "env")
    add_user("env", "viewer", public)
    server = serve()
    term = terminals()
    command = key_command(server, "env", key)
    command[1:1] = ["-o", "SetEnv=EVIL=1 COLORTERM=truecolor LD_PRELOAD=/tmp/x.so"]
    term.start(command)
    term.wait_for("env (viewer)")
    (pid,) = server.child_pids()
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_text().split("\0")
        if "=" in item
    )
    assert environ["TERM"] == "xterm-256color" and environ["COLORTERM"] == "truecolor"
    assert "EVIL" not in environ and "LD_PRELOAD" not in environ
    argv = Path(f"/proc/{pid}/cmdline").read_text()
    session = Session.get(
        Session.revoked_at.is_null(), Session.user == events("ssh_login")[0].actor
    )
    assert session.jti not in argv and "eyJ" not in argv  # no JWT on the command line
    assert all("eyJ" not in value for value in environ.values())


def test_cli_creates_host_key_and_prints_how_to_connect(db_url, tmp_path):
    host_key = tmp_path / "keys" / "host_key"
    command = [
        sys.executable, "-m", "finance_tui", "serve", "ssh", "--db", db_url,
        "--port", "0", "--host-key", str(host_key),
    ]  # fmt: skip

    def start() -> tuple[subprocess.Popen, list[str]]:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        lines: list[str] = []
        assert proc.stdout is not None
        while not lines or not lines[-1].startswith("Stop with"):
            line = proc.stdout.readline()
            assert line, f"the server stopped early: {lines}"
            lines.append(line.strip())
        return proc, lines

    proc, lines = start()
    try:
        assert lines[0] == f"Created host key {host_key}"
        assert host_key.stat().st_mode & 0o777 == 0o600
        fingerprint = asyncssh.read_private_key(str(host_key)).get_fingerprint("sha256")
        assert lines[1] == f"Host key fingerprint: {fingerprint}"
        (connect,) = [line for line in lines if line.startswith("Connect with: ")]
        port = connect.split()[4]
        assert port.isdigit() and port != "0"
        assert connect.startswith(f"Connect with: ssh -p {port} USER@localhost")
    finally:
        proc.terminate()
        assert proc.wait(TIMEOUT) == 0
    proc, lines = start()  # the second start keeps the key
    proc.terminate()
    assert proc.wait(TIMEOUT) == 0
    assert lines[:2] == [f"Using host key {host_key}", f"Host key fingerprint: {fingerprint}"]


def test_session_expiry_ends_the_connection(serve, terminals, tmp_path, admin):
    key, public = make_key(tmp_path, "exp")
    add_user("exp", "viewer", public)
    server = serve()
    term = terminals()
    term.start(key_command(server, "exp", key))
    term.wait_for("exp (viewer)")
    (pid,) = server.child_pids()
    user_id = events("ssh_login")[0].actor
    Session.update(expires_at=utcnow()).where(Session.user == user_id).execute()
    term.wait_for("your session has expired; connect again")
    wait_until(lambda: gone(pid), "the app process to end")
    assert "session expired" in wait_until(lambda: events("ssh_logout"), "logout")[0].after
