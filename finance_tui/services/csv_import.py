"""CSV import: stream a file, validate every row like the record form, insert in batches.

Design (the CSV issue):

* Four steps (:mod:`csv_steps`): read -> validate -> de-duplicate -> write, chained by
  :class:`CsvImporter`, which keeps the report.
* All or nothing as everyone sees it, without blocking anyone: rows are written in short
  transactions, tagged with an import batch that keeps them invisible to every read, and
  the whole import becomes visible in one short publishing transaction (:mod:`imports`).
  Other users' saves and logins get the write lock between batches. A failure or a
  cancel removes the batch; after a ``kill -9`` the next start removes it. Memory does
  not grow with the file.
* Rows are parsed by the record form's parser (:class:`validation.RecordParser`) with
  the categories loaded once, so no query runs per row.
* Each row carries an import fingerprint (:class:`csv_steps.Deduplicator`), so importing
  a file again never duplicates a record.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from peewee import IntegrityError

from finance_tui.config import user_path
from finance_tui.db import DiskFull, write_transaction
from finance_tui.domain.csv_options import (
    ImportCancelled,
    ImportOptions,
    ImportRejected,
    ImportReport,
    RowError,
)
from finance_tui.domain.dto import Principal
from finance_tui.errors import FinanceError, ValidationError
from finance_tui.models import Category, Record
from finance_tui.services import bulk, imports
from finance_tui.services.audit import record_event
from finance_tui.services.categories import clean_name
from finance_tui.services.csv_columns import ColumnMap, resolve_columns
from finance_tui.services.csv_export import FORMULA_STARTS, PROTECT
from finance_tui.services.csv_progress import Cancel, Progress, cancel_check
from finance_tui.services.csv_source import CsvFormatError, CsvSource, open_source
from finance_tui.services.csv_steps import (
    BatchWriter,
    Deduplicator,
    Fingerprinted,
    InvalidRow,
    RowValidator,
    SourceRow,
    ValidRow,
    read_rows,
)
from finance_tui.services.validation import ParseRules, RecordParser

if TYPE_CHECKING:
    from _csv import Writer

CHUNK = 5000  # rows validated between progress reports (and per duplicate lookup)
MAX_UNKNOWN_LISTED = 200
_FIELD_ORDER = {
    name: i
    for i, name in enumerate(
        ("row", "id", "date", "kind", "amount", "category", "notes", "created_at", "deleted")
    )
}


_PROTECTED = tuple(PROTECT + start for start in (*FORMULA_STARTS, PROTECT))


def unprotect(text: str) -> str:
    """Undo the export's spreadsheet protection: drop the one ``'`` it puts before a text
    beginning with ``= + - @`` TAB, CR or ``'``. Exactly the cells export changes, so the
    round trip is exact, and a hand-made ``'80s`` keeps its apostrophe. Notes and
    category names are stored stripped, hence the strip after the ``'``."""
    return text[1:].lstrip() if text.startswith(_PROTECTED) else text


class _Rejects:
    """The ``--skip-invalid`` file: original cells plus line and reason; temp until commit."""

    def __init__(self, path: Path, header: list[str], delimiter: str):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._header = [*header, "line", "error"]
        self._delimiter = delimiter
        self._handle: io.TextIOWrapper | None = None
        self._writer: Writer | None = None

    def write(self, row: list[str], line: int, problems: dict[str, str]) -> None:
        if self._writer is None:
            try:
                self._handle = open(  # noqa: SIM115 (closed in finish/discard)
                    self.tmp, "w", encoding="utf-8", errors="surrogateescape", newline=""
                )
            except OSError as exc:
                raise FinanceError(f"cannot write rejected rows to {self.path}: {exc}") from None
            self._writer = csv.writer(self._handle, delimiter=self._delimiter)
            self._writer.writerow(self._header)
        reason = "; ".join(f"{k}: {v}" for k, v in problems.items())
        self._writer.writerow([*row, line, reason])

    def finish(self) -> str | None:
        if self._handle is None:
            return None
        self._handle.close()
        os.replace(self.tmp, self.path)
        return str(self.path)

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self.tmp.unlink(missing_ok=True)


