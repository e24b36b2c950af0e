"""``finance-tui doctor``: check (and with --rebuild, repair) the derived data.

The monthly summaries and the search index are derived from the records and kept in
step by every write; a hand edit of the database, a restore of a partial backup or a
bug could still make them drift. Checking only reads and is open to anyone who can
open the database; rebuilding rewrites them and needs an admin.
"""

from __future__ import annotations

import argparse
import time

MAX_SHOWN = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="verify the monthly summaries and the search index (--rebuild repairs them)",
        description="Recompute the monthly summaries from the records and compare, and "
        "check the notes search index. Exit status 0 when consistent, 1 otherwise. "
        "--rebuild (admin only) recreates both from the records in one transaction.",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild summaries and search index (admin)"
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="with --rebuild: authenticate as NAME (password on stdin or a prompt); "
        "default: the session stored by 'finance-tui login'",
    )
    parser.set_defaults(handler=run)


def check() -> list[str]:
    from finance_tui.models import database
    from finance_tui.services import search, summaries

    return summaries.verify() + search.verify(database.obj)


def run(args: argparse.Namespace) -> int:
    # Imported here: every command module is imported to build the parser at start-up.
    from finance_tui.commands.common import authenticate, describe, open_db
    from finance_tui.db import write_transaction
    from finance_tui.models import database
    from finance_tui.permissions import Permission
    from finance_tui.services import search, summaries
    from finance_tui.services.audit import record_event
    from finance_tui.textsafety import printable

    db = open_db(args)
    print(f"Database: {describe(db.finance_url)}")
    if args.rebuild:
        session = authenticate(args)
        principal = session.require(Permission.WRITE_RECORDS)
        started = time.monotonic()
        before = check()
        with write_transaction():
            summaries.rebuild()
            search.rebuild(database.obj)
            record_event(
                principal, "doctor_rebuild", "database", "", after={"problems": len(before)}
            )
        print(f"Rebuilt summaries and search index in {time.monotonic() - started:.1f}s.")
    problems = check()
    for line in problems[:MAX_SHOWN]:
        print(f"  problem: {printable(line)}")
    if len(problems) > MAX_SHOWN:
        print(f"  ... and {len(problems) - MAX_SHOWN} more")
    if problems:
        print(f"{len(problems)} problem(s) found; run 'finance-tui doctor --rebuild' as an admin.")
        return 1
    print("Summaries and search index are consistent with the records.")
    return 0
