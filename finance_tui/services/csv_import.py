"""CSV import: stream a file, validate every row like the record form, insert in batches.

Design (the CSV issue):

* All or nothing as everyone sees it, without blocking anyone: rows are written in short
  transactions of :data:`BATCH` rows, tagged with an import batch that keeps them
  invisible to every read, and the whole import becomes visible in one short publishing
  transaction (:mod:`imports`). Other users' saves and logins get the write lock between
  batches. A failure or a cancel removes the batch; after a ``kill -9`` the next start
  removes it. Memory does not grow with the file.
* The record form's rules (:mod:`validation`), applied per row with cached category and
  date lookups and a fast path for plain amounts, so no query runs per row.
* Each row carries an import fingerprint: ``id:<uuid>`` when the file has an id column
  (our own export), else a hash of the row's cleaned content. A row whose content already
  occurred earlier in the same file gets ``#k`` appended (its occurrence number), so two
  identical lunches both import while a re-import of the file still matches. Earlier
  occurrences are remembered in a fixed-size Bloom filter (16 MB whatever the file size);
  a false positive only changes the suffix, deterministically for the same file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from uuid import UUID

from peewee import IntegrityError

from finance_tui.config import user_path
from finance_tui.db import DiskFull, write_transaction
from finance_tui.dto import Principal
from finance_tui.errors import FinanceError, ValidationError
from finance_tui.models import Category, Record
from finance_tui.money import AmountError, parse_amount, to_minor
from finance_tui.services import bulk, imports
from finance_tui.services.audit import record_event
from finance_tui.services.categories import clean_name
from finance_tui.services.csv_columns import ColumnMap, resolve_columns
from finance_tui.services.csv_export import FORMULA_STARTS, PROTECT
from finance_tui.services.csv_progress import Cancel, Progress, cancel_check
from finance_tui.services.csv_source import CsvFormatError, CsvSource, display, open_source
from finance_tui.services.validation import (
    MAX_DATE,
    MAX_NOTES,
    MIN_DATE,
    DateError,
    check_category,
    parse_date,
    parse_kind,
    text_problem,
)

if TYPE_CHECKING:
    from _csv import Writer

CHUNK = 5000
BATCH = 2500  # rows in the first write transaction; then paced (imports.Pacer)
MAX_LISTED_ERRORS = 100
BLOOM_BITS = 1 << 27
_BLOOM_MASK = BLOOM_BITS - 1
_DATE_CACHE_MAX = 100_000
_FAST_AMOUNT = re.compile(r"(-?)([0-9]{1,8})(?:\.([0-9]{1,2}))?").fullmatch
_KINDS = {"income": "income", "expense": "expense"}
_FIELD_ORDER = {
    name: i
    for i, name in enumerate(
        ("row", "id", "date", "kind", "amount", "category", "notes", "created_at", "deleted")
    )
}
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"", "0", "false", "no", "n", "f"})


_PROTECTED = tuple(PROTECT + start for start in (*FORMULA_STARTS, PROTECT))


def unprotect(text: str) -> str:
    """Undo the export's spreadsheet protection: drop the one ``'`` it puts before a text
    beginning with ``= + - @`` TAB, CR or ``'``. Exactly the cells export changes, so the
    round trip is exact, and a hand-made ``'80s`` keeps its apostrophe. Notes and
    category names are stored stripped, hence the strip after the ``'``."""
    return text[1:].lstrip() if text.startswith(_PROTECTED) else text


