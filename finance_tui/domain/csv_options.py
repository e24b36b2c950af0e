"""What CSV import and export take and give back: options, reports, column names.

Screens and the CLI build these and show them; the services in
``finance_tui.services.csv_*`` do the work. No file or database access here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from finance_tui.errors import FinanceError

COLUMNS = ("id", "date", "kind", "amount", "category", "notes", "created_by", "created_at")
MAX_LISTED_ERRORS = 100

# Fields the import understands. ``id``/``created_at``/``deleted`` come from our own export
# (and the original system's dump), so an export re-imports as the same records.
FIELDS = ("date", "kind", "amount", "category", "notes", "id", "created_at", "deleted")
ALIASES = {
    "type": "kind",
    "type_of_record": "kind",
    "uuid": "id",
    "is_deleted": "deleted",
    "note": "notes",
    "description": "notes",
    "memo": "notes",
}


class CsvFormatError(FinanceError):
    """The file as a whole cannot be read as the CSV we need (nothing was imported)."""


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


def format_progress(verb: str, done: int, total: int | None, elapsed: float) -> str:
    """``importing 50,000 rows  25,000 rows/s  ETA 0:06`` (CLI line, TUI label)."""
    rate = done / elapsed if elapsed > 0 else 0.0
    text = f"{verb} {done:,} rows  {rate:,.0f} rows/s"
    if total and rate > 0 and total > done:
        remaining = int((total - done) / rate)
        text += f"  ETA {remaining // 60}:{remaining % 60:02d}"
    return text


def parse_map_option(values: list[str] | None) -> dict[str, str]:
    """``["date=Buchungstag", "amount=Betrag,notes=Text"]`` → ``{field: header}``."""
    mapping: dict[str, str] = {}
    for value in values or []:
        for part in value.split(","):
            if not part.strip():
                continue
            field, sep, header = part.partition("=")
            field = field.strip().lower()
            if not sep or not header.strip():
                raise CsvFormatError(f"--map {part.strip()!r}: use FIELD=HEADER, e.g. date=Day")
            if field not in FIELDS:
                raise CsvFormatError(
                    f"--map {part.strip()!r}: unknown field {field!r}; fields are "
                    + ", ".join(FIELDS)
                )
            mapping[field] = header.strip()
    return mapping


def guess_columns(header: list[str]) -> dict[str, int]:
    """Best guess of each field's column (names, then aliases) without raising:
    the starting point of the column-mapping step in the Import screen."""
    lowered = [h.strip().lower() for h in header]
    guess: dict[str, int] = {}
    for i, name in enumerate(lowered):
        if name in FIELDS and name not in guess:
            guess[name] = i
    for i, name in enumerate(lowered):
        field = ALIASES.get(name)
        if field and field not in guess and i not in guess.values():
            guess[field] = i
    return guess
