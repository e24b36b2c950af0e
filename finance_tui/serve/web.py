"""``finance-tui serve web``: the terminal UI in a browser tab, on textual-serve.

textual-serve gives every websocket (browser tab) a process running the app and relays
the terminal between the two. It has no authentication and checks no ``Origin``, so this
module wraps its aiohttp application instead of patching it:

- a websocket is accepted only when its ``Origin`` is the server's own origin (the
  public URL): a page on another site cannot drive a session in the visitor's browser,
  and a DNS-rebinding page fails the same check;
- each tab is one ``python -m finance_tui`` process that starts at the login screen,
  so the app's own logins, roles and throttling apply unchanged;
- at most ``max_sessions`` processes run at once; above that a page says so (503);
- a child gets a small allow-listed environment (no stray secrets of the server's
  account) and the database URL there, never on its command line (``ps`` shows that);
- a closed tab ends its process: politely first, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from finance_tui.errors import FinanceError

log = logging.getLogger("finance_tui.web")

WEBSOCKET_PATH = "/ws"  # textual-serve's route for the terminal's websocket
STOP_GRACE_SECONDS = 5.0  # a child gets this long to quit by itself after its tab closed
KILL_GRACE_SECONDS = 3.0  # ... and this long after SIGTERM before SIGKILL
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "*"})

# What a child may inherit from the server's environment: the app's settings, the
# PostgreSQL client's settings (it may need PGPASSWORD or PGSSLROOTCERT), the locale and
# what Python needs to find the installation. Anything else (cloud keys, tokens, the
# SSH agent) stays with the server.
PASSED_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "NO_COLOR",
        "VIRTUAL_ENV",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    }
)
PASSED_PREFIXES = ("FINANCE_TUI_", "PG", "LC_", "PYTHON")
# What textual-serve sets for a child: its terminal driver and the terminal's size.
TEXTUAL_SERVE_NAMES = frozenset(
    {
        "TEXTUAL_DRIVER",
        "TEXTUAL_FPS",
        "TEXTUAL_COLOR_SYSTEM",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "COLUMNS",
        "ROWS",
    }
)

SECURITY_HEADERS = {
    # Another site must not frame the app: a framed page talks to the websocket from
    # our own origin, so the Origin check alone would not stop click- or key-jacking.
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class WebOptions:
    """The checked options of ``finance-tui serve web``."""

    host: str
    port: int
    public_url: str
    max_sessions: int

    @property
    def origin(self) -> str:
        return origin_of(self.public_url)


def origin_of(url: str) -> str:
    """The origin a browser sends for pages under ``url``: scheme, host and a port that
    is not the scheme's default, lower-cased (``https://Fin.Example:443/x`` gives
    ``https://fin.example``). Raises ValueError for anything that is not http(s)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port  # ValueError when out of range
    default = 80 if scheme == "http" else 443
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def same_origin(header: str | None, origin: str) -> bool:
    """True when an ``Origin`` header names exactly ``origin``; a missing, ``null`` or
    malformed header never matches."""
    if not header:
        return False
    try:
        return origin_of(header) == origin
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def check_options(host: str, port: int, public_url: str | None, max_sessions: int) -> WebOptions:
    """Validate the command line; the public URL defaults to ``http://HOST:PORT``."""
    if not 1 <= port <= 65535:
        raise FinanceError(f"--port: {port} is not a port number (1-65535)")
    if max_sessions < 1:
        raise FinanceError(f"--max-sessions: {max_sessions} must be at least 1")
    if public_url is None:
        if host in WILDCARD_HOSTS:
            raise FinanceError(
                f"--host {host or repr(host)} listens on every address, so the server cannot "
                "know the address people open: give it as --public-url "
                "(e.g. --public-url http://server.example:8000)"
            )
        public_url = f"http://{url_host(host)}:{port}"
    try:
        origin_of(public_url)
    except ValueError as exc:
        raise FinanceError(f"--public-url: {exc}") from None
    return WebOptions(host, port, public_url.rstrip("/"), max_sessions)


