"""``finance-tui serve web`` without a browser: options, the Origin check, the session
cap, what an app process inherits, and that no app process outlives its tab or the server.

The browser itself is in test_serve_web_browser.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from web_support import (
    SERVER_ONLY_SECRET,
    WebServer,
    command_line_of,
    environment_of,
    http_get,
    wait_for,
)

from finance_tui.errors import FinanceError
from finance_tui.serve.web import check_options, child_environment, origin_of, same_origin

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads child processes from /proc"
)
EVIL = "http://evil.example"


# ---- options and origins -------------------------------------------------------------
def test_origin_of_is_what_a_browser_sends():
    assert origin_of("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert origin_of("https://Fin.Example.com:443/team/") == "https://fin.example.com"
    assert origin_of("http://fin.example.com:80") == "http://fin.example.com"
    assert origin_of("http://[::1]:8000/") == "http://[::1]:8000"
    for bad in ("ftp://x", "fin.example.com", "http://", "http://x:99999"):
        with pytest.raises(ValueError):
            origin_of(bad)


def test_only_the_exact_origin_matches():
    own = "https://fin.example.com"
    assert same_origin("https://fin.example.com", own)
    assert same_origin("https://FIN.example.com:443", own)
    for other in (
        None,
        "",
        "null",
        "http://fin.example.com",
        "https://fin.example.com.evil",
        "https://evil.example",
        "https://fin.example.com:8443",
        "garbage",
    ):
        assert not same_origin(other, own), other


def test_default_public_url_is_the_listening_address():
    options = check_options("127.0.0.1", 8000, None, 32)
    assert (options.public_url, options.origin) == ("http://127.0.0.1:8000",) * 2
    assert check_options("::1", 9000, None, 1).public_url == "http://[::1]:9000"
    proxied = check_options("127.0.0.1", 8000, "https://fin.example.com/", 4)
    assert (proxied.public_url, proxied.origin) == ("https://fin.example.com",) * 2


@pytest.mark.parametrize(
    ("host", "port", "public_url", "sessions", "message"),
    [
        ("127.0.0.1", 0, None, 32, "--port: 0 is not a port number (1-65535)"),
        ("127.0.0.1", 70000, None, 32, "--port: 70000 is not a port number (1-65535)"),
        ("127.0.0.1", 8000, None, 0, "--max-sessions: 0 must be at least 1"),
        ("127.0.0.1", 8000, "fin.example.com", 32, "--public-url: 'fin.example.com' is not"),
        ("0.0.0.0", 8000, None, 32, "--host 0.0.0.0 listens on every address"),
        ("::", 8000, None, 32, "--host :: listens on every address"),
    ],
)
def test_bad_options_are_one_clear_message(host, port, public_url, sessions, message):
    with pytest.raises(FinanceError) as error:
        check_options(host, port, public_url, sessions)
    assert str(error.value).startswith(message)


def test_cli_refuses_every_address_without_a_public_url(run_cli, tmp_path):
    code, out, err = run_cli(["serve", "web", "--db", str(tmp_path / "x.db"), "--host", "0.0.0.0"])
    assert code == 1 and out == ""
    assert err.startswith("error: --host 0.0.0.0 listens on every address")
    assert not (tmp_path / "x.db").exists()  # refused before anything was created


def test_child_environment_keeps_only_what_the_app_needs():
    server_env = {
        "PATH": "/usr/bin",
        "HOME": "/home/fin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "FINANCE_TUI_SECRET_KEY": "k" * 40,
        "FINANCE_TUI_DATABASE_URL": "sqlite:///other.db",
        "PGPASSWORD": "pg-secret",
        "AWS_SECRET_ACCESS_KEY": "cloud",
        "SSH_AUTH_SOCK": "/tmp/agent",
        "GITHUB_TOKEN": "ghp_x",
        "TEXTUAL_DRIVER": "stale",
    }
    textual_serve_env = {
        **server_env,
        "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
        "COLUMNS": "120",
        "ROWS": "40",
    }
    env = child_environment(server_env, textual_serve_env, "sqlite:////srv/team.db")
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/fin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "FINANCE_TUI_SECRET_KEY": "k" * 40,
        "FINANCE_TUI_DATABASE_URL": "sqlite:////srv/team.db",
        "PGPASSWORD": "pg-secret",
        "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
        "COLUMNS": "120",
        "ROWS": "40",
    }


# ---- a real server -------------------------------------------------------------------
@pytest.fixture
def web_db(db_url) -> str:
    if not db_url.startswith("sqlite"):
        pytest.skip("the web server is the same on every engine; its tests run on SQLite")
    return db_url


def _server(web_db: str, tmp_path, *extra: str) -> Iterator[WebServer]:
    server = WebServer(web_db, *extra, cwd=tmp_path).start()
    try:
        yield server
    finally:
        status = server.stop()
        log = server.log_text()
        assert server.leftover_children() == [], log
        assert status == 0, log


@pytest.fixture
def server(web_db, tmp_path) -> Iterator[WebServer]:
    yield from _server(web_db, tmp_path)


@pytest.fixture
def one_session_server(web_db, tmp_path) -> Iterator[WebServer]:
    yield from _server(web_db, tmp_path, "--max-sessions", "1")


@pytest.fixture(scope="module")
def appless_server(tmp_path_factory) -> Iterator[WebServer]:
    """One server for the module's tests that start no app on it (a page load, refused
    websockets): each checks that no app process runs, so none can hide another's."""
    folder = tmp_path_factory.mktemp("appless-web")
    yield from _server(f"sqlite:///{folder / 'finance.db'}", folder)


