"""CSV export: exactly the records a :class:`RecordFilter` shows, streamed.

Same filter object and SQL as the records screen (``where_clause``/``order_by``) but no
paging: every matching record is written. Rows come from one SELECT read in batches
(SQLite steps its cursor lazily; PostgreSQL uses a server-side cursor), so memory does
not grow with the table. The database formats each record as one finished CSV line
(quoting included), so Python only joins strings: no ORM objects, no csv module per row.
The file re-imports as the same records: its ``id`` column becomes the fingerprint.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import TextIO

from peewee import JOIN, Case, Expression, Value, fn

from finance_tui.config import user_path
from finance_tui.db import is_postgres
from finance_tui.errors import FinanceError
from finance_tui.models import Category, Record, User, database
from finance_tui.services.csv_progress import Cancel, Progress, cancel_check
from finance_tui.services.query import RecordFilter, order_by, where_clause

COLUMNS = ("id", "date", "kind", "amount", "category", "notes", "created_by", "created_at")
FETCH = 5000
MMAP_BYTES = 256 * 2**20
NEEDS_QUOTES = '",\r\n'  # the csv module leaves a lone CR bare, which breaks re-reading

_Creator = User.alias("export_creator")


class ExportCancelled(FinanceError):
    def __init__(self, rows: int):
        self.rows = rows
        super().__init__(f"export cancelled after {rows:,} rows; no file was written")


@dataclass
class ExportReport:
    destination: str
    rows: int = 0
    seconds: float = 0.0
    columns: tuple[str, ...] = COLUMNS

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return f"Exported {plural(self.rows, 'record')} to {self.destination}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def columns_for(flt: RecordFilter) -> tuple[str, ...]:
    """Deleted records only appear with a ``deleted`` column (the import skips them)."""
    return (*COLUMNS, "deleted") if flt.include_deleted or flt.only_deleted else COLUMNS


def _csv_field(value):
    """``value`` as a CSV field: in double quotes (inner quotes doubled) when it holds a
    delimiter, a quote or a line break, else as it is; RFC 4180's minimal quoting."""
    if is_postgres():
        needs_quotes = Expression(value, "~", f"[{NEEDS_QUOTES}]")
    else:
        needs_quotes = fn.glob(f"*[{NEEDS_QUOTES}]*", value)
    quoted = Value('"').concat(fn.replace(value, '"', '""')).concat('"')
    return Case(None, [(needs_quotes, quoted)], value)


def _line(deleted: bool):
    """One finished CSV line per record, built by the database."""
    columns = _columns(deleted)
    template = ",".join(["%s"] * len(columns))
    return (fn.format if is_postgres() else fn.printf)(template, *columns)


def _columns(deleted: bool) -> list:
    """Every value formatted in SQL; the free text ones quoted as CSV needs."""
    whole = Record.amount / 100  # integer division on both engines
    cents = Record.amount - whole * 100  # (peewee's % operator means LIKE)
    if is_postgres():
        record_id = Record.id.cast("text")
        day = Record.date.cast("text")
        amount = whole.cast("text").concat(".").concat(fn.lpad(cents.cast("text"), 2, "0"))
        created = fn.to_char(Record.created_at, "YYYY-MM-DD HH24:MI:SS.US")
    else:  # SQLite keeps the 32-digit hex form and ISO text
        cut = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
        record_id = fn.substr(Record.id, *cut[0])
        for start, length in cut[1:]:
            record_id = record_id.concat("-").concat(fn.substr(Record.id, start, length))
        day = Record.date
        amount = fn.printf("%d.%02d", whole, cents)
        created = Record.created_at
    columns = [
        record_id,
        day,
        Record.kind,
        amount,
        _csv_field(Category.name),
        _csv_field(Record.notes),
        fn.coalesce(_Creator.username, ""),  # USERNAME_RE: nothing to quote
        created,
    ]
    if deleted:
        columns.append(Case(None, [(Record.is_deleted, "true")], "false"))
    return columns


