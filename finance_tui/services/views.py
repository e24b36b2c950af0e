"""Saved views: each user's named filters and sorts of the records screen.

Anyone who may view records may keep views; a view belongs to one user, and every
query here is limited to the acting user's own rows, so nobody reads, renames or
deletes someone else's (a name that is someone else's view is simply not found).
Saving, renaming and deleting are audited (``view_save``, ``view_rename``,
``view_delete``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from peewee import IntegrityError

from finance_tui.db import write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import Principal
from finance_tui.domain.filters import SORT_FIELDS, RecordFilter
from finance_tui.domain.views import (
    VIEW_FIELDS,
    LoadedView,
    SavedViewRow,
    clean_view_name,
    describe_view,
)
from finance_tui.errors import NotFound, ValidationError, ViewExists
from finance_tui.models import Category, SavedView, utcnow
from finance_tui.permissions import Permission
from finance_tui.services.audit import record_event
from finance_tui.services.query import filter_from_strings
from finance_tui.services.validation import find_category

_TEXT_FIELDS = tuple(name for name in VIEW_FIELDS if name != "category")


def _spec(view: SavedView) -> dict[str, Any]:
    """The stored JSON; a damaged value reads as an empty view rather than failing."""
    try:
        spec = json.loads(view.spec)
    except ValueError:
        return {}
    return spec if isinstance(spec, dict) else {}


def _shown_fields(spec: Mapping[str, Any]) -> dict[str, str]:
    """The filter bar's text the view was saved with (categories by their saved names)."""
    stored = spec.get("fields")
    if not isinstance(stored, dict):
        stored = {}
    fields = {name: str(stored[name]) for name in _TEXT_FIELDS if stored.get(name)}
    names = [str(c.get("name", "")) for c in spec.get("categories", []) if isinstance(c, dict)]
    if names:
        fields["category"] = ",".join(names)
    return fields


def _sort_of(spec: Mapping[str, Any]) -> tuple[str, bool]:
    return str(spec.get("sort", "date")), bool(spec.get("descending", True))


def to_row(view: SavedView) -> SavedViewRow:
    spec = _spec(view)
    sort, descending = _sort_of(spec)
    summary = describe_view(_shown_fields(spec), sort, descending)
    return SavedViewRow(view.id, view.name, summary, view.created_at, view.updated_at)


def _categories(typed: str) -> list[dict[str, Any]]:
    """The typed categories as id and current name; an archived one cannot be kept."""
    kept: list[dict[str, Any]] = []
    for name in [part.strip() for part in typed.split(",") if part.strip()]:
        category = find_category(name)
        if category is None:
            raise ValidationError({"category": f"unknown category {name!r}"})
        if category.is_archived:
            raise ValidationError(
                {"category": f"'{category.name}' is archived; a saved view cannot keep it"}
            )
        if all(entry["id"] != category.id for entry in kept):
            kept.append({"id": category.id, "name": category.name})
    return kept


