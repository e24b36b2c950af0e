"""Categories: list for everyone; create, rename, archive for admins."""

from __future__ import annotations

from peewee import fn

from finance_tui.db import advisory_lock, write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import CategoryRow, Principal
from finance_tui.domain.values import text_problem
from finance_tui.errors import NotFound, ValidationError
from finance_tui.models import Category, MonthlyTotal, Record
from finance_tui.permissions import Permission
from finance_tui.services.audit import record_event
from finance_tui.services.validation import CATEGORY_KINDS

MAX_NAME = 50


def clean_name(name: str) -> str:
    """The name as stored: runs of spaces, tabs and line breaks become one space.

    Checked as typed, before that: other whitespace-like controls (U+001C-U+001F,
    U+0085) would otherwise vanish into a space instead of being refused.
    """
    raw = str(name or "")
    if problem := text_problem(raw, multiline=True):
        raise ValidationError({"name": problem})
    text = " ".join(raw.split())
    if not text:
        raise ValidationError({"name": "is required"})
    if len(text) > MAX_NAME:
        raise ValidationError({"name": f"must be at most {MAX_NAME} characters"})
    if text.isdigit():
        raise ValidationError({"name": "must not be only digits"})
    return text


def _to_row(cat: Category, count: int = 0) -> CategoryRow:
    return CategoryRow(cat.id, cat.name, cat.kind, cat.is_archived, count)


def _snapshot(cat: Category) -> dict:
    return {"name": cat.name, "kind": cat.kind, "is_archived": cat.is_archived}


class CategoryService:
    def __init__(self, session: Authoriser):
        self.session = session

    def list(self, *, kind: str | None = None, include_archived: bool = False) -> list[CategoryRow]:
        """Categories usable for ``kind`` (or all), with live record counts from summaries."""
        self.session.require(Permission.VIEW_RECORDS)
        if kind is not None and kind not in CATEGORY_KINDS:
            raise ValidationError({"kind": "must be income, expense or both"})
        counts = dict(
            MonthlyTotal.select(MonthlyTotal.category, fn.SUM(MonthlyTotal.count))
            .group_by(MonthlyTotal.category)
            .tuples()
        )
        query = Category.select().order_by(Category.name_lower)
        if not include_archived:
            query = query.where(Category.is_archived == False)  # noqa: E712
        if kind:
            query = query.where(Category.kind.in_([kind, "both"]))
        return [_to_row(c, int(counts.get(c.id) or 0)) for c in query]

    def create(self, name: str, kind: str = "both") -> CategoryRow:
        principal = self.session.require(Permission.MANAGE_CATEGORIES)
        name = clean_name(name)
        if kind not in CATEGORY_KINDS:
            raise ValidationError({"kind": "must be income, expense or both"})
        with write_transaction():
            advisory_lock("finance_tui.categories")  # PostgreSQL: check-then-insert is atomic
            if Category.get_or_none(Category.name_lower == name.lower()):
                raise ValidationError({"name": f"a category named {name!r} already exists"})
            cat = Category.create(name=name, name_lower=name.lower(), kind=kind)
            record_event(principal, "category_create", "category", cat.id, after=_snapshot(cat))
        return _to_row(cat)

    def rename(self, category_id: int, new_name: str) -> CategoryRow:
        principal = self.session.require(Permission.MANAGE_CATEGORIES)  # before the input
        return self._change(principal, category_id, name=clean_name(new_name))

    def set_kind(self, category_id: int, kind: str) -> CategoryRow:
        principal = self.session.require(Permission.MANAGE_CATEGORIES)
        if kind not in CATEGORY_KINDS:
            raise ValidationError({"kind": "must be income, expense or both"})
        return self._change(principal, category_id, kind=kind)

    def archive(self, category_id: int, archived: bool = True) -> CategoryRow:
        principal = self.session.require(Permission.MANAGE_CATEGORIES)
        return self._change(principal, category_id, is_archived=bool(archived))

    def _change(self, principal: Principal, category_id: int, **changes: object) -> CategoryRow:
        with write_transaction():
            advisory_lock("finance_tui.categories")
            cat = Category.get_or_none(Category.id == category_id)
            if cat is None:
                raise NotFound(f"No category with id {category_id}")
            before = _snapshot(cat)
            kind = changes.get("kind")
            if kind in ("income", "expense"):
                # Narrowing the kind must not leave records (deleted ones can come back)
                # in a category that no longer takes their kind.
                clashing = (
                    Record.select().where(Record.category == cat.id, Record.kind != kind).count()
                )
                if clashing:
                    raise ValidationError(
                        {
                            "kind": f"'{cat.name}' has {clashing} record(s) that are not "
                            f"{kind}; move them first or keep the kind 'both'"
                        }
                    )
            name = changes.get("name")
            if isinstance(name, str):
                clash = Category.get_or_none(
                    (Category.name_lower == name.lower()) & (Category.id != cat.id)
                )
                if clash:
                    raise ValidationError({"name": f"a category named {name!r} already exists"})
                cat.name_lower = name.lower()
            for key, value in changes.items():
                setattr(cat, key, value)
            cat.save()
            action = "category_archive" if "is_archived" in changes else "category_update"
            record_event(principal, action, "category", cat.id, before, _snapshot(cat))
        return _to_row(cat)
