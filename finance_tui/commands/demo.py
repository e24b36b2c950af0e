"""``finance-tui demo``: the three demo accounts plus N realistic, seeded sample records."""

from __future__ import annotations

import argparse
import sys
import time

from finance_tui.errors import FinanceError

# Kept in step with finance_tui.demo, which is imported only when the command runs (every
# command module is imported to build the parser, also when the TUI starts).
DEFAULT_RECORDS = 300
DEFAULT_SEED = 2026
MAX_RECORDS = 5_000_000
PROGRESS_FROM = 20_000  # smaller runs finish before a progress line would help


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="add the demo accounts and N realistic sample records (once)",
        description="Create the demo accounts Demo_admin, Demo_analyst and Demo_viewer "
        "(left as they are if they exist) and add N sample records spread over the last "
        "24 months: monthly salary and rent, many small food expenses, transport, bills, "
        "occasional investments. The same --seed gives the same records. A database "
        "that already holds the demo records is left alone (run it as often as you like).",
    )
    parser.add_argument(
        "--records",
        metavar="N",
        type=_count,
        default=DEFAULT_RECORDS,
        help=f"how many records to add (default {DEFAULT_RECORDS}; up to {MAX_RECORDS:,})",
    )
    parser.add_argument(
        "--seed",
        metavar="S",
        type=int,
        default=DEFAULT_SEED,
        help="random seed (default %(default)s)",
    )
    parser.set_defaults(handler=run)


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= MAX_RECORDS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_RECORDS:,}")
    return value


class _Progress:
    """A progress line on stderr, redrawn in place on a terminal."""

    def __init__(self, total: int):
        self.total = total
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // max(total, 1)
        if percent == self.shown or (not self.tty and percent % 10):
            return
        self.shown = percent
        line = f"records: {done:,}/{total:,} ({percent}%) {time.monotonic() - self.start:.1f}s"
        if self.tty:
            print(f"\r{line}", end="" if done < total else "\n", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from finance_tui.commands.common import describe, open_db
    from finance_tui.demo import DEMO_ACCOUNTS, create_demo

    db = open_db(args)
    progress = _Progress(args.records) if args.records >= PROGRESS_FROM else None
    started = time.monotonic()
    try:
        result = create_demo(args.records, seed=args.seed, progress=progress)
    except KeyboardInterrupt:
        raise FinanceError("interrupted: no records were added") from None
    took = time.monotonic() - started
    print(f"Database: {describe(db.finance_url)}")
    for username, email, password, role in DEMO_ACCOUNTS:
        state = "created" if username in result.accounts_created else "exists"
        print(f"  {role:<8} {username:<13} {email:<24} password {password}  ({state})")
    if result.already_present is not None:
        print(f"demo data already present ({result.already_present:,} records); nothing added")
    else:
        print(f"Added {result.records:,} records in {took:.1f}s (seed {args.seed}).")
    return 0