class ImportCategories:
    """The categories an import may use: loaded once, so no row costs a query. With
    ``create``, an unknown name becomes a new category (kind ``both``) noted on the
    import batch, so a discarded import removes it again."""

    def __init__(self, create: bool, created_names: list[str]):
        self.create = create
        self.batch_id: int | None = None  # None: a dry run, nothing is saved
        self.created: list[tuple[int, str]] = []  # (id, name) of categories made here
        self.created_names = created_names
        self.unknown_names: dict[str, str] = {}  # lower name -> first spelling
        self._by_name: dict[str, Category] = {}
        self._by_id: dict[int, Category] = {}

    def load(self) -> None:
        for cat in Category.select():
            self._remember(cat)

    def by_id(self, category_id: int) -> Category | None:
        return self._by_id.get(category_id)

    def by_name(self, name_lower: str) -> Category | None:
        return self._by_name.get(name_lower)

    def unknown(self, name: str) -> Category | None:
        if self.create:
            return self._create(name)
        if len(self.unknown_names) < MAX_UNKNOWN_LISTED:
            self.unknown_names.setdefault(name.lower(), name)
        return None

    def _remember(self, cat: Category) -> None:
        self._by_name[cat.name_lower] = cat
        self._by_id[cat.id] = cat

    def _create(self, text: str) -> Category:
        try:
            name = clean_name(text)
        except ValidationError as exc:
            raise ValueError(
                f"cannot create category {text!r}: {exc.fields.get('name', exc)}"
            ) from None
        existing = self._by_name.get(name.lower())
        if existing is not None:
            return existing
        if self.batch_id is None:  # dry run: check the rows against a category not saved
            cat = Category(
                id=-1 - len(self.created), name=name, name_lower=name.lower(), kind="both"
            )
        else:
            with write_transaction():
                cat = Category.create(name=name, name_lower=name.lower(), kind="both")
                imports.note_category(self.batch_id, cat.id)
        self.created.append((cat.id, name))
        self._remember(cat)
        self.created_names.append(name)
        return cat