def child_environment(
    environ: Mapping[str, str], textual_serve_env: Mapping[str, str], database_url: str
) -> dict[str, str]:
    """The environment of one app process: the allow-listed part of ``environ``, the
    variables textual-serve sets for its driver, and the database URL."""
    env = {
        name: value
        for name, value in environ.items()
        if name in PASSED_NAMES or name.startswith(PASSED_PREFIXES)
    }
    env.update(
        {name: value for name, value in textual_serve_env.items() if name in TEXTUAL_SERVE_NAMES}
    )
    env["FINANCE_TUI_DATABASE_URL"] = database_url
    return env


def busy_page(limit: int) -> web.Response:
    """What a browser gets instead of a new session when all of them are in use."""
    body = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>finance-tui is busy</title>"
        "</head><body style='font-family: sans-serif; max-width: 40em; margin: 4em auto'>"
        "<h1>finance-tui is busy</h1>"
        f"<p>All {limit} sessions of this server are in use. Close a finance-tui tab you "
        "no longer need, or try again in a minute.</p>"
        "<p>If this happens often, ask whoever runs the server to raise "
        "<code>--max-sessions</code>.</p></body></html>"
    )
    return web.Response(
        status=503, text=body, content_type="text/html", headers={"Retry-After": "30"}
    )


def peer_of(request: web.Request) -> str:
    """Who connected, for the log: the socket's address, plus what a proxy claims."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For")
    return f"{peer} (forwarded for {forwarded})" if forwarded else peer


class FinanceAppService(AppService):
    """One browser tab's app process: ``python -m finance_tui`` at the login screen."""

    def __init__(self, database_url: str, **kwargs: Any) -> None:
        super().__init__("python -m finance_tui", **kwargs)
        self.database_url = database_url
        self.started = time.monotonic()
        self._ending: asyncio.Future[None] | None = None

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        return self._process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        textual_serve_env = super()._build_environment(width=width, height=height)
        return child_environment(os.environ, textual_serve_env, self.database_url)

    async def _open_app_process(
        self, width: int = 80, height: int = 24
    ) -> asyncio.subprocess.Process:
        """Start the app without a shell, so the command is never re-parsed."""
        self._process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "finance_tui",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
        )
        self._stdin = process.stdin
        return process

    async def end(self) -> int | None:
        """End the process for sure and return its exit status; safe to call twice."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)
        return self._process.returncode if self._process is not None else None

    async def _end(self) -> None:
        try:
            await asyncio.wait_for(self.stop(), STOP_GRACE_SECONDS)
        except Exception:  # a timeout, or a pipe already gone: signals settle it
            log.debug("app process did not stop by itself", exc_info=True)
        process = self._process
        if process is None:
            return
        # Signal only a process still running after a grace period: signalling one that
        # exited but is not reaped yet would reap it behind asyncio's back (exit 255).
        if not await exited(process, STOP_GRACE_SECONDS):
            process.terminate()
            if not await exited(process, KILL_GRACE_SECONDS):
                process.kill()
                await process.wait()


async def close_when_exited(service: FinanceAppService, websocket: web.WebSocketResponse) -> None:
    """An app process that dies (killed, or a crash) closes its tab's connection, so
    the tab says "Session ended" and its slot is freed at once."""
    if service.process is not None:
        await service.process.wait()
        await websocket.close()


async def exited(process: asyncio.subprocess.Process, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``process`` to end; True if it did."""
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        return False
    return True


@dataclass
class Session:
    service: FinanceAppService
    websocket: web.WebSocketResponse
    peer: str


