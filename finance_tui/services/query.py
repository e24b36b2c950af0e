"""The one record filter (DESIGN §6) and its translation to SQL.

The same :class:`RecordFilter` drives the records screen, CSV export and the CLI. Bad
values are reported as field errors, never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from uuid import UUID

from peewee import Expression

from finance_tui.dto import Page, RecordRow
from finance_tui.errors import ValidationError
from finance_tui.models import Category, Record, User
from finance_tui.money import to_minor
from finance_tui.services.records import record_select, to_row
from finance_tui.services.validation import (
    KINDS,
    DateError,
    decimal_or_none,
    find_category,
    parse_date,
)

SORT_FIELDS = ("date", "amount", "category", "kind", "created_at")
MAX_LIMIT = 1000
MAX_TEXT = 200


@dataclass(frozen=True)
class RecordFilter:
    kind: str | None = None
    categories: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    text: str = ""
    created_by: UUID | None = None
    include_deleted: bool = False
    only_deleted: bool = False
    sort: str = "date"
    descending: bool = True
    offset: int = 0
    limit: int = 50
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if self.kind is not None and self.kind not in KINDS:
            errors["kind"] = "must be income or expense"
        if self.sort not in SORT_FIELDS:
            errors["sort"] = (
                f"unknown sort field {self.sort!r}; use one of {', '.join(SORT_FIELDS)}"
            )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            errors["date_to"] = "must not be before the start date"
        if (
            self.amount_min is not None
            and self.amount_max is not None
            and self.amount_min > self.amount_max
        ):
            errors["amount_max"] = "must not be less than the minimum"
        for name in ("amount_min", "amount_max"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or value < 0):
                errors[name] = "must be a non-negative decimal amount"
        if not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_LIMIT:
            errors["limit"] = f"must be between 1 and {MAX_LIMIT}"
        if not isinstance(self.offset, int) or self.offset < 0:
            errors["offset"] = "must not be negative"
        if len(self.text) > MAX_TEXT:
            errors["text"] = f"must be at most {MAX_TEXT} characters"
        if errors:
            raise ValidationError(errors)

    def page(self, offset: int, limit: int | None = None) -> RecordFilter:
        return replace(self, offset=offset, limit=limit or self.limit)

    @classmethod
    def from_strings(
        cls, raw: Mapping[str, str | None], *, today: date | None = None
    ) -> RecordFilter:
        """Build from text fields (filter bar, CLI options); every bad value is reported."""
        errors: dict[str, str] = {}

        def text(name: str) -> str:
            return (raw.get(name) or "").strip()

        kind = text("kind").lower() or None
        if kind in ("all", "any", "*"):
            kind = None
        if kind is not None and kind not in KINDS:
            errors["kind"] = "must be income or expense"

        category_ids: list[int] = []
        for name in [n.strip() for n in text("category").split(",") if n.strip()]:
            category = find_category(name)
            if category is None:
                errors["category"] = f"unknown category {name!r}"
            else:
                category_ids.append(category.id)

        dates: dict[str, date | None] = {}
        for name in ("date_from", "date_to"):
            dates[name] = None
            if text(name):
                try:
                    dates[name] = parse_date(text(name), today)
                except DateError as exc:
                    errors[name] = str(exc)

        amount_min = decimal_or_none(raw.get("amount_min"), "amount_min", errors)
        amount_max = decimal_or_none(raw.get("amount_max"), "amount_max", errors)

        created_by = None
        if text("created_by"):
            user = User.get_or_none(User.username_lower == text("created_by").lower())
            if user is None:
                errors["created_by"] = f"unknown user {text('created_by')!r}"
            else:
                created_by = user.id

        sort = text("sort") or "date"
        descending = True
        if sort.startswith("-"):
            sort = sort[1:]
        elif sort.startswith("+"):
            sort, descending = sort[1:], False
        if text("order"):
            if text("order").lower() not in ("asc", "desc"):
                errors["order"] = "must be asc or desc"
            descending = text("order").lower() != "asc"

        if errors:
            raise ValidationError(errors)
        flt = cls(
            kind=kind,
            categories=tuple(category_ids),
            date_from=dates["date_from"],
            date_to=dates["date_to"],
            amount_min=amount_min,
            amount_max=amount_max,
            text=text("text"),
            created_by=created_by,
            sort=sort,
            descending=descending,
        )
        flt.validate()
        return flt


def _text_condition(text: str) -> Expression:
    """Case-insensitive substring of notes or category name (the original's meaning)."""
    matching_categories = Category.select(Category.id).where(Category.name_lower.contains(text))
    return Record.notes.contains(text) | Record.category.in_(matching_categories)


def where_clause(flt: RecordFilter) -> list[Expression]:
    flt.validate()
    conditions: list[Expression] = []
    if flt.only_deleted:
        conditions.append(Record.is_deleted == True)  # noqa: E712
    elif not flt.include_deleted:
        conditions.append(Record.is_deleted == False)  # noqa: E712
    if flt.kind:
        conditions.append(Record.kind == flt.kind)
    if flt.categories:
        conditions.append(Record.category.in_(list(flt.categories)))
    if flt.date_from:
        conditions.append(Record.date >= flt.date_from)
    if flt.date_to:
        conditions.append(Record.date <= flt.date_to)
    if flt.amount_min is not None:
        conditions.append(Record.amount >= to_minor(flt.amount_min))
    if flt.amount_max is not None:
        conditions.append(Record.amount <= to_minor(flt.amount_max))
    if flt.created_by:
        conditions.append(Record.created_by == flt.created_by)
    if flt.text.strip():
        conditions.append(_text_condition(flt.text.strip()))
    return conditions


def order_by(flt: RecordFilter) -> list:
    column = {
        "date": Record.date,
        "amount": Record.amount,
        "category": Category.name_lower,
        "kind": Record.kind,
        "created_at": Record.created_at,
    }[flt.sort]
    keys = (
        [column, Record.created_at, Record.id] if flt.sort != "created_at" else [column, Record.id]
    )
    return [k.desc() if flt.descending else k.asc() for k in keys]


def run_query(flt: RecordFilter, *, with_total: bool = True) -> Page[RecordRow]:
    conditions = where_clause(flt)
    query = record_select()
    if conditions:
        query = query.where(*conditions)
    rows = query.order_by(*order_by(flt)).offset(flt.offset).limit(flt.limit)
    total = run_count(flt) if with_total else None
    return Page([to_row(r) for r in rows], total, flt.offset, flt.limit)


def run_count(flt: RecordFilter) -> int:
    conditions = where_clause(flt)
    query = Record.select()
    if conditions:
        query = query.where(*conditions)
    return query.count()
