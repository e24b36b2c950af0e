"""The layer rules: import contracts, services behind an Authoriser, a pure domain."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from finance_tui.db import open_database
from finance_tui.domain.dto import Principal
from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import PermissionDenied, ValidationError
from finance_tui.migrations import latest_version, schema_version
from finance_tui.permissions import Permission
from finance_tui.services.records import RecordService
from finance_tui.startup import connect

REPO = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(monkeypatch):
    """pyproject.toml's [tool.importlinter] contracts (also a CI step: lint-imports)."""
    monkeypatch.chdir(REPO)
    assert lint_imports(no_cache=True, no_logo=True) == 0


class Recorder:
    """An Authoriser that is not the session controller: records what it was asked."""

    def __init__(self, principal: Principal, allowed: set[Permission]):
        self.principal = principal
        self.allowed = allowed
        self.asked: list[Permission] = []

    def require(self, permission: Permission) -> Principal:
        self.asked.append(permission)
        if permission not in self.allowed:
            raise PermissionDenied(permission.value, self.principal.role)
        return self.principal


def test_a_service_needs_only_an_authoriser(admin):
    created = admin.records.create(
        {"kind": "expense", "amount": "12.50", "category": "food", "date": "2026-03-04"}
    )
    auth = Recorder(admin.principal, {Permission.VIEW_RECORDS})
    page = RecordService(auth).list(RecordFilter())
    assert [row.id for row in page.rows] == [created.id]
    assert page.rows[0].amount == Decimal("12.50")
    assert auth.asked == [Permission.VIEW_RECORDS]


def test_a_refusing_authoriser_stops_the_service_before_any_write(admin, counts):
    before = counts()
    auth = Recorder(admin.principal, {Permission.VIEW_RECORDS})
    data = {"kind": "income", "amount": "1", "category": "salary", "date": "2026-03-04"}
    with pytest.raises(PermissionDenied):
        RecordService(auth).create(data)
    assert auth.asked == [Permission.WRITE_RECORDS]
    assert counts() == before


class Names:
    """A NameLookup from dicts: RecordFilter.from_strings needs no database."""

    def __init__(self, categories: dict[str, int], users: dict[str, uuid.UUID]):
        self.categories = categories
        self.users = users

    def category_id(self, name: str) -> int | None:
        return self.categories.get(name.lower())

    def user_id(self, username: str) -> uuid.UUID | None:
        return self.users.get(username.lower())


def test_record_filter_resolves_names_through_the_lookup():
    ann = uuid.uuid4()
    names = Names({"food": 3, "rent": 7}, {"ann": ann})
    flt = RecordFilter.from_strings(
        {"category": "Food, rent", "created_by": "ANN", "sort": "+amount", "kind": "any"},
        names=names,
        today=date(2026, 11, 25),
    )
    assert (flt.categories, flt.created_by, flt.sort, flt.descending, flt.kind) == (
        (3, 7),
        ann,
        "amount",
        False,
        None,
    )
    with pytest.raises(ValidationError) as caught:
        RecordFilter.from_strings({"category": "food,Pets", "created_by": "bob"}, names=names)
    assert caught.value.fields == {
        "category": "unknown category 'Pets'",
        "created_by": "unknown user 'bob'",
    }


def test_opening_the_database_does_not_migrate_but_starting_does(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    db = open_database(url)
    assert schema_version(db) == 0
    db = connect(url)
    assert schema_version(db) == latest_version()
    assert db.finance_cleaned == ()
