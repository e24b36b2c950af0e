"""Command line entry point (README: Command line).

Each subcommand lives in ``finance_tui/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler=fn(args) -> int``.
Errors the user can fix (:class:`FinanceError`, and any database error: busy, server
lost, disk full, ... translated by :func:`finance_tui.db.database_errors`) print one
line and exit 1; command-line usage errors exit 2 (argparse); tracebacks are reserved
for bugs. With no subcommand the TUI opens.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import io
import sys
from collections.abc import Iterator, Sequence

from finance_tui import __version__
from finance_tui.errors import FinanceError, ValidationError

COMMAND_MODULES = (
    "init",
    "demo",
    "user",
    "account",
    "backup",
    "csv_cmds",
    "add",
    "doctor",
    "key",
    "budget",
    "serve",
    "views",
    "recurring",
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="finance-tui",
        description="Shared income and expense records in your terminal. "
        "Without a command, opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"finance-tui {__version__}")
    add_db_option(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"finance_tui.commands.{name}").register(subparsers)
    _add_db_everywhere(parser)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database path or URL (sqlite:///PATH, postgresql://user:pw@host:port/db); "
        "default: $FINANCE_TUI_DATABASE_URL or a SQLite file in your data directory",
    )


def _add_db_everywhere(parser: argparse.ArgumentParser) -> None:
    """Accept ``--db`` after any (sub)command too: ``finance-tui user list --db x.db``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                if "--db" not in sub._option_string_actions:
                    add_db_option(sub)
                _add_db_everywhere(sub)


def format_error(exc: FinanceError) -> str:
    """One line, even when a driver's message spans several."""
    if isinstance(exc, ValidationError):
        text = "; ".join(f"{field}: {msg}" for field, msg in exc.fields.items())
    else:
        text = str(exc)
    from finance_tui.textsafety import printable

    return "error: " + printable(" ".join(text.split()))


# Arguments naming files: on Linux a file name may hold bytes that are not UTF-8.
PATH_ARGUMENTS = frozenset({"db", "file", "rejects", "host_key"})


def _chosen_actions(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> Iterator[argparse.Action]:
    """The arguments of the (sub)commands that ``args`` came from."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                yield from _chosen_actions(chosen, args)
        else:
            yield action


def argument_problem(value: str, *, path: bool) -> str | None:
    """Why a command-line value cannot be used: a NUL, or (text only) a byte that is not
    UTF-8 (Python hands those over as lone surrogates, which no database can store)."""
    if "\x00" in value:
        return "contains a NUL character"
    if not path:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid UTF-8 text (check the terminal's encoding)"
    return None


def check_text_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a bad value up front, naming its option, instead of a traceback later."""
    for action in _chosen_actions(parser, args):
        value = getattr(args, action.dest, None)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str):
                continue
            problem = argument_problem(item, path=action.dest in PATH_ARGUMENTS)
            if problem:
                name = max(action.option_strings, key=len, default=action.metavar or action.dest)
                raise FinanceError(f"{name}: {problem}; nothing was changed")


def _open_tui(args: argparse.Namespace) -> int:
    """Check the URL's form here; the app opens (and migrates) the database itself
    once its login screen is painted, and refuses in one line if it cannot."""
    from finance_tui.dburl import check_url, normalize_url

    url = check_url(normalize_url(getattr(args, "db", None)))
    # No garbage-collection passes on the way to the first frame: importing Textual and
    # composing the login screen make only long-lived objects, and each pass walks them
    # all. The app turns collection back on once the login screen is painted.
    gc.disable()
    try:
        from finance_tui.app import run_app
    except ModuleNotFoundError as exc:
        if exc.name != "finance_tui.app":
            raise
        raise FinanceError("the terminal UI is not part of this installation") from None
    return int(run_app(url) or 0)


def _run_command(args: argparse.Namespace) -> int:
    from finance_tui.db import database_errors

    with database_errors():
        return int(args.handler(args) or 0)


def _names_no_command(argv: Sequence[str]) -> bool:
    """True for ``finance-tui`` and ``finance-tui --db URL``: the TUI path, where the
    commands' modules (and what they import) need not load before the first screen."""
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if token == "--db" and rest:
            rest.pop(0)
        elif not token.startswith("--db="):
            return False
    return True


def _tui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="finance-tui")
    add_db_option(parser)
    return parser


def _tolerant_output() -> None:
    """Print a file name holding bytes that are not UTF-8 (``\\udcff``), not a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper):
            continue  # a replaced stream (embedding, tests) keeps its own rules
        with contextlib.suppress(ValueError, io.UnsupportedOperation):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _tolerant_output()
    parser = _tui_parser() if _names_no_command(argv) else build_parser()
    args = parser.parse_args(argv)
    try:
        check_text_arguments(parser, args)
        if getattr(args, "handler", None) is None:
            return _open_tui(args)
        return _run_command(args)
    except FinanceError as exc:
        print(format_error(exc), file=sys.stderr)
        return EXIT_ERROR
    except EOFError:  # Ctrl+D at a prompt
        print("error: no input; nothing was changed", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        _end_one_shot_sessions()


def _end_one_shot_sessions() -> None:
    """Revoke ``--user`` sessions; only a command can have made one (the TUI path never
    loads the commands' helpers, and need not load them to find there is nothing)."""
    common = sys.modules.get("finance_tui.commands.common")
    if common is not None:
        common.end_one_shot_sessions()
