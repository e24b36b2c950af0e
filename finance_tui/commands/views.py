"""``finance-tui view list``: your saved views of the records screen, for scripts.

Views are saved in the TUI (``w`` on the records screen); ``export --view NAME`` applies
one. Each user sees only their own views (the view service enforces it).
"""

from __future__ import annotations

import argparse
import sys

from finance_tui.commands.common import add_user_option, authenticate, open_db
from finance_tui.textsafety import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "view",
        help="list your saved views of the records screen",
        description="Your saved views (a named filter and sort, saved with w on the "
        "records screen). 'finance-tui export --view NAME' exports the records a view shows.",
    )
    actions = parser.add_subparsers(dest="view_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="list your saved views: name, TAB, what it filters and how it sorts",
        description="List your saved views, one a line: the name, a TAB, then what the "
        "view filters on and how it sorts.",
    )
    add_user_option(listing)
    listing.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    open_db(args)
    session = authenticate(args)
    rows = session.views.list()
    if not rows:
        print("No saved views (save one with w on the records screen)", file=sys.stderr)
    for row in rows:
        print(f"{printable(row.name)}\t{printable(row.summary)}")
    return 0