class CsvImporter:
    """One import run: read -> validate -> de-duplicate -> write (:mod:`csv_steps`).

    Use :func:`import_csv`. This class chains the steps and keeps the report."""

    def __init__(
        self,
        principal: Principal,
        source: CsvSource,
        columns: ColumnMap,
        options: ImportOptions,
        report: ImportReport,
        rejects: _Rejects | None,
        progress: Progress | None,
        cancelled: Callable[[], bool],
    ):
        self.principal = principal
        self.src = source
        self.opt = options
        self.report = report
        self.rejects = rejects
        self.progress = progress
        self.cancelled = cancelled
        self.failed = False
        self.batch_id: int | None = None
        self.categories = ImportCategories(options.create_categories, report.created_categories)
        rules = ParseRules(
            today=options.today or date.today(),
            encoding=source.encoding,
            unprotect=None if options.raw else unprotect,
            date_format=options.date_format,
            suggest_date_format=True,
            signed_amount=columns.signed_amount,
        )
        self.validator = RowValidator(RecordParser(self.categories, rules), columns)
        self.dedupe = Deduplicator(check_fingerprints=False, check_ids=False)

    # ---- read, validate, de-duplicate --------------------------------------------
    def _fail(self, line: int, row: list[str], problems: dict[str, str]) -> None:
        report = self.report
        report.invalid += 1
        problems = dict(sorted(problems.items(), key=lambda item: _FIELD_ORDER.get(item[0], 99)))
        for name, message in problems.items():
            report.invalid_details += 1
            if len(report.errors) < self.opt.max_errors:
                report.errors.append(RowError(line, name, message))
        if self.rejects is not None:
            self.rejects.write(row, line, problems)
        else:
            self.failed = True

    def rows(self) -> Iterator[bulk.NewRecord]:
        """Validated, not-yet-imported records, streamed chunk by chunk."""
        chunk: list[Fingerprinted] = []
        for row in read_rows(self.src.reader, self.src.header_line):  # type: ignore[arg-type]
            valid = self._validate(row)
            if valid is None or self.failed:
                continue  # all or nothing: keep validating to report every bad row
            chunk.append(self.dedupe.fingerprint(valid))
            if len(chunk) >= CHUNK:
                yield from self._fresh(chunk)
                chunk = []
        yield from self._fresh(chunk)
        self._tick()

    def _validate(self, row: SourceRow) -> ValidRow | None:
        """The row's record; None for a bad row (reported) or one deleted in the source."""
        report = self.report
        report.rows += 1
        if row.error is not None:
            self._fail(row.line, [], {"row": row.error})
            return None
        if report.rows % CHUNK == 0:
            self._tick()
        try:
            valid = self.validator.validate(row.cells)
        except InvalidRow as bad:
            self._fail(row.line, row.cells, bad.problems)
            return None
        if valid is None:
            report.skipped_deleted += 1
        return valid

    def _fresh(self, chunk: list[Fingerprinted]) -> list[bulk.NewRecord]:
        if self.failed or not chunk:
            return []
        fresh = self.dedupe.fresh(chunk)
        self.report.already_imported += len(chunk) - len(fresh)
        return fresh

    def _tick(self) -> None:
        """Progress and cancellation, between chunks (cancel → the batch is discarded)."""
        if self.cancelled():
            raise ImportCancelled(self.report.rows)
        if self.progress is not None:
            rows, total, done = self.report.rows, self.src.total_bytes, self.src.bytes_read
            estimate = None
            if total and done:
                estimate = max(rows, int(rows * total / done)) if done < total else rows
            self.progress(rows, estimate)

    # ---- writing: short batches, then one publishing transaction ------------
    def run(self) -> None:
        """Validate and write every row; publish them all at once (or nothing)."""
        self.categories.load()
        if not self.opt.dry_run:
            self.batch_id = self.categories.batch_id = imports.start(
                self.principal, self.report.source
            )
        try:
            self._publish(self._write())
        except BaseException:
            if self.batch_id is not None:
                imports.discard(self.batch_id)
            raise
        if self.batch_id is not None:
            imports.clear_tags(self.batch_id)

    def _write(self) -> BatchWriter:
        """Every step, the write pulling rows through the others; returns the writer."""
        has_records = Record.select(Record.id).where(imports.visible()).exists()
        self.dedupe.check_ids = has_records
        self.dedupe.check_fingerprints = (
            has_records
            and Record.select(Record.id)
            .where(Record.import_fingerprint.is_null(False), imports.visible())
            .exists()
        )
        writer = BatchWriter(self.batch_id, self.principal.user_id)
        self.report.imported = writer.write(self.rows(), lambda: self.failed)
        self.report.unknown_categories = list(self.categories.unknown_names.values())
        return writer

    def _publish(self, writer: BatchWriter) -> None:
        if self.failed:
            raise ImportRejected(self.report)
        if self.batch_id is not None:
            imports.publish(self.batch_id, writer.deltas, self._audit)

    def _audit(self) -> None:
        """The import's audit events, written in the publishing transaction."""
        report = self.report
        for category_id, name in self.categories.created:
            record_event(
                self.principal,
                "category_create",
                "category",
                category_id,
                after={"name": name, "kind": "both", "is_archived": False, "via": "csv import"},
            )
        record_event(
            self.principal,
            "csv_import",
            "import",
            report.source[-40:],
            after={
                "file": report.source,
                "rows": report.rows,
                "imported": report.imported,
                "already_imported": report.already_imported,
                "invalid": report.invalid,
                "skipped_deleted": report.skipped_deleted,
                "created_categories": report.created_categories,
            },
        )


def _validate_date_format(fmt: str | None) -> None:
    if not fmt:
        return
    try:
        sample = date(2001, 12, 31).strftime(fmt)
        datetime.strptime(sample, fmt)
    except ValueError as exc:
        raise CsvFormatError(f"date format {fmt!r} is not usable: {exc}") from None
    if "%d" not in fmt and "%j" not in fmt:
        raise CsvFormatError(f"date format {fmt!r} has no day (%d); e.g. %d/%m/%Y")


