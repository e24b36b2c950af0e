"""``finance-tui add "12.50 fo lunch"``: the records screen's quick add, for scripts.

The same line, the same parser (finance_tui/domain/quick_add.py) and the same save
through the session as the TUI's ``a`` key; a bad line is one ``error:`` line, exit 1.
"""

from __future__ import annotations

import argparse
from datetime import date

from finance_tui.commands.common import add_user_option, authenticate, open_db
from finance_tui.domain.dto import RecordRow
from finance_tui.textsafety import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "add",
        help="add a record from one line: AMOUNT CATEGORY [NOTES] [DATE] (admins)",
        description="Add one record from a line such as '12.50 fo lunch' or "
        "'1,234.50 rent december rent -3': the amount (a leading + marks income for a "
        "category of both kinds), a prefix of an active category's name (it decides "
        "income or expense), notes, and optionally as the last word a date: today, "
        "yesterday, -N (days ago) or YYYY-MM-DD (default today). A last word of that "
        "form is always the date.",
    )
    parser.add_argument(
        "line",
        nargs="+",
        metavar="WORD",
        help="the line, quoted as one argument or as separate words",
    )
    add_user_option(parser)
    parser.set_defaults(handler=run)


def describe_row(row: RecordRow) -> str:
    notes = f"  {printable(row.notes)}" if row.notes else ""
    return f"{row.date} {row.kind} {row.amount:,.2f} {printable(row.category)}{notes}"


def run(args: argparse.Namespace) -> int:
    open_db(args)
    session = authenticate(args)
    row = session.quick_add(" ".join(args.line), today=date.today())
    print(f"Added {describe_row(row)} (id {row.id})")
    return 0