def _query(flt: RecordFilter):
    query = (
        Record.select(_line(flt.include_deleted or flt.only_deleted))
        .join(Category, on=(Record.category == Category.id))
        .switch(Record)
        .join(_Creator, JOIN.LEFT_OUTER, on=(Record.created_by == _Creator.id))
    )
    conditions = where_clause(flt)
    if conditions:
        query = query.where(*conditions)
    return query.order_by(*order_by(flt))


def count_matching(flt: RecordFilter) -> int:
    """How many records the export will write (for the progress bar's total)."""
    query = Record.select(Record.id).join(Category, on=(Record.category == Category.id))
    conditions = where_clause(flt)
    if conditions:
        query = query.where(*conditions)
    return query.count()


def _batches(flt: RecordFilter) -> Iterator[list[tuple]]:
    """Rows of formatted text in batches of :data:`FETCH`, from one streaming SELECT."""
    sql, params = _query(flt).sql()
    if is_postgres():
        with database.atomic():  # a named cursor streams only inside a transaction
            cursor = database.connection().cursor(name=f"export_{uuid.uuid4().hex}")
            yield from _fetch_batches(cursor, sql, params)
        return
    with _memory_mapped():
        yield from _fetch_batches(database.cursor(), sql, params)


def _fetch_batches(cursor, sql: str, params: Sequence[object]) -> Iterator[list[tuple]]:
    """Run ``sql`` on ``cursor`` and yield its rows :data:`FETCH` at a time; the cursor
    is closed however the caller stops (end, cancel or error)."""
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            yield batch
    finally:
        cursor.close()


@contextlib.contextmanager
def _memory_mapped() -> Iterator[None]:
    """SQLite reads pages straight from a memory map during the export (~1.5x faster
    than copying each page through the page cache); the setting is put back after."""
    before = database.execute_sql("PRAGMA mmap_size").fetchone()[0]
    if before < MMAP_BYTES:
        database.execute_sql(f"PRAGMA mmap_size={MMAP_BYTES}")
    try:
        yield
    finally:
        if before < MMAP_BYTES:
            database.execute_sql(f"PRAGMA mmap_size={int(before)}")


def write_csv(
    flt: RecordFilter,
    handle: TextIO,
    *,
    total: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel = None,
) -> int:
    """Write the header and every matching record to ``handle``; returns the row count."""
    cancelled = cancel_check(cancel)
    handle.write(",".join(columns_for(flt)) + "\n")
    done = 0
    for rows in _batches(flt):
        if cancelled():
            raise ExportCancelled(done)
        handle.write("\n".join(map(itemgetter(0), rows)))
        handle.write("\n")
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return done


def export_csv(
    flt: RecordFilter,
    destination: str | Path | TextIO | None,
    *,
    total: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel = None,
) -> ExportReport:
    """Export to a path (written to a temp file, renamed when complete), a text stream, or
    standard output (``None`` or ``"-"``). The caller checked permissions."""
    started = time.perf_counter()
    if destination is None or destination == "-":
        destination = sys.stdout
    if not isinstance(destination, str | Path):
        rows = write_csv(flt, destination, total=total, progress=progress, cancel=cancel)
        name = getattr(destination, "name", "stream")
        return ExportReport(str(name), rows, time.perf_counter() - started, columns_for(flt))
    path = _target(destination)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            rows = write_csv(flt, handle, total=total, progress=progress, cancel=cancel)
        os.replace(tmp, path)
    except OSError as exc:
        raise FinanceError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return ExportReport(str(path), rows, time.perf_counter() - started, columns_for(flt))


def _target(destination: str | Path) -> Path:
    """The file to write, or a FinanceError saying why it cannot be one (a directory, a
    missing directory, a name too long or with a NUL byte)."""
    path = user_path(destination)
    if "\x00" in str(path):
        raise FinanceError(f"cannot write {str(path)!r}: the name contains a NUL")
    try:
        if path.is_dir():
            raise FinanceError(f"{path} is a directory; give a file name")
        if not path.parent.is_dir():
            raise FinanceError(f"directory {path.parent} does not exist")
        path.exists()  # raises for a name the file system refuses
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FinanceError(f"cannot write {str(path)[:80]!r}: {reason}") from None
    return path


__all__ = ["COLUMNS", "ExportCancelled", "ExportReport", "export_csv", "write_csv"]
