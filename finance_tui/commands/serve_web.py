"""``finance-tui serve web``: the options; the server is ``finance_tui/serve/web.py``."""

from __future__ import annotations

import argparse

from finance_tui.commands.common import db_url, open_db
from finance_tui.errors import FinanceError


def register(servers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = servers.add_parser(
        "web",
        help="serve the app to web browsers: each tab runs its own session",
        description="Serve the terminal UI over HTTP: each browser tab runs its own app "
        "process and starts at the login screen. Listens on loopback unless --host says "
        "otherwise; put a TLS reverse proxy in front for other machines (README: Serving a "
        "team).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address people open, e.g. https://finance.example.com behind a TLS proxy; "
        "websockets from any other origin are refused (default: http://HOST:PORT)",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=32,
        metavar="N",
        help="most browser sessions (app processes) at once; more get a 'busy' page (default: 32)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from finance_tui.serve.web import WebServer, check_options

    options = check_options(args.host, args.port, args.public_url, args.max_sessions)
    open_db(args).close()  # create/migrate once, and report a bad database before serving
    server = WebServer(db_url(args), options)
    try:
        server.run()
    except OSError as exc:
        raise FinanceError(
            f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}"
        ) from None
    return 0
