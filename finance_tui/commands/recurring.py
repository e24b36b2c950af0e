"""``finance-tui recurring add|list|remove|run``: recurring records from the command line.

``add``, ``list`` and ``remove`` are for admins (checked in the service). ``run`` needs
no login, so it can go in cron: it only creates what an admin scheduled, as the
schedule's owner, and is audited as this command. It is idempotent: run it as often as
you like, a period is never created twice.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from finance_tui.commands.common import add_user_option, authenticate, open_db
from finance_tui.domain.dto import ScheduleRow
from finance_tui.money import format_decimal
from finance_tui.session import SessionController, run_recurring_unattended
from finance_tui.textsafety import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recurring",
        help="recurring records: add, list, remove schedules; create what is due",
        description="Schedules that create records monthly, weekly or yearly. add, list "
        "and remove: admins. run: creates every due record (no login needed; cron-safe).",
    )
    actions = parser.add_subparsers(dest="recurring_command", metavar="ACTION", required=True)
    _add_parser(actions)
    listing = _action(actions, "list", "list the active schedules with their next due date")
    listing.set_defaults(handler=run_list)
    remove = _action(actions, "remove", "stop a schedule (its records stay)")
    remove.add_argument("id", metavar="ID", help="the schedule's id, as 'recurring list' shows")
    remove.set_defaults(handler=run_remove)
    run = actions.add_parser(
        "run",
        help="create every due record, catching up on missed periods (for cron)",
        description="Create every due record up to today, catching up on missed periods. "
        "Never creates a period twice, even when several runs start at once.",
    )
    run.set_defaults(handler=run_run)


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    sub = actions.add_parser(
        name, help=help_text, description=help_text[:1].upper() + help_text[1:] + " (admins)."
    )
    add_user_option(sub)
    return sub


def _add_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = _action(actions, "add", "add a schedule")
    add.add_argument("--every", required=True, metavar="month|week|year", help="how often")
    add.add_argument(
        "--day",
        metavar="N",
        help="month: day 1-31 (31 = the last day of short months); week: mon..sun or 1-7; "
        "default: the start date's",
    )
    add.add_argument("--kind", required=True, metavar="KIND", help="income or expense")
    add.add_argument("--amount", required=True, metavar="AMOUNT", help="e.g. 1250.00")
    add.add_argument("--category", required=True, metavar="NAME", help="category name")
    add.add_argument("--notes", default="", metavar="TEXT", help="the records' notes")
    add.add_argument("--start", metavar="DATE", help="first possible date (default: today)")
    add.add_argument("--end", metavar="DATE", help="last possible date (default: none)")
    add.set_defaults(handler=run_add)


def _session(args: argparse.Namespace) -> SessionController:
    open_db(args)
    return authenticate(args)


def describe_schedule(row: ScheduleRow) -> str:
    """One line: id, rule, next due date, the record it creates."""
    due = f"next {row.next_due}" if row.next_due else "finished"
    until = f" until {row.end_date}" if row.end_date else ""
    notes = f" {printable(row.notes)!r}" if row.notes else ""
    return (
        f"#{row.id} {row.rule} from {row.start_date}{until} ({due}): {row.kind} "
        f"{format_decimal(row.amount)} {printable(row.category)}{notes}"
    )


def run_add(args: argparse.Namespace) -> int:
    session = _session(args)
    values = {
        "every": args.every,
        "day": args.day,
        "kind": args.kind,
        "amount": args.amount,
        "category": args.category,
        "notes": args.notes,
        "start": args.start,
        "end": args.end,
    }
    row = session.recurring.add(values, today=date.today())
    print(f"Added {describe_schedule(row)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    rows = _session(args).recurring.list()
    if not rows:
        print("No recurring schedules")
    for row in rows:
        print(describe_schedule(row))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    row = _session(args).recurring.remove(args.id)
    print(f"Removed #{row.id} ({row.created_count} record(s) it created stay)")
    return 0


def run_run(args: argparse.Namespace) -> int:
    open_db(args)
    report = run_recurring_unattended(date.today())
    for problem in report.skipped:
        print(f"warning: {printable(problem)}", file=sys.stderr)
    print(f"Created {report.created} recurring record(s)")
    return 0
