"""Saved views: a user's named filter and sort of the records screen.

A view keeps the filter bar's text as typed, so a relative date (``-30``) stays
relative, and its categories by id and by name: the id still finds a renamed
category, the name says which one was dropped when it was archived or removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from finance_tui.domain.filters import RecordFilter
from finance_tui.domain.values import text_problem
from finance_tui.errors import ValidationError

MAX_VIEW_NAME = 60
# The filter bar's boxes a view keeps, in the bar's order (the category box included).
VIEW_FIELDS = ("kind", "category", "date_from", "date_to", "amount_min", "amount_max", "text")
_FIELD_WORDS = {
    "kind": "",
    "category": "",
    "date_from": "from ",
    "date_to": "to ",
    "amount_min": "min ",
    "amount_max": "max ",
    "text": "search ",
}


def clean_view_name(raw: str) -> str:
    """The name as stored (spaces around it dropped), or a ValidationError saying why not."""
    text = str(raw or "")
    if problem := text_problem(text):
        raise ValidationError({"name": problem})
    text = text.strip()
    if not text:
        raise ValidationError({"name": "is required"})
    if len(text) > MAX_VIEW_NAME:
        raise ValidationError({"name": f"must be at most {MAX_VIEW_NAME} characters"})
    return text


def describe_view(fields: Mapping[str, str], sort: str, descending: bool) -> str:
    """One line naming what a view filters on and how it sorts (picker, CLI); the
    arrows are the records table's own (▼ newest or largest first)."""
    parts = [f"{_FIELD_WORDS[name]}{fields[name]}" for name in VIEW_FIELDS if fields.get(name)]
    filtered = " · ".join(parts) if parts else "every record"
    return f"{filtered} · by {sort} {'▼' if descending else '▲'}"


@dataclass(frozen=True)
class SavedViewRow:
    """A saved view as listed: ``summary`` is :func:`describe_view` of it."""

    id: int
    name: str
    summary: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LoadedView:
    """A view ready to apply: the filter bar's text, the filter it gives, and what
    could not be kept (one sentence each, e.g. "dropped archived category 'Food'")."""

    name: str
    fields: dict[str, str]
    filter: RecordFilter
    warnings: tuple[str, ...] = field(default=())

    @property
    def sort(self) -> str:
        return self.filter.sort

    @property
    def descending(self) -> bool:
        return self.filter.descending