class WebServer(Server):
    """textual-serve's server with an Origin check, a session cap and safe children."""

    def __init__(self, database_url: str, options: WebOptions) -> None:
        super().__init__(
            "finance-tui",
            host=options.host,
            port=options.port,
            title="finance-tui",
            public_url=options.public_url,
        )
        self.database_url = database_url
        self.options = options
        self.origin = options.origin
        self.sessions: dict[str, Session] = {}

    @property
    def full(self) -> bool:
        return len(self.sessions) >= self.options.max_sessions

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Refuse the websocket to other origins; add the headers that stop framing."""
        if request.path == WEBSOCKET_PATH and not same_origin(
            request.headers.get("Origin"), self.origin
        ):
            log.warning(
                "refused websocket from %s: Origin %r is not %s",
                peer_of(request),
                request.headers.get("Origin"),
                self.origin,
            )
            return web.Response(
                status=403,
                text=f"Forbidden: this websocket is only for pages of {self.origin}\n",
                headers=SECURITY_HEADERS,
            )
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(SECURITY_HEADERS)
            raise
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if self.full:
            log.warning(
                "busy page for %s: %d sessions running", peer_of(request), len(self.sessions)
            )
            return busy_page(self.options.max_sessions)
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """One tab: start its app process, relay until either side closes, end it."""
        websocket = web.WebSocketResponse(heartbeat=15)
        if not websocket.can_prepare(request).ok:
            return web.Response(
                status=400, text=f"This address is the app's websocket: open {self.public_url}/\n"
            )
        if self.full:
            log.warning("refused session for %s: %d running", peer_of(request), len(self.sessions))
            return busy_page(self.options.max_sessions)
        service = FinanceAppService(
            self.database_url,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        session_id = service.app_service_id[:12]
        # Reserved before the first await, so concurrent tabs cannot overshoot the cap.
        self.sessions[session_id] = Session(service, websocket, peer_of(request))
        try:
            await websocket.prepare(request)
            await service.start(*terminal_size(request))
            log.info(
                "session %s started: pid %s for %s (%d of %d)",
                session_id,
                service.pid,
                self.sessions[session_id].peer,
                len(self.sessions),
                self.options.max_sessions,
            )
            watcher = asyncio.create_task(close_when_exited(service, websocket))
            try:
                await self._process_messages(websocket, service)
            finally:
                watcher.cancel()
        except Exception:
            log.exception("session %s failed", session_id)
        finally:
            await self._end_session(session_id)
        return websocket

    async def _end_session(self, session_id: str) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            return
        status = await session.service.end()  # shared when the handler and shutdown both end it
        if not session.websocket.closed:
            await session.websocket.close()
        if self.sessions.pop(session_id, None) is None:
            return  # the other caller logged it
        minutes, seconds = divmod(int(time.monotonic() - session.service.started), 60)
        log.info(
            "session %s ended: pid %s exit %s after %dm%02ds (%d running)",
            session_id,
            session.service.pid,
            status,
            minutes,
            seconds,
            len(self.sessions),
        )

    def initialize_logging(self) -> None:
        """Plain timestamped lines on stderr: what journald or a log file wants."""
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )

    async def on_startup(self, app: web.Application) -> None:
        log.info(
            "serving finance-tui on %s/ (listening on %s:%d, at most %d sessions)",
            self.public_url,
            self.options.host,
            self.options.port,
            self.options.max_sessions,
        )
        if not is_loopback(self.options.host) and self.public_url.startswith("http:"):
            log.warning(
                "passwords cross the network unencrypted: serve %s through a TLS proxy",
                self.public_url,
            )

    async def on_shutdown(self, app: web.Application) -> None:
        """Stopping the server ends every session and its process."""
        await asyncio.gather(*(self._end_session(sid) for sid in list(self.sessions)))

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM."""
        self.initialize_logging()
        web.run_app(
            self._make_app(),
            host=self.options.host,
            port=self.options.port,
            print=None,
            access_log=logging.getLogger("finance_tui.web.access"),
        )


def terminal_size(request: web.Request) -> tuple[int, int]:
    """The browser's terminal size from the websocket URL, within sane bounds."""

    def number(name: str, default: int, top: int) -> int:
        try:
            return min(max(int(request.query.get(name, default)), 10), top)
        except ValueError:
            return default

    return number("width", 80, 1000), number("height", 24, 500)
