"""The filters screens, the CLI and export hand to the services (docs/ARCHITECTURE.md: Paging).

:class:`RecordFilter` is the one record filter; the services turn it into SQL
(``finance_tui.services.query``). Bad values are reported as field errors, never
ignored. Names typed by the user (categories, users) are resolved through a
:class:`NameLookup`, so this module stays free of the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from finance_tui.domain.values import (
    KINDS,
    DateError,
    decimal_or_none,
    parse_date,
    search_text_problem,
)
from finance_tui.errors import ValidationError

SORT_FIELDS = ("date", "amount", "category", "kind", "created_at")
MAX_LIMIT = 1000
MAX_TEXT = 200


class NameLookup(Protocol):
    """Resolves the names a user types into a filter (the session provides one)."""

    def category_id(self, name: str) -> int | None:
        """The id of the category named (or numbered) ``name``, or None."""
        ...

    def user_id(self, username: str) -> UUID | None:
        """The id of the user called ``username`` (any case), or None."""
        ...


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
        self._check_choices(errors)
        self._check_ranges(errors)
        self._check_paging(errors)
        self._check_text(errors)
        if errors:
            raise ValidationError(errors)

    def _check_choices(self, errors: dict[str, str]) -> None:
        if self.kind is not None and self.kind not in KINDS:
            errors["kind"] = "must be income or expense"
        if self.sort not in SORT_FIELDS:
            errors["sort"] = (
                f"unknown sort field {self.sort!r}; use one of {', '.join(SORT_FIELDS)}"
            )

    def _check_ranges(self, errors: dict[str, str]) -> None:
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

    def _check_paging(self, errors: dict[str, str]) -> None:
        if not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_LIMIT:
            errors["limit"] = f"must be between 1 and {MAX_LIMIT}"
        if not isinstance(self.offset, int) or self.offset < 0:
            errors["offset"] = "must not be negative"

    def _check_text(self, errors: dict[str, str]) -> None:
        if len(self.text) > MAX_TEXT:
            errors["text"] = f"must be at most {MAX_TEXT} characters"
        elif problem := search_text_problem(self.text):
            errors["text"] = problem

    def page(self, offset: int, limit: int | None = None) -> RecordFilter:
        return replace(self, offset=offset, limit=limit or self.limit)

    @classmethod
    def from_strings(
        cls,
        raw: Mapping[str, str | None],
        *,
        names: NameLookup,
        today: date | None = None,
    ) -> RecordFilter:
        """Build from text fields (filter bar, CLI options); every bad value is reported."""
        errors = _unsendable(raw)
        if errors:  # before any lookup: the driver cannot encode these
            raise ValidationError(errors)

        def text(name: str) -> str:
            return (raw.get(name) or "").strip()

        kind = _kind(text("kind"), errors)
        category_ids = _category_ids(text("category"), names, errors)
        date_from = _date(text("date_from"), "date_from", today, errors)
        date_to = _date(text("date_to"), "date_to", today, errors)
        amount_min = decimal_or_none(raw.get("amount_min"), "amount_min", errors)
        amount_max = decimal_or_none(raw.get("amount_max"), "amount_max", errors)
        created_by = _creator(text("created_by"), names, errors)
        sort, descending = _sort_order(text("sort"), text("order"), errors)
        if errors:
            raise ValidationError(errors)
        flt = cls(
            kind=kind,
            categories=category_ids,
            date_from=date_from,
            date_to=date_to,
            amount_min=amount_min,
            amount_max=amount_max,
            text=text("text"),
            created_by=created_by,
            sort=sort,
            descending=descending,
        )
        flt.validate()
        return flt


# ---- the parts of RecordFilter.from_strings; each adds its field's error to ``errors``
def _unsendable(raw: Mapping[str, str | None]) -> dict[str, str]:
    """Fields holding text the database driver could not even be sent."""
    errors: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, str) and (problem := search_text_problem(value)):
            errors[name] = problem
    return errors


def _kind(typed: str, errors: dict[str, str]) -> str | None:
    kind = typed.lower() or None
    if kind in ("all", "any", "*"):
        kind = None
    if kind is not None and kind not in KINDS:
        errors["kind"] = "must be income or expense"
    return kind


def _category_ids(typed: str, names: NameLookup, errors: dict[str, str]) -> tuple[int, ...]:
    category_ids: list[int] = []
    for name in [n.strip() for n in typed.split(",") if n.strip()]:
        category_id = names.category_id(name)
        if category_id is None:
            errors["category"] = f"unknown category {name!r}"
        else:
            category_ids.append(category_id)
    return tuple(category_ids)


def _date(typed: str, name: str, today: date | None, errors: dict[str, str]) -> date | None:
    if not typed:
        return None
    try:
        return parse_date(typed, today)
    except DateError as exc:
        errors[name] = str(exc)
        return None


def _creator(typed: str, names: NameLookup, errors: dict[str, str]) -> UUID | None:
    if not typed:
        return None
    user_id = names.user_id(typed)
    if user_id is None:
        errors["created_by"] = f"unknown user {typed!r}"
    return user_id


def _sort_order(sort: str, order: str, errors: dict[str, str]) -> tuple[str, bool]:
    """``-date`` / ``+date`` / ``date`` and an optional ``asc``/``desc`` that wins."""
    sort = sort or "date"
    descending = True
    if sort.startswith("-"):
        sort = sort[1:]
    elif sort.startswith("+"):
        sort, descending = sort[1:], False
    if order:
        if order.lower() not in ("asc", "desc"):
            errors["order"] = "must be asc or desc"
        descending = order.lower() != "asc"
    return sort, descending


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None  # username, case-insensitive
    entity_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    offset: int = 0
    limit: int = 100
