"""Field validation shared by the record form, the services and CSV import (docs/ARCHITECTURE.md: Paging)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from finance_tui.errors import ValidationError
from finance_tui.models import Category
from finance_tui.money import AmountError, parse_amount, to_minor
from finance_tui.textsafety import unsafe_char_problem

KINDS = ("income", "expense")
CATEGORY_KINDS = ("income", "expense", "both")
MAX_NOTES = 1000
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
_RELATIVE_DAYS = re.compile(r"^[+-]\d{1,5}$", re.ASCII)


class DateError(ValueError):
    pass


def parse_date(value: object, today: date | None = None) -> date:
    """ISO ``2026-11-25``, ``today``, ``yesterday``, ``tomorrow`` or ``-3`` / ``+2`` days."""
    if isinstance(value, datetime):  # a datetime is a date too, but would store its time
        result = value.date()
    elif isinstance(value, date):
        result = value
    else:
        text = str(value).strip().lower()
        today = today or date.today()
        if not text:
            raise DateError("is required")
        if text in ("today", "t"):
            result = today
        elif text in ("yesterday", "y"):
            result = today - timedelta(days=1)
        elif text == "tomorrow":
            result = today + timedelta(days=1)
        elif _RELATIVE_DAYS.match(text):
            result = today + timedelta(days=int(text))
        else:
            try:
                result = date.fromisoformat(text)
            except ValueError:
                raise DateError("is not a date (use YYYY-MM-DD, today, yesterday or -3)") from None
    if not MIN_DATE <= result <= MAX_DATE:
        raise DateError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return result


def text_problem(text: str, *, multiline: bool = False, encoding: str = "") -> str | None:
    """Why ``text`` cannot be stored as typed: the one rule for every text field.

    Refused: C0 controls, DEL, C1 controls and bidi overrides/isolates (each can take
    over the terminal of whoever later looks at the text), named with their position;
    ``multiline`` (notes) keeps tab, LF and CR LF. Also refused: lone surrogates (bytes
    that did not decode); ``encoding`` names the file's encoding in that message.
    """
    if problem := unsafe_char_problem(text, multiline=multiline):
        return problem
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if encoding:
            return f"is not valid {encoding} text (use --encoding)"
        return "contains characters that are not valid text (check the file's encoding)"
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def search_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be searched for, or ``None``.

    A control character can never be typed into stored text (and SQLite's LIKE stops
    at a NUL, so "\\x00" matched every record); a lone surrogate (a byte that is not
    UTF-8 on the command line) cannot even be sent to the database.
    """
    if _CONTROL.search(text):
        return "contains a control character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains characters that are not valid text (check the terminal's encoding)"
    return None


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


def validate_record(
    data: Mapping[str, object],
    *,
    current: CleanRecord | None = None,
    today: date | None = None,
) -> CleanRecord:
    """Validate a full record, or a partial change on top of ``current``.

    Raises ValidationError with one message per bad field; returns clean values.
    """
    errors: dict[str, str] = {}
    allowed = {"kind", "amount", "category", "date", "notes"}
    for unknown in sorted(set(data) - allowed):
        errors[unknown] = "is not a record field"

    def pick(name: str, fallback: object) -> tuple[object, bool]:
        if name in data:
            return data[name], True
        if current is None:
            return None, True
        return fallback, False

    kind = current.kind if current else None
    raw_kind, given = pick("kind", kind)
    if given:
        try:
            kind = parse_kind(raw_kind)
        except ValueError as exc:
            errors["kind"] = str(exc)
            kind = None

    amount_minor = current.amount_minor if current else 0
    raw_amount, given = pick("amount", None)
    if given:
        try:
            if isinstance(raw_amount, float):
                raise AmountError("must be given as text or Decimal, not a float")
            amount_minor = to_minor(parse_amount(raw_amount if raw_amount is not None else ""))
        except AmountError as exc:
            errors["amount"] = str(exc)

    category_id = current.category_id if current else 0
    raw_cat, cat_given = pick("category", None)
    if cat_given or "kind" in data:
        category = find_category(raw_cat) if cat_given else Category.get_or_none(id=category_id)
        problem = check_category(category, kind, raw_cat)
        if problem and not (not cat_given and "kind" in errors):
            errors["category"] = problem
        elif category is not None:
            category_id = category.id

    the_date = current.date if current else date.min
    raw_date, given = pick("date", None)
    if given:
        try:
            the_date = parse_date(raw_date if raw_date is not None else "", today)
        except DateError as exc:
            errors["date"] = str(exc)

    notes = current.notes if current else ""
    raw_notes, given = pick("notes", "")
    if given:
        typed = "" if raw_notes is None else str(raw_notes)
        notes = typed.strip()
        # checked as typed: strip() would quietly drop some controls (U+001C-U+001F)
        if problem := text_problem(typed, multiline=True):
            errors["notes"] = problem
        elif len(notes) > MAX_NOTES:
            errors["notes"] = f"must be at most {MAX_NOTES} characters (got {len(notes)})"

    if errors:
        raise ValidationError(errors)
    return CleanRecord(kind or "", amount_minor, category_id, the_date, notes)


def decimal_or_none(value: object, field: str, errors: dict[str, str]) -> Decimal | None:
    """Parse an optional amount bound (filters): '' → None, bad → message in ``errors``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_amount(value)
    except AmountError as exc:
        errors[field] = str(exc)
        return None
