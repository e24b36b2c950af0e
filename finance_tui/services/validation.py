"""Field validation shared by the record form, the services and CSV import (docs/ARCHITECTURE.md: Paging)."""

from __future__ import annotations

import datetime as _dt  # `date` is also a RecordParser method: annotations there use _dt.date
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, Protocol, TypeVar

from finance_tui.domain.values import KINDS, MAX_DATE, MIN_DATE, DateError, parse_date, text_problem
from finance_tui.errors import ValidationError
from finance_tui.models import Category
from finance_tui.money import AmountError, parse_amount, to_minor
from finance_tui.services.csv_source import display

CATEGORY_KINDS = ("income", "expense", "both")
MAX_NOTES = 1000
T = TypeVar("T")


def parse_kind(value: object) -> str:
    text = str(value or "").strip().lower()
    if text not in KINDS:
        raise ValueError("must be income or expense")
    return text


def find_category(value: object) -> Category | None:
    """Category by id or by name (case-insensitive)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Category.get_or_none(Category.id == value)
    text = str(value or "").strip()
    if text.isdigit():
        return Category.get_or_none(Category.id == int(text))
    return Category.get_or_none(Category.name_lower == text.lower())


def check_category(category: Category | None, kind: str | None, raw: object) -> str | None:
    """Return a message if this category cannot take a new/changed record of ``kind``."""
    if category is None:
        return f"unknown category {str(raw)!r}" if str(raw or "").strip() else "is required"
    if category.is_archived:
        return f"'{category.name}' is archived"
    if kind and category.kind not in ("both", kind):
        return f"'{category.name}' is for {category.kind} records, not {kind}"
    return None


@dataclass(frozen=True)
class CleanRecord:
    kind: str
    amount_minor: int
    category_id: int
    date: date
    notes: str


# ---- the one record parser -----------------------------------------------------------
RECORD_FIELDS = ("kind", "amount", "category", "date", "notes")
_FAST_AMOUNT = re.compile(r"(-?)([0-9]{1,8})(?:\.([0-9]{1,2}))?").fullmatch
_KINDS = {"income": "income", "expense": "expense"}
_CACHE_MAX = 100_000  # per parser: caches stay small whatever the size of a file
_NOT_A_NUMBER = "is not a number (use e.g. 1234.50 or 1,234.50)"
_FILE_DATE_HINT = (
    "is not a date (expected YYYY-MM-DD; for other layouts give a date format such as %d/%m/%Y)"
)


class CategoryLookup(Protocol):
    """Where the parser finds categories: the database, or a table loaded once."""

    def by_id(self, category_id: int) -> Category | None: ...

    def by_name(self, name_lower: str) -> Category | None: ...

    def unknown(self, name: str) -> Category | None:
        """The category to use for a name nobody has (one made now), or None."""
        ...


class DatabaseCategories:
    """One query per lookup: the form and the services parse one record at a time."""

    def by_id(self, category_id: int) -> Category | None:
        return Category.get_or_none(Category.id == category_id)

    def by_name(self, name_lower: str) -> Category | None:
        return Category.get_or_none(Category.name_lower == name_lower)

    def unknown(self, name: str) -> Category | None:
        return None


@dataclass(frozen=True)
class ParseRules:
    """What differs between callers: the form types values, an import reads them."""

    today: date
    encoding: str = ""  # the file's encoding, named in messages about undecodable text
    unprotect: Callable[[str], str] | None = None  # undo the export's formula protection
    date_format: str | None = None  # strptime layout of a file's dates (else ISO etc.)
    suggest_date_format: bool = False  # an unknown date layout: mention the date format
    signed_amount: bool = False  # no kind given: the amount's sign says income or expense
    # The form sends back the category a record already has, even a name stored before
    # the text rules (one with a control character): that exact name still finds it.
    stored_names: bool = False


class ParsedRecord(NamedTuple):  # a tuple: made once per imported row, so cheap to make
    kind: str
    amount_minor: int
    category: Category
    date: date
    notes: str

    def clean(self) -> CleanRecord:
        return CleanRecord(self.kind, self.amount_minor, self.category.id, self.date, self.notes)


def collect_problem(
    problems: dict[str, str], name: str, parse: Callable[..., T], *args: object
) -> T | None:
    """``parse(*args)``, or None with the message of its ValueError in ``problems``."""
    try:
        return parse(*args)
    except ValueError as exc:
        problems[name] = str(exc)
        return None


class RecordParser:
    """Raw field values (typed in the form, given to the CLI, read from a CSV file) to
    clean record values: one set of rules and messages for every way records come in.

    Each field method returns the clean value or raises ValueError with the message for
    that field. The fast paths (plain amounts, exact kinds, cached dates and categories)
    give the same results as the full rules; they keep an import free of per-row queries.
    """

    def __init__(self, categories: CategoryLookup, rules: ParseRules):
        self.categories = categories
        self.rules = rules
        self._dates: dict[str, date | str] = {}
        self._seen_categories: dict[tuple[str, str | None], Category | str] = {}

    # ---- fields --------------------------------------------------------------------
    def kind(self, raw: object) -> str:
        return (_KINDS.get(raw) if raw.__class__ is str else None) or parse_kind(raw)

    def amount(self, raw: object) -> tuple[int, str | None]:
        """(cents, the kind its sign gives when ``signed_amount``, else None)."""
        if raw.__class__ is str:
            m = _FAST_AMOUNT(raw)
            if m is not None and (self.rules.signed_amount or not m[1]):
                frac = m[3]
                cents = int(m[2]) * 100 + (int(frac) * (10 if len(frac) == 1 else 1) if frac else 0)
                if cents:
                    return cents, self._sign_kind(bool(m[1]))
        return self._full_amount(raw)

    def _sign_kind(self, negative: bool) -> str | None:
        if not self.rules.signed_amount:
            return None
        return "expense" if negative else "income"

    def _full_amount(self, raw: object) -> tuple[int, str | None]:
        if isinstance(raw, float):
            raise AmountError("must be given as text or Decimal, not a float")
        value = "" if raw is None else raw
        negative = False
        if self.rules.signed_amount and isinstance(value, str):
            value = value.strip()
            negative = value.startswith("-")
            if negative:
                value = value[1:].strip()
                if value.startswith(("-", "+")):
                    raise AmountError(_NOT_A_NUMBER)
        return to_minor(parse_amount(value)), self._sign_kind(negative)  # type: ignore[arg-type]

    def category(self, raw: object, kind: str | None) -> Category:
        """By id or name (case and spacing aside), usable for a record of ``kind``."""
        text = str(raw or "")
        key = (text, kind)
        found = self._seen_categories.get(key)
        if found is None:
            found = _message_of(self._category, text, kind)
            if len(self._seen_categories) < _CACHE_MAX:
                self._seen_categories[key] = found
        if found.__class__ is str:
            raise ValueError(found)
        return found  # type: ignore[return-value]

    def _category(self, raw: str, kind: str | None) -> Category:
        stored = self.categories.by_name(raw.lower()) if self.rules.stored_names else None
        if stored is None and (
            problem := text_problem(raw, multiline=True, encoding=self.rules.encoding)
        ):
            raise ValueError(problem)
        text = self._clean_text(raw)
        category = stored or self._find_category(text)
        if category is None and text and not text.isdigit():
            category = self.categories.unknown(text)
        if category is None:
            raise ValueError(f"unknown category {display(text, 60)}" if text else "is required")
        if problem := check_category(category, kind, raw):
            raise ValueError(problem)
        return category

    def _find_category(self, text: str) -> Category | None:
        lookup = self.categories
        by_id = text.isdigit() and text.isascii() and len(text) <= 18
        found = lookup.by_id(int(text)) if by_id else None
        return (
            found or lookup.by_name(text.lower()) or lookup.by_name(" ".join(text.split()).lower())
        )

    def date(self, raw: object) -> date:
        if raw.__class__ is not str:
            return self._date(raw)
        found = self._dates.get(raw)
        if found is None:
            found = _message_of(self._date, raw)
            if len(self._dates) < _CACHE_MAX:
                self._dates[raw] = found
        if found.__class__ is str:
            raise DateError(found)
        return found  # type: ignore[return-value]

    def _date(self, raw: object) -> _dt.date:
        value = "" if raw is None else raw
        if self.rules.date_format and isinstance(value, str):
            return _date_in_format(value.strip(), self.rules.date_format)
        try:
            return parse_date(value, self.rules.today)  # type: ignore[arg-type]
        except DateError as exc:
            if self.rules.suggest_date_format and str(exc).startswith("is not a date"):
                raise DateError(_FILE_DATE_HINT) from None
            raise

    def notes(self, raw: object) -> str:
        """Stripped notes; checked as typed, since strip() would quietly drop some
        controls (U+001C-U+001F)."""
        typed = "" if raw is None else str(raw)
        if not typed:
            return ""
        # isprintable() is false for every character the text rule refuses (all are Cc,
        # Cf or Cs): ordinary notes skip the rule's regex, a large share of an import
        if not typed.isprintable() and (
            problem := text_problem(typed, multiline=True, encoding=self.rules.encoding)
        ):
            raise ValueError(problem)
        notes = self._clean_text(typed)
        if len(notes) > MAX_NOTES:
            raise ValueError(f"must be at most {MAX_NOTES} characters (got {len(notes)})")
        return notes

    def _clean_text(self, raw: str) -> str:
        text = raw.strip()
        return self.rules.unprotect(text) if self.rules.unprotect else text

    # ---- records -------------------------------------------------------------------
    def fields(
        self, values: Mapping[str, object], problems: dict[str, str], *, kind: str | None = None
    ) -> dict[str, object]:
        """Parse the record fields present in ``values`` (a partial change parses only
        those); each bad one adds its message to ``problems``. ``kind`` is the record's
        kind when ``values`` gives none: a category must suit it."""
        out: dict[str, object] = {}
        if "kind" in values:
            kind = collect_problem(problems, "kind", self.kind, values["kind"])
            out["kind"] = kind
        if "amount" in values:
            cents, sign_kind = collect_problem(
                problems, "amount", self.amount, values["amount"]
            ) or (
                None,
                None,
            )
            out["amount"] = cents
            if self.rules.signed_amount:
                kind = out["kind"] = sign_kind
        if "category" in values:
            out["category"] = collect_problem(
                problems, "category", self.category, values["category"], kind
            )
        for name, parse in (("date", self.date), ("notes", self.notes)):
            if name in values:
                out[name] = collect_problem(problems, name, parse, values[name])
        return out

    def record(self, values: Mapping[str, object], problems: dict[str, str]) -> ParsedRecord | None:
        """A whole record (missing fields count as empty), or None with ``problems``."""
        parsed = self._seen_before(values) or self._record(values, problems)
        return None if problems else parsed

    def _record(
        self, values: Mapping[str, object], problems: dict[str, str]
    ) -> ParsedRecord | None:
        wanted = RECORD_FIELDS[1:] if self.rules.signed_amount else RECORD_FIELDS
        got = self.fields({name: values.get(name) for name in wanted}, problems)
        if problems:
            return None
        return ParsedRecord(
            got["kind"],  # type: ignore[arg-type]
            got["amount"],  # type: ignore[arg-type]
            got["category"],  # type: ignore[arg-type]
            got["date"],  # type: ignore[arg-type]
            got["notes"] or "",  # type: ignore[arg-type]
        )

    # ---- the fast path: most rows of an import ----------------------------------------
    def _seen_before(self, values: Mapping[str, object]) -> ParsedRecord | None:
        get = values.get
        return self.plain(get("kind"), get("amount"), get("category"), get("date"), get("notes"))

    def plain(
        self, kind: object, amount: object, category: object, day: object, notes: object
    ) -> ParsedRecord | None:
        """A valid record of plain text, without the bookkeeping of the full rules: the
        same result (the category and date come from the same cached lookups), at a
        fraction of the cost. None for anything else, which the full rules then parse.
        Positional, so an import hands it a row's cells without building a mapping."""
        m = _FAST_AMOUNT(amount) if amount.__class__ is str else None
        if m is None:
            return None
        if self.rules.signed_amount:
            kind = "expense" if m[1] else "income"
        elif m[1] or kind.__class__ is not str or kind not in _KINDS:
            return None
        frac = m[3]
        cents = int(m[2]) * 100 + (int(frac) * (10 if len(frac) == 1 else 1) if frac else 0)
        if not cents:
            return None
        try:
            found_category = self.category(category, kind)
            found_day = self.date(day)
        except ValueError:
            return None
        clean_notes = self._plain_notes(notes) if notes else ""
        if clean_notes is None:
            return None
        return ParsedRecord(kind, cents, found_category, found_day, clean_notes)

    def _plain_notes(self, notes: object) -> str | None:
        """Printable notes, stripped (and unprotected); None for anything else."""
        if notes.__class__ is not str or not notes.isprintable():
            return None
        text: str = notes.strip()
        if self.rules.unprotect is not None:
            text = self.rules.unprotect(text)
        return text if len(text) <= MAX_NOTES else None


