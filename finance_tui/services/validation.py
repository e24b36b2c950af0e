"""Field validation shared by the record form, the services and CSV import (docs/ARCHITECTURE.md: Paging)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from finance_tui.domain.values import (
    KINDS,
    DateError,
    parse_date,
    text_problem,
)
from finance_tui.errors import ValidationError
from finance_tui.models import Category
from finance_tui.money import AmountError, parse_amount, to_minor

CATEGORY_KINDS = ("income", "expense", "both")
MAX_NOTES = 1000


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
