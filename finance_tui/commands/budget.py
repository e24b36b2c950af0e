"""``finance-tui budget set|list|remove``: monthly budgets per expense category.

Everyone may list; setting and removing need an admin. The checks live in the budget
service, so these commands only parse and print.
"""

from __future__ import annotations

import argparse

from finance_tui.commands.common import add_user_option, authenticate, open_db
from finance_tui.config import settings
from finance_tui.domain.dto import BudgetLine
from finance_tui.money import format_decimal
from finance_tui.session import SessionController
from finance_tui.textsafety import printable

NAME_WIDTH = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "budget",
        help="monthly budgets per expense category",
        description="Monthly budgets per expense category. A budget applies from its "
        "month on (and replaces changes planned after it). Listing: any role; "
        "set and remove: admins only.",
    )
    actions = parser.add_subparsers(dest="budget_command", metavar="ACTION", required=True)

    put = _action(actions, "set", "set a category's monthly budget")
    put.add_argument("category", metavar="CATEGORY", help="an expense (or both) category")
    put.add_argument("amount", metavar="AMOUNT", help="per month, e.g. 250 or 1,200.50")
    put.add_argument(
        "--from", dest="from_month", metavar="YYYY-MM", help="first month (default: this month)"
    )
    put.set_defaults(handler=run_set)

    show = _action(actions, "list", "list budgets against spending for a month")
    show.add_argument("--month", metavar="YYYY-MM", help="the month (default: this month)")
    show.set_defaults(handler=run_list)

    remove = _action(actions, "remove", "remove a category's budget")
    remove.add_argument("category", metavar="CATEGORY")
    remove.add_argument(
        "--from",
        dest="from_month",
        metavar="YYYY-MM",
        help="end it from this month on and keep earlier months (default: remove it entirely)",
    )
    remove.set_defaults(handler=run_remove)


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    sub = actions.add_parser(
        name, help=help_text, description=help_text[:1].upper() + help_text[1:] + "."
    )
    add_user_option(sub)
    return sub


def _session(args: argparse.Namespace) -> SessionController:
    open_db(args)
    return authenticate(args)


def line_text(line: BudgetLine) -> str:
    """One table line; over budget says OVER in words, not only by a minus sign."""
    name = printable(line.category)
    if len(name) > NAME_WIDTH:
        name = name[: NAME_WIDTH - 1] + "…"
    flag = "  OVER" if line.over else ""
    return (
        f"{name:<{NAME_WIDTH}} {format_decimal(line.budget):>14} {format_decimal(line.spent):>14} "
        f"{format_decimal(line.left):>14} {line.used_pct:>5}%{flag}"
    )


def run_set(args: argparse.Namespace) -> int:
    session = _session(args)
    line = session.budgets.set(args.category, args.amount, args.from_month)
    print(
        f"Budget of {printable(line.category)}: {format_decimal(line.budget)} "
        f"{settings().currency} a month from {line.since:%Y-%m} on"
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    session = _session(args)
    lines = session.budgets.for_month(args.month)
    month = f"{lines[0].month:%Y-%m}" if lines else (args.month or "this month")
    if not lines:
        print(f"No budgets for {printable(month)}")
        return 0
    print(f"Budgets for {month} (amounts in {settings().currency})")
    header = f"{'Category':<{NAME_WIDTH}} {'Budget':>14} {'Spent':>14} {'Left':>14} {'Used':>6}"
    print(header)
    for line in lines:
        print(line_text(line))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    session = _session(args)
    name, first = session.budgets.remove(args.category, args.from_month)
    since = f" from {first:%Y-%m} on" if first else ""
    print(f"Removed the budget of {printable(name)}{since}")
    return 0