async def _open_app(session: aiohttp.ClientSession, server: WebServer, origin: str):
    return await session.ws_connect(
        f"{server.url}/ws?width=100&height=30", headers={"Origin": origin}
    )


async def _read_until(ws: aiohttp.ClientWebSocketResponse, text: bytes, timeout: float) -> bytes:
    """Terminal output of the app until ``text`` appears in it."""
    seen = b""

    async def read() -> bytes:
        nonlocal seen
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += message.data
                if text in seen:
                    return seen
        raise AssertionError(f"websocket closed before {text!r}: {seen[-500:]!r}")

    return await asyncio.wait_for(read(), timeout)


def test_page_loads_with_headers_that_forbid_framing(appless_server):
    server = appless_server
    status, headers, body = http_get(f"{server.url}/")
    assert status == 200
    assert f'data-session-websocket-url="ws://127.0.0.1:{server.port}/ws"' in body
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert server.children() == []  # a page is not a session: no app process yet


@pytest.mark.parametrize("origin", [EVIL, None, "null", "http://localhost:{port}"])
async def test_websocket_from_another_origin_is_refused(appless_server, origin):
    server = appless_server
    headers = {} if origin is None else {"Origin": origin.format(port=server.port)}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"{server.url}/ws", headers=headers)
    assert refused.value.status == 403
    status, _, body = http_get(f"{server.url}/ws", headers)  # a plain page load of it too
    assert status == 403 and "only for pages of http://127.0.0.1" in body
    assert server.children() == []  # no app process was started
    sent = headers.get("Origin")
    assert f"refused websocket from 127.0.0.1: Origin {sent!r}" in server.log_text()


async def test_a_tab_gets_its_own_app_at_the_login_screen_and_closing_ends_it(server):
    async with aiohttp.ClientSession() as session:
        first = await _open_app(session, server, server.url)
        second = await _open_app(session, server, server.url)
        for ws in (first, second):
            screen = await _read_until(ws, b"Username or email", 90)
            assert b"Password" in screen
        pids = server.wait_children(2)
        for pid in pids:
            env = environment_of(pid)
            assert SERVER_ONLY_SECRET[0] not in env
            assert env["FINANCE_TUI_DATABASE_URL"] == server.db_url
            assert command_line_of(pid)[1:] == ["-m", "finance_tui"]  # no URL for `ps` to show
        await first.close()
        wait_for(lambda: pids[0] not in server.children(), 60, "the closed tab's process to end")
        assert server.children() == pids[1:]
        await second.close()
        server.wait_children(0)
    assert "session " in server.log_text() and " ended: pid " in server.log_text()


async def test_one_command_serves_the_default_sqlite_database(tmp_path):
    """`finance-tui serve web` alone: the SQLite file in the data directory, created."""
    data = tmp_path / "data"
    env = {"XDG_DATA_HOME": str(data), "FINANCE_TUI_DATABASE_URL": ""}
    server = WebServer(None, cwd=tmp_path, env=env).start()
    try:
        database = data / "finance-tui" / "finance.db"
        assert database.is_file()
        assert http_get(f"{server.url}/")[0] == 200
        async with aiohttp.ClientSession() as session:
            ws = await _open_app(session, server, server.url)
            await _read_until(ws, b"Username or email", 90)
            (pid,) = server.wait_children(1)
            assert environment_of(pid)["FINANCE_TUI_DATABASE_URL"] == f"sqlite:///{database}"
            await ws.close()
    finally:
        assert server.stop() == 0
    assert server.leftover_children() == []


async def test_above_the_cap_a_busy_page_and_no_process(one_session_server):
    server = one_session_server
    async with aiohttp.ClientSession() as session:
        ws = await _open_app(session, server, server.url)
        await _read_until(ws, b"Username or email", 90)
        server.wait_children(1)
        status, headers, body = http_get(f"{server.url}/")
        assert status == 503 and headers["Retry-After"] == "30"
        assert "All 1 sessions of this server are in use" in body
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await _open_app(session, server, server.url)
        assert refused.value.status == 503
        assert len(server.children()) == 1
        await ws.close()
        server.wait_children(0)
    wait_for(lambda: http_get(f"{server.url}/")[0] == 200, 30, "the page to come back")


async def test_an_app_process_that_dies_ends_its_tab_and_frees_its_slot(server):
    async with aiohttp.ClientSession() as session:
        ws = await _open_app(session, server, server.url)
        await _read_until(ws, b"Username or email", 90)
        (pid,) = server.wait_children(1)
        os.kill(pid, signal.SIGKILL)
        await _wait_closed(ws)
    server.wait_children(0)
    wait_for(lambda: f"ended: pid {pid} exit -9" in server.log_text(), 30, "the end in the log")


async def _wait_closed(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read the app's last frames until the server closes the connection (the server's
    pings restart a receive's own timeout, hence the overall one)."""
    closing = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)

    async def until_closed() -> None:
        while (await ws.receive()).type not in closing:
            pass

    await asyncio.wait_for(until_closed(), 60)


async def test_stopping_the_server_ends_every_app_process(server):
    async with aiohttp.ClientSession() as session:
        ws = await _open_app(session, server, server.url)
        await _read_until(ws, b"Username or email", 90)
        (pid,) = server.wait_children(1)
        assert server.stop() == 0
        assert server.leftover_children() == []
        await _wait_closed(ws)
    assert server.log_text().count(f"ended: pid {pid}") == 1


def test_ci_installs_the_browser_before_the_tests():
    """The browser tests skip only where chromium cannot be installed; CI installs it."""
    run = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    install = run.index("apt-get install -y -qq chromium chromium-driver")
    assert "command -v chromium" in run and "command -v chromedriver" in run
    assert install < run.index('step "tests (SQLite, README command)"')
