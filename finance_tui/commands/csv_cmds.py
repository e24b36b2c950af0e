"""``finance-tui import FILE`` (admins) and ``finance-tui export [FILE]`` (analysts, admins).

Both go through ``session.csv``, which enforces the permissions. Import is all or
nothing unless ``--skip-invalid``; its report lists every bad row by line number. Export
takes the records screen's filters as options and writes to FILE or standard output.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from finance_tui.commands.common import add_user_option, authenticate, open_db
from finance_tui.config import user_path
from finance_tui.domain.csv_options import (
    ImportOptions,
    ImportRejected,
    format_progress,
    parse_map_option,
    plural,
)
from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import FinanceError
from finance_tui.permissions import Permission
from finance_tui.textsafety import UNSAFE_MULTILINE, printable

if TYPE_CHECKING:
    from finance_tui.session import SessionController


def register(subparsers: argparse._SubParsersAction) -> None:
    imp = subparsers.add_parser(
        "import",
        help="import records from a CSV file (admins)",
        description="Import income/expense records from CSV. Columns are found by header "
        "name: date, kind (income/expense), amount, category, notes (and id, created_at "
        "from an export). Without a kind column a signed amount is used (negative = "
        "expense). All or nothing: if any row is invalid nothing is written and every bad "
        "row is listed. Re-importing a file does not duplicate records.",
    )
    imp.add_argument("file", metavar="FILE", help="CSV file ('-' for standard input)")
    imp.add_argument(
        "--map",
        action="append",
        metavar="FIELD=HEADER",
        help="take FIELD from the column named HEADER (repeat, or comma-separate)",
    )
    imp.add_argument("--delimiter", help="field separator (default: detected from , ; TAB |)")
    imp.add_argument("--encoding", help="text encoding (default: UTF-8, with or without BOM)")
    imp.add_argument(
        "--date-format", metavar="FMT", help="strptime format for non-ISO dates, e.g. %%d/%%m/%%Y"
    )
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and write the rejected ones to a file",
    )
    imp.add_argument(
        "--rejects",
        metavar="FILE",
        help="where --skip-invalid writes rejected rows (default: FILE.rejected.csv)",
    )
    imp.add_argument("--create-categories", action="store_true", help="create unknown categories")
    imp.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    imp.add_argument(
        "--max-errors", type=int, default=100, metavar="N", help="list at most N problems"
    )
    imp.add_argument(
        "--raw",
        action="store_true",
        help="read text cells unchanged (by default one leading ' that export put before "
        "a text beginning with = + - @ TAB CR or ' is removed)",
    )
    add_user_option(imp)
    imp.set_defaults(handler=run_import)

    exp = subparsers.add_parser(
        "export",
        help="export records to CSV (analysts and admins)",
        description="Write the records matching the filters (all of them, no paging) as "
        "UTF-8 CSV with a header row: " + "id, date, kind, amount, category, notes, "
        "created_by, created_at. A text cell beginning with = + - @ TAB CR or ' gets a "
        "leading ' so that spreadsheets do not run it as a formula (import removes it).",
    )
    exp.add_argument("file", metavar="FILE", nargs="?", default="-", help="output ('-': stdout)")
    exp.add_argument("--kind", help="income or expense")
    exp.add_argument("--category", help="category name(s), comma-separated")
    exp.add_argument("--from", dest="date_from", metavar="DATE", help="first date (inclusive)")
    exp.add_argument("--to", dest="date_to", metavar="DATE", help="last date (inclusive)")
    exp.add_argument("--min", dest="amount_min", metavar="AMOUNT", help="smallest amount")
    exp.add_argument("--max", dest="amount_max", metavar="AMOUNT", help="largest amount")
    exp.add_argument("--text", help="search notes and category names")
    exp.add_argument("--created-by", metavar="USER", help="records created by USER")
    deleted = exp.add_mutually_exclusive_group()
    deleted.add_argument(
        "--include-deleted", action="store_true", help="include deleted records (admins)"
    )
    deleted.add_argument("--only-deleted", action="store_true", help="only deleted (admins)")
    exp.add_argument(
        "--sort",
        help="date, amount, category, kind or created_at; prefix + for ascending "
        "(default: date, newest first)",
    )
    exp.add_argument(
        "--view",
        metavar="NAME",
        help="start from your saved view NAME (its filter and sort); the options above "
        "replace the parts of it they name",
    )
    exp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    exp.add_argument(
        "--raw",
        action="store_true",
        help="write text cells unchanged, without the leading ' (no spreadsheet "
        "protection: for programs, not spreadsheets)",
    )
    add_user_option(exp)
    exp.set_defaults(handler=run_export)


class ProgressLine:
    """Rows, rows/s and ETA on stderr, redrawn at most 5 times a second (terminals only)."""

    def __init__(self, verb: str, stream: TextIO | None = None) -> None:
        self.verb = verb
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        self.stream.write("\r" + format_progress(self.verb, done, total, now - self.started))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _binary_stdin() -> BinaryIO:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return buffer
    return io.BytesIO(sys.stdin.read().encode("utf-8"))  # a text stdin (tests, embedding)


def run_import(args: argparse.Namespace) -> int:
    from_stdin = args.file == "-"
    if from_stdin and args.user:
        raise FinanceError(
            "cannot read both the password and the CSV from standard input: run "
            "'finance-tui login' first, or give a file name"
        )
    if args.max_errors < 1:
        raise FinanceError("--max-errors must be at least 1")
    options = ImportOptions(
        mapping=parse_map_option(args.map),
        delimiter=args.delimiter,
        encoding=args.encoding,
        date_format=args.date_format,
        skip_invalid=args.skip_invalid,
        rejects_path=args.rejects,
        create_categories=args.create_categories,
        dry_run=args.dry_run,
        max_errors=args.max_errors,
        raw=args.raw,
    )
    if args.rejects and not args.skip_invalid:
        raise FinanceError("--rejects only makes sense with --skip-invalid")
    open_db(args)
    session = authenticate(args)
    session.require(Permission.IMPORT_CSV)
    progress = ProgressLine("importing")
    source = _binary_stdin() if from_stdin else Path(args.file)
    try:
        report = session.csv.import_file(
            source, options, name="stdin" if from_stdin else args.file, progress=progress
        )
    except ImportRejected as exc:
        progress.close()
        print(f"error: {exc.headline}", file=sys.stderr)
        for line in exc.report.lines():
            print(f"  {line}", file=sys.stderr)
        if exc.report.unknown_categories:
            print(
                "  (add them under Categories, fix the rows, or pass --create-categories)",
                file=sys.stderr,
            )
        return 1
    finally:
        progress.close()
    print(report.summary() + (" — dry run, nothing written" if report.dry_run else ""))
    for line in report.lines():
        print(f"  {line}")
    if report.seconds > 0:
        print(f"  {report.rows:,} rows in {report.seconds:.2f} s ({report.rows_per_second:,.0f}/s)")
    return 0


def export_filter(args: argparse.Namespace, session: SessionController) -> RecordFilter:
    """The filter of the options, on top of the saved view ``--view`` names if any."""
    typed = {
        "kind": args.kind,
        "category": args.category,
        "date_from": args.date_from,
        "date_to": args.date_to,
        "amount_min": args.amount_min,
        "amount_max": args.amount_max,
        "text": args.text,
        "created_by": args.created_by,
        "sort": args.sort,
    }
    if args.view is not None:
        flt = _view_filter(args.view, typed, session)
    else:
        flt = session.record_filter(typed)
    return replace(flt, include_deleted=args.include_deleted, only_deleted=args.only_deleted)


def _view_filter(
    name: str, typed: dict[str, str | None], session: SessionController
) -> RecordFilter:
    """The view's filter with the given options laid over it; what the view dropped
    (an archived category) is a warning on stderr, not an error."""
    view = session.views.load(name)
    for warning in view.warnings:
        print(f"warning: view '{printable(view.name)}': {printable(warning)}", file=sys.stderr)
    given = {key: value for key, value in typed.items() if value is not None}
    if not given:
        return view.filter
    order = "desc" if view.descending else "asc"
    merged = {**view.fields, "sort": view.sort, "order": order, **given}
    if "sort" in given:
        merged.pop("order")
    if "category" in given:
        return session.record_filter(merged)
    merged.pop("category", None)  # kept by id: a renamed category still matches
    return replace(session.record_filter(merged), categories=view.filter.categories)


class TerminalText(io.TextIOBase):
    """Standard output when it is a terminal: the CSV as text to read, with control
    and bidi characters from stored notes escaped (``\\x1b``) instead of obeyed.
    A pipe or a file still gets the exact bytes."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.name = getattr(stream, "name", "<stdout>")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.stream.write(UNSAFE_MULTILINE.sub(lambda m: printable(m.group()), text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def run_export(args: argparse.Namespace) -> int:
    to_stdout = args.file == "-"
    if not to_stdout:
        target = user_path(args.file)
        if target.exists() and not target.is_dir() and not args.force:
            raise FinanceError(f"{target} exists; pass --force to overwrite it")
    open_db(args)
    session = authenticate(args)
    session.require(Permission.EXPORT_CSV)
    flt = export_filter(args, session)
    progress = ProgressLine("exporting")
    try:
        destination = args.file
        if to_stdout:
            destination = TerminalText(sys.stdout) if sys.stdout.isatty() else None
        report = session.csv.export(flt, destination, progress=progress, raw=args.raw)
    finally:
        progress.close()
    if to_stdout:
        sys.stdout.flush()
        print(f"Exported {plural(report.rows, 'record')}", file=sys.stderr)
    else:
        print(report.summary())
    return 0