_NOT_REGULAR = (
    (stat.S_ISDIR, "is a directory, not a CSV file"),
    (
        stat.S_ISFIFO,
        "is a pipe, not a regular file (to import from a pipe, give '-' and "
        "pipe it to standard input)",
    ),
    (stat.S_ISCHR, "is a device, not a regular file"),
    (stat.S_ISBLK, "is a device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def _open_regular_file(path: Path) -> BinaryIO:
    """Open ``path`` for reading, refusing anything but a regular file.

    Opened non-blocking, so that a named pipe with no writer is refused instead of
    hanging the open; a device such as ``/dev/zero`` would never end.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise FinanceError(f"no such file: {path}") from None
    except OSError as exc:
        raise FinanceError(f"cannot open {path}: {exc.strerror or exc}") from None
    except ValueError:  # a NUL character: no file system accepts the name
        raise FinanceError(f"cannot open {str(path)!r}: the name contains a NUL") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = next((w for test, w in _NOT_REGULAR if test(mode)), "is not a regular file")
        raise FinanceError(f"{path} {what}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def open_input(
    source: str | Path | BinaryIO, name: str | None
) -> tuple[BinaryIO, str, int | None, bool]:
    """(binary stream, display name, size in bytes or None, whether we must close it)."""
    if isinstance(source, str | Path):
        path = user_path(source)
        handle = _open_regular_file(path)
        size: int | None = os.fstat(handle.fileno()).st_size
        return handle, name or str(path), size, True
    size = None
    try:
        size = os.fstat(source.fileno()).st_size or None
    except (OSError, AttributeError, io.UnsupportedOperation):
        if isinstance(source, io.BytesIO):
            size = len(source.getbuffer())
    return source, name or "stdin", size, False


def rejects_path_for(source_name: str, given: str | Path | None) -> Path:
    if given:
        return user_path(given)
    if source_name in ("stdin", "-", ""):
        return Path("rejected.csv")
    return Path(f"{source_name}.rejected.csv")


def import_csv(
    principal: Principal,
    source: str | Path | BinaryIO,
    options: ImportOptions | None = None,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    cancel: Cancel = None,
) -> ImportReport:
    """Import ``source`` (a path or a binary stream). The caller checked permissions.

    Returns the report when something was committed (or a dry run finished); raises
    :class:`ImportRejected` (nothing written, report attached), :class:`ImportCancelled`
    or :class:`CsvFormatError`.
    """
    options = options or ImportOptions()
    _validate_date_format(options.date_format)
    started = time.perf_counter()
    stream, display_name, size, owned = open_input(source, name)
    rejects: _Rejects | None = None
    try:
        try:
            src = open_source(
                stream,
                display_name,
                encoding=options.encoding,
                delimiter=options.delimiter,
                total_bytes=size,
            )
        except OSError as exc:
            raise FinanceError(f"cannot read {display_name}: {exc}") from None
        columns = resolve_columns(src.header, options.mapping)
        report = ImportReport(
            source=display_name,
            encoding=src.encoding,
            delimiter=src.delimiter,
            columns=columns.describe(src.header),
            ignored_columns=list(columns.ignored),
            dry_run=options.dry_run,
        )
        if options.skip_invalid:
            rejects = _Rejects(
                rejects_path_for(display_name, options.rejects_path), src.header, src.delimiter
            )
        importer = CsvImporter(
            principal, src, columns, options, report, rejects, progress, cancel_check(cancel)
        )
        try:
            importer.run()
        except UnicodeError as exc:  # e.g. a UTF-16 file cut in the middle of a character
            raise CsvFormatError(f"cannot decode {display_name} as {src.encoding}: {exc}") from None
        except OSError as exc:
            raise FinanceError(f"cannot read {display_name}: {exc}") from None
        except DiskFull as exc:
            raise DiskFull(exc.detail, "nothing was imported") from exc
        except IntegrityError as exc:
            raise FinanceError(
                f"the import conflicted with another change ({exc}); nothing was written, try again"
            ) from None
        report.committed = not options.dry_run
        if rejects is not None:
            report.rejects_path = rejects.finish() if not options.dry_run else None
            if options.dry_run:
                rejects.discard()
            rejects = None
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(report.rows, report.rows)
        return report
    finally:
        if rejects is not None:
            rejects.discard()
        if owned:
            stream.close()


__all__ = [
    "CsvFormatError",
    "ImportCancelled",
    "ImportOptions",
    "ImportRejected",
    "ImportReport",
    "RowError",
    "import_csv",
]
