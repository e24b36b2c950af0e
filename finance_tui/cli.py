"""Command line entry point (DESIGN §8).

Each subcommand lives in ``finance_tui/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler=fn(args) -> int``.
Errors the user can fix (:class:`FinanceError`) print one line and exit 1; tracebacks
are reserved for bugs. With no subcommand the TUI opens.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from finance_tui import __version__
from finance_tui.errors import FinanceError, ValidationError

COMMAND_MODULES = (
    "init",
    "demo",
    "user",
    "account",
    "backup",
    "csv_cmds",
    "doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="finance-tui",
        description="Shared income and expense records in your terminal.",
    )
    parser.add_argument("--version", action="version", version=f"finance-tui {__version__}")
    add_db_option(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"finance_tui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"finance_tui.commands.{name}":
                raise
            continue  # command not built yet
        module.register(subparsers)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database path or URL (sqlite:///PATH, postgresql://user:pw@host:port/db); "
        "default: $FINANCE_TUI_DATABASE_URL or a SQLite file in your data directory",
    )


def format_error(exc: FinanceError) -> str:
    if isinstance(exc, ValidationError):
        return "error: " + "; ".join(f"{field}: {msg}" for field, msg in exc.fields.items())
    return f"error: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "handler", None) is None:
            from finance_tui.app import run_app

            return run_app(getattr(args, "db", None))
        return int(args.handler(args) or 0)
    except FinanceError as exc:
        print(format_error(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
