"""``finance-tui serve SERVER``: share the app with a team (README: Serving a team).

Each server keeps its options in ``finance_tui/commands/serve_<name>.py`` and its code in
``finance_tui/serve/<name>.py``; this module only lists them.
"""

from __future__ import annotations

import argparse

from finance_tui.commands import serve_ssh, serve_web


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the app to a team (over SSH or in web browsers)",
        description="Serve the terminal UI to a team: every person connects with their own "
        "account, with the same roles and rules as the terminal.",
    )
    servers = parser.add_subparsers(dest="server", metavar="SERVER", required=True)
    serve_ssh.register(servers)
    serve_web.register(servers)