def _message_of(parse: Callable[..., T], *args: object) -> T | str:
    """``parse(*args)``, or the message of its ValueError (cached like a value)."""
    try:
        return parse(*args)
    except ValueError as exc:
        return str(exc)


def _date_in_format(text: str, fmt: str) -> date:
    if not text:
        raise DateError("is required")
    try:
        day = datetime.strptime(text, fmt).date()
    except ValueError:
        raise DateError(f"does not match the date format {fmt!r}") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise DateError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return day


def validate_record(
    data: Mapping[str, object],
    *,
    current: CleanRecord | None = None,
    today: date | None = None,
) -> CleanRecord:
    """Validate a full record, or a partial change on top of ``current``.

    Raises ValidationError with one message per bad field; returns clean values.
    """
    errors = {name: "is not a record field" for name in sorted(set(data) - set(RECORD_FIELDS))}
    rules = ParseRules(today=today or date.today(), stored_names=True)
    parser = RecordParser(DatabaseCategories(), rules)
    if current is None:
        parsed = parser.record(data, errors)
        if parsed is None:
            raise ValidationError(errors)
        return parsed.clean()
    changes = {name: data[name] for name in RECORD_FIELDS if name in data}
    got = parser.fields(changes, errors, kind=current.kind)
    if "kind" in changes and "category" not in changes and "kind" not in errors:
        # a new kind must suit the category the record keeps
        category = Category.get_or_none(Category.id == current.category_id)
        if problem := check_category(category, got["kind"], None):  # type: ignore[arg-type]
            errors["category"] = problem
    if errors:
        raise ValidationError(errors)
    return _changed(current, got)


def _changed(current: CleanRecord, got: Mapping[str, object]) -> CleanRecord:
    category = got.get("category")
    return CleanRecord(
        got.get("kind", current.kind),  # type: ignore[arg-type]
        got.get("amount", current.amount_minor),  # type: ignore[arg-type]
        category.id if category is not None else current.category_id,  # type: ignore[attr-defined]
        got.get("date", current.date),  # type: ignore[arg-type]
        got.get("notes", current.notes),  # type: ignore[arg-type]
    )