class ViewService:
    def __init__(self, session: Authoriser):
        self.session = session

    def _find(self, principal: Principal, name: str) -> SavedView:
        """The acting user's view called ``name`` (any case); nobody else's."""
        key = str(name or "").strip().lower()
        view = SavedView.get_or_none(
            (SavedView.owner == principal.user_id) & (SavedView.name_lower == key)
        )
        if view is None:
            raise NotFound(f"you have no saved view named {str(name).strip()!r}")
        return view

    def list(self) -> list[SavedViewRow]:
        """The acting user's views, by name."""
        principal = self.session.require(Permission.VIEW_RECORDS)
        views = (
            SavedView.select()
            .where(SavedView.owner == principal.user_id)
            .order_by(SavedView.name_lower, SavedView.id)
        )
        return [to_row(view) for view in views]

    def save(
        self,
        name: str,
        fields: Mapping[str, str | None],
        *,
        sort: str = "date",
        descending: bool = True,
        replace_existing: bool = False,
        today: date | None = None,
    ) -> SavedViewRow:
        """Keep the filter bar's ``fields`` and the sort as ``name``.

        An invalid filter is refused with the filter bar's own messages. A view of the
        same name is replaced only with ``replace_existing`` (:class:`ViewExists`
        otherwise, so the screen can ask first).
        """
        principal = self.session.require(Permission.VIEW_RECORDS)
        clean = clean_view_name(name)
        spec = self._new_spec(fields, sort, descending, today)
        try:
            with write_transaction():
                view = self._write(principal, clean, spec, replace_existing)
        except IntegrityError:  # a concurrent save of the same name won the race
            raise ViewExists(clean) from None
        return to_row(view)

    def _new_spec(
        self, fields: Mapping[str, str | None], sort: str, descending: bool, today: date | None
    ) -> dict[str, Any]:
        typed = {name: (fields.get(name) or "").strip() for name in VIEW_FIELDS}
        order = "desc" if descending else "asc"
        filter_from_strings({**typed, "sort": sort, "order": order}, today=today)
        return {
            "fields": {name: typed[name] for name in _TEXT_FIELDS if typed[name]},
            "categories": _categories(typed["category"]),
            "sort": sort,
            "descending": descending,
        }

    def _write(
        self, principal: Principal, name: str, spec: dict[str, Any], replace_existing: bool
    ) -> SavedView:
        try:
            view = self._find(principal, name)
        except NotFound:
            view = SavedView.create(
                owner=principal.user_id, name=name, name_lower=name.lower(), spec=json.dumps(spec)
            )
            record_event(
                principal, "view_save", "saved_view", view.id, after={"name": name, **spec}
            )
            return view
        if not replace_existing:
            raise ViewExists(view.name)
        before = {"name": view.name, **_spec(view)}
        view.name, view.name_lower = name, name.lower()
        view.spec, view.updated_at = json.dumps(spec), utcnow()
        view.save()
        record_event(
            principal,
            "view_save",
            "saved_view",
            view.id,
            before=before,
            after={"name": name, **spec},
        )
        return view

    def load(self, name: str, *, today: date | None = None) -> LoadedView:
        """The view's filter and sort as they apply today, with what had to be dropped:
        archived or removed categories, and any value no longer valid."""
        principal = self.session.require(Permission.VIEW_RECORDS)
        view = self._find(principal, name)
        spec = _spec(view)
        warnings: list[str] = []
        category_ids, category_names = _current_categories(spec, warnings)
        fields = {name: value for name, value in _shown_fields(spec).items() if name != "category"}
        sort, descending = _sort_of(spec)
        if sort not in SORT_FIELDS:
            warnings.append(f"dropped the unknown sort {sort!r}")
            sort, descending = "date", True
        flt = _parse_dropping(fields, today, warnings)
        flt = replace(flt, categories=category_ids, sort=sort, descending=descending)
        if category_names:
            fields["category"] = ",".join(category_names)
        return LoadedView(view.name, fields, flt, tuple(warnings))

    def rename(self, name: str, new_name: str) -> SavedViewRow:
        principal = self.session.require(Permission.VIEW_RECORDS)
        clean = clean_view_name(new_name)
        try:
            with write_transaction():
                view = self._find(principal, name)
                clash = SavedView.get_or_none(
                    (SavedView.owner == principal.user_id)
                    & (SavedView.name_lower == clean.lower())
                    & (SavedView.id != view.id)
                )
                if clash is not None:
                    raise ValidationError({"name": f"you already have a view named {clash.name!r}"})
                old = view.name
                view.name, view.name_lower, view.updated_at = clean, clean.lower(), utcnow()
                view.save()
                record_event(
                    principal,
                    "view_rename",
                    "saved_view",
                    view.id,
                    before={"name": old},
                    after={"name": clean},
                )
        except IntegrityError:
            raise ValidationError({"name": f"you already have a view named {clean!r}"}) from None
        return to_row(view)

    def delete(self, name: str) -> SavedViewRow:
        principal = self.session.require(Permission.VIEW_RECORDS)
        with write_transaction():
            view = self._find(principal, name)
            row = to_row(view)
            before = {"name": view.name, **_spec(view)}
            view.delete_instance()
            record_event(principal, "view_delete", "saved_view", row.id, before=before)
        return row


def _current_categories(
    spec: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[int, ...], list[str]]:
    """The view's categories that still exist and are not archived (by id, so a
    renamed one is kept under its new name); a warning for each one dropped."""
    ids: list[int] = []
    names: list[str] = []
    for entry in spec.get("categories", []):
        if not isinstance(entry, dict):
            continue
        saved_name = str(entry.get("name", ""))
        category = Category.get_or_none(Category.id == entry.get("id"))
        if category is None:
            warnings.append(f"dropped category {saved_name!r}, which no longer exists")
        elif category.is_archived:
            warnings.append(f"dropped archived category {category.name!r}")
        else:
            ids.append(category.id)
            names.append(category.name)
    if warnings and not ids:
        warnings.append("the view now shows every category")
    return tuple(ids), names


def _parse_dropping(
    fields: dict[str, str], today: date | None, warnings: list[str]
) -> RecordFilter:
    """The filter of ``fields``; a value that is no longer valid is dropped and named
    (``fields`` loses it too, so the filter bar shows what applies)."""
    try:
        return filter_from_strings(fields, today=today)
    except ValidationError as exc:
        for name, message in exc.fields.items():
            if name in fields:
                warnings.append(f"dropped {name} {fields.pop(name)!r}: {message}")
        return filter_from_strings(fields, today=today)