class ImportRejected(FinanceError):
    """Invalid rows in an all-or-nothing import: nothing was written; see ``report``."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.headline = f"nothing imported: {report.invalid:,} of {report.rows:,} rows are invalid"
        first = "; ".join(f"line {e.line} {e.field}: {e.message}" for e in report.errors[:3])
        more = report.invalid_details - min(3, len(report.errors))
        super().__init__(f"{self.headline}: {first}" + (f" (and {more:,} more)" if more else ""))


class ImportCancelled(FinanceError):
    def __init__(self, rows: int = 0):
        self.rows = rows
        super().__init__(f"import cancelled after {rows:,} rows; nothing was written")


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportOptions:
    mapping: dict[str, str] = field(default_factory=dict)  # field -> header name
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None  # strptime format for non-ISO dates
    skip_invalid: bool = False
    rejects_path: str | Path | None = None  # default: <file>.rejected.csv
    create_categories: bool = False
    dry_run: bool = False
    max_errors: int = MAX_LISTED_ERRORS
    today: date | None = None  # for relative dates ("today", "-3"); tests fix it
    raw: bool = False  # text cells as they are: no removal of the export's protecting '


@dataclass
class ImportReport:
    source: str
    encoding: str = ""
    delimiter: str = ""
    columns: str = ""
    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    invalid: int = 0
    invalid_details: int = 0  # field errors in total (``errors`` holds the first ones)
    skipped_deleted: int = 0
    errors: list[RowError] = field(default_factory=list)
    unknown_categories: list[str] = field(default_factory=list)
    created_categories: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    committed: bool = False
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        verb = "Would import" if self.dry_run else "Imported"
        parts = [f"{self.already_imported:,} already imported"]
        if self.invalid:
            parts.append(f"{self.invalid:,} invalid rows skipped")
        if self.skipped_deleted:
            parts.append(f"{self.skipped_deleted:,} deleted in the source skipped")
        return (
            f"{verb} {self.imported:,} of {self.rows:,} rows from {self.source} "
            f"({', '.join(parts)})"
        )

    def lines(self) -> list[str]:
        """Every detail worth showing: errors by line, categories, ignored columns."""
        out = [f"line {e.line}: {e.field}: {e.message}" for e in self.errors]
        if self.invalid_details > len(self.errors):
            out.append(
                f"... {self.invalid_details - len(self.errors):,} more problems not listed "
                f"({self.invalid:,} invalid rows in total)"
            )
        if self.unknown_categories:
            out.append("unknown categories: " + ", ".join(repr(c) for c in self.unknown_categories))
        if self.created_categories:
            out.append("created categories: " + ", ".join(repr(c) for c in self.created_categories))
        if self.ignored_columns:
            out.append("ignored columns: " + ", ".join(repr(c) for c in self.ignored_columns))
        if self.rejects_path:
            out.append(f"rejected rows written to {self.rejects_path}")
        return out


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


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


class CsvImporter:
    """One import run. Use :func:`import_csv`; this class holds the per-run caches."""

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
        self.cols = columns
        self.opt = options
        self.report = report
        self.rejects = rejects
        self.progress = progress
        self.cancelled = cancelled
        self.failed = False
        self.today = options.today or date.today()
        self._dates: dict[str, tuple[date | None, str]] = {}
        self._cat_cache: dict[tuple[str, str | None], tuple[int, str] | str] = {}
        self._by_name: dict[str, Category] = {}
        self._by_id: dict[int, Category] = {}
        self._unknown: dict[str, str] = {}  # lower name -> first spelling
        self._bloom = bytearray(BLOOM_BITS // 8)
        self._dups: dict[bytes, int] = {}
        self._check_fingerprints = False
        self._check_ids = False
        self.batch_id: int | None = None
        self._deltas: imports.Deltas = {}
        self._created: list[tuple[int, str]] = []  # categories made by this import

    # ---- lookups (cached: no query per row) --------------------------------
    def _load_categories(self) -> None:
        for cat in Category.select():
            self._by_name[cat.name_lower] = cat
            self._by_id[cat.id] = cat

    def _category(self, raw: str, kind: str | None) -> tuple[int, str] | str:
        """``(id, lower name)`` or the message saying why this row cannot use it."""
        if problem := text_problem(raw, multiline=True, encoding=self.src.encoding):
            return problem
        text = raw.strip() if self.opt.raw else unprotect(raw.strip())
        by_id = text.isdigit() and text.isascii() and len(text) <= 18
        cat = self._by_id.get(int(text)) if by_id else None
        if cat is None:
            cat = self._by_name.get(text.lower()) or self._by_name.get(
                " ".join(text.split()).lower()
            )
        if cat is None and text and not text.isdigit():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return f"is not valid {self.src.encoding} text (use --encoding)"
            if self.opt.create_categories:
                created = self._create_category(text)
                if isinstance(created, str):
                    return created
                cat = created
            else:
                if len(self._unknown) < 200:
                    self._unknown.setdefault(text.lower(), text)
                return f"unknown category {display(text, 60)}"
        if cat is None:
            return f"unknown category {display(text, 60)}" if text else "is required"
        problem = check_category(cat, kind, raw)
        result = problem if problem else (cat.id, cat.name_lower)
        self._cat_cache[(raw, kind)] = result
        return result

    def _create_category(self, text: str) -> Category | str:
        try:
            name = clean_name(text)
        except ValidationError as exc:
            return f"cannot create category {text!r}: {exc.fields.get('name', exc)}"
        existing = self._by_name.get(name.lower())
        if existing is not None:
            return existing
        if self.batch_id is None:  # dry run: check the rows against a category not saved
            cat = Category(
                id=-1 - len(self._created), name=name, name_lower=name.lower(), kind="both"
            )
        else:
            with write_transaction():
                cat = Category.create(name=name, name_lower=name.lower(), kind="both")
                imports.note_category(self.batch_id, cat.id)
        self._created.append((cat.id, name))
        self._by_name[cat.name_lower] = cat
        self._by_id[cat.id] = cat
        self.report.created_categories.append(name)
        return cat

    def _date(self, raw: str) -> date:
        text = raw.strip()
        fmt = self.opt.date_format
        if fmt:
            if not text:
                raise DateError("is required")
            try:
                day = datetime.strptime(text, fmt).date()
            except ValueError:
                raise DateError(f"does not match the date format {fmt!r}") from None
            if not MIN_DATE <= day <= MAX_DATE:
                raise DateError(f"must be between {MIN_DATE} and {MAX_DATE}")
            return day
        try:
            return parse_date(text, self.today)
        except DateError as exc:
            if str(exc).startswith("is not a date"):
                raise DateError(
                    "is not a date (expected YYYY-MM-DD; for other layouts give a date "
                    "format such as %d/%m/%Y)"
                ) from None
            raise

    @staticmethod
    def _slow_amount(raw: str, signed: bool) -> tuple[int, bool]:
        """Full parse with the form's messages; returns (cents, negative)."""
        text = raw.strip()
        negative = signed and text.startswith("-")
        if negative:
            text = text[1:].strip()
            if text.startswith(("-", "+")):
                raise AmountError("is not a number (use e.g. 1234.50 or 1,234.50)")
        return to_minor(parse_amount(text)), negative

    @staticmethod
    def _created_at(raw: str) -> datetime | None:
        text = raw.strip()
        if not text:
            return None
        try:
            return _naive_utc(datetime.fromisoformat(text))
        except ValueError:
            raise ValueError("is not a date and time (YYYY-MM-DD HH:MM:SS)") from None

    # ---- the row loop ------------------------------------------------------
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
        """Validated, not-yet-imported rows, streamed chunk by chunk."""
        report, src, idx = self.report, self.src, self.cols.index
        reader = src.reader
        signed = self.cols.signed_amount
        i_date, i_amount, i_cat = idx["date"], idx["amount"], idx["category"]
        i_kind = idx.get("kind", 1 << 30)
        i_notes = idx.get("notes", 1 << 30)
        i_id = idx.get("id", 1 << 30)
        i_created = idx.get("created_at", 1 << 30)
        i_deleted = idx.get("deleted", 1 << 30)
        has_extras = any(k in idx for k in ("id", "created_at", "deleted"))
        keep_text = self.opt.raw
        dates, cat_cache = self._dates, self._cat_cache
        fast_amount, kinds, blake = _FAST_AMOUNT, _KINDS, hashlib.blake2b
        bloom, dups, mask = self._bloom, self._dups, _BLOOM_MASK
        pending: list[bulk.NewRecord] = []
        new_record = bulk.NewRecord
        pending_ids: list[tuple[int, UUID]] = []
        prev_line = src.header_line
        while True:
            try:
                row = next(reader)  # type: ignore[call-overload]
            except StopIteration:
                break
            except csv.Error as exc:
                line, prev_line = prev_line + 1, reader.line_num  # type: ignore[attr-defined]
                report.rows += 1
                self._fail(line, [], {"row": f"cannot be read as CSV ({exc})"})
                continue
            line, prev_line = prev_line + 1, reader.line_num  # type: ignore[attr-defined]
            n = len(row)
            if n <= 1 and (n == 0 or not row[0].strip()):
                continue  # blank line
            report.rows += 1
            if report.rows % CHUNK == 0:
                self._tick()
            problems: dict[str, str] | None = None
            created_at = None
            record_id = None
            if has_extras:
                raw = row[i_deleted].strip().lower() if i_deleted < n else ""
                if raw in _TRUE:
                    report.skipped_deleted += 1
                    continue
                if raw not in _FALSE:
                    problems = {"deleted": "must be true or false"}
                if i_created < n:
                    try:
                        created_at = self._created_at(row[i_created])
                    except ValueError as exc:
                        problems = problems or {}
                        problems["created_at"] = str(exc)
                if i_id < n and row[i_id].strip():
                    try:
                        record_id = UUID(row[i_id].strip())
                    except ValueError:
                        problems = problems or {}
                        problems["id"] = "is not a record id (UUID)"

            # kind (or the sign of the amount)
            kind: str | None = None
            if not signed:
                raw = row[i_kind] if i_kind < n else ""
                kind = kinds.get(raw)
                if kind is None:
                    try:
                        kind = parse_kind(raw)
                    except ValueError as exc:
                        problems = problems or {}
                        problems["kind"] = str(exc)

            # amount
            raw = row[i_amount] if i_amount < n else ""
            cents = 0
            m = fast_amount(raw)
            if m is not None and (signed or not m[1]):
                frac = m[3]
                cents = int(m[2]) * 100 + (int(frac) * (10 if len(frac) == 1 else 1) if frac else 0)
                if signed:
                    kind = "expense" if m[1] else "income"
            if cents == 0:
                try:
                    cents, negative = self._slow_amount(raw, signed)
                    if signed:
                        kind = "expense" if negative else "income"
                except AmountError as exc:
                    problems = problems or {}
                    problems["amount"] = str(exc)

            # category (cached per raw text and kind)
            raw = row[i_cat] if i_cat < n else ""
            found = cat_cache.get((raw, kind))
            if found is None:
                found = self._category(raw, kind)
            if isinstance(found, str):
                problems = problems or {}
                problems["category"] = found
                category_id, category_key = 0, ""
            else:
                category_id, category_key = found

            # date
            raw = row[i_date] if i_date < n else ""
            cached = dates.get(raw)
            if cached is None:
                try:
                    parsed = self._date(raw)
                    cached = (parsed, parsed.isoformat())
                    if len(dates) < _DATE_CACHE_MAX:
                        dates[raw] = cached
                except DateError as exc:
                    problems = problems or {}
                    problems["date"] = str(exc)
                    cached = (None, "")
            day, day_text = cached

            # notes
            notes = row[i_notes] if i_notes < n else ""
            if notes:
                # isprintable() is false for every character the rule refuses (all are
                # Cc or Cf): ordinary notes skip the rule's regex, a large share of a row
                if not notes.isprintable() and (
                    problem := text_problem(notes, multiline=True, encoding=src.encoding)
                ):
                    problems = problems or {}
                    problems["notes"] = problem
                notes = notes.strip() if keep_text else unprotect(notes.strip())
                if len(notes) > MAX_NOTES:
                    problems = problems or {}
                    problems["notes"] = f"must be at most {MAX_NOTES} characters (got {len(notes)})"

            if problems is not None:
                self._fail(line, row, problems)
                continue
            if self.failed:
                continue  # all or nothing: keep validating to report every bad row

            # fingerprint: the id column, else the cleaned content
            try:
                content = f"{day_text}\x1f{kind}\x1f{cents}\x1f{category_key}\x1f{notes}".encode()
            except UnicodeEncodeError:
                self._fail(
                    line, row, {"notes": f"is not valid {src.encoding} text (use --encoding)"}
                )
                continue
            if record_id is not None:
                base = "id:" + record_id.hex
                digest = blake(base.encode(), digest_size=16).digest()
            else:
                digest = blake(content, digest_size=16).digest()
                # date first: files are mostly in date order, so the unique index on
                # fingerprints grows at a few places instead of at random (much faster)
                base = day_text + digest.hex()
            # occurrence number of this content in the file (Bloom filter, see module doc)
            h = int.from_bytes(digest, "little")
            p1, p2, p3 = h & mask, (h >> 40) & mask, (h >> 80) & mask
            b1, b2, b3 = 1 << (p1 & 7), 1 << (p2 & 7), 1 << (p3 & 7)
            p1, p2, p3 = p1 >> 3, p2 >> 3, p3 >> 3
            if bloom[p1] & b1 and bloom[p2] & b2 and bloom[p3] & b3:
                k = dups.get(digest, 1)
                dups[digest] = k + 1
                fingerprint = f"{base}#{k}"
            else:
                bloom[p1] |= b1
                bloom[p2] |= b2
                bloom[p3] |= b3
                fingerprint = base
            if record_id is not None and fingerprint is base:
                pending_ids.append((len(pending), record_id))
            pending.append(
                new_record(kind, cents, category_id, day, notes, fingerprint, created_at)  # type: ignore[arg-type]
            )

            if len(pending) >= CHUNK:
                yield from self._fresh(pending, pending_ids)
                pending, pending_ids = [], []
        if pending and not self.failed:
            yield from self._fresh(pending, pending_ids)
        self._tick()

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

    def _fresh(
        self, pending: list[bulk.NewRecord], pending_ids: list[tuple[int, UUID]]
    ) -> list[bulk.NewRecord]:
        """Drop rows already in the database (by fingerprint, or by record id)."""
        if self.failed:
            return []
        seen: set[str] = set()
        if self._check_fingerprints:
            prints = [r.fingerprint for r in pending]
            seen = {
                fp
                for (fp,) in Record.select(Record.import_fingerprint)
                .where(Record.import_fingerprint.in_(prints), imports.visible())
                .tuples()
            }
        gone: set[int] = set()
        if self._check_ids and pending_ids:
            existing = {
                rid if isinstance(rid, UUID) else UUID(str(rid))
                for (rid,) in Record.select(Record.id)
                .where(Record.id.in_([rid for _, rid in pending_ids]), imports.visible())
                .tuples()
            }
            gone = {pos for pos, rid in pending_ids if rid in existing}
        if not seen and not gone:
            return pending
        fresh = [r for i, r in enumerate(pending) if r.fingerprint not in seen and i not in gone]
        self.report.already_imported += len(pending) - len(fresh)
        return fresh

    # ---- writing: short batches, then one publishing transaction ------------
    def run(self) -> None:
        """Validate and write every row; publish them all at once (or nothing)."""
        self._load_categories()
        if not self.opt.dry_run:
            self.batch_id = imports.start(self.principal, self.report.source)
        try:
            self._check_ids = Record.select(Record.id).where(imports.visible()).exists()
            self._check_fingerprints = (
                self._check_ids
                and Record.select(Record.id)
                .where(Record.import_fingerprint.is_null(False), imports.visible())
                .exists()
            )
            self.report.imported = self._write(self.rows())
            self.report.unknown_categories = list(self._unknown.values())
            if self.failed:
                raise ImportRejected(self.report)
            if self.batch_id is not None:
                imports.publish(self.batch_id, self._deltas, self._audit)
        except BaseException:
            if self.batch_id is not None:
                imports.discard(self.batch_id)
            raise
        if self.batch_id is not None:
            imports.clear_tags(self.batch_id)

    def _write(self, rows: Iterator[bulk.NewRecord]) -> int:
        """Insert in short transactions (none for a dry run); returns the rows written."""
        written = 0
        actor = self.principal.user_id
        pacer = imports.Pacer(BATCH)
        while batch := [r.as_tuple() for r in islice(rows, pacer.rows)]:
            written += len(batch)
            if self.batch_id is None or self.failed:
                continue  # dry run, or a rejected import still listing its problems
            with pacer.hold():  # pauses after the commit: waiting writers take the lock
                imports.heartbeat(self.batch_id)
                bulk.insert_tuples(batch, actor, import_batch=self.batch_id)
            imports.add_deltas(self._deltas, batch)
        return written

    def _audit(self) -> None:
        """The import's audit events, written in the publishing transaction."""
        report = self.report
        for category_id, name in self._created:
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
