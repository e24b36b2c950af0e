"""``finance-tui serve SERVER``: share the app with a team; one module per server."""

from __future__ import annotations

import argparse

from finance_tui.commands import serve_ssh


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the app to a team (over SSH)",
        description="Serve the app to a team: every person connects with their own account.",
    )
    servers = parser.add_subparsers(dest="server", metavar="SERVER", required=True)
    serve_ssh.register(servers)
