"""The role × permission matrix, exhaustively, through the services (not the UI).

Expected outcomes come from a literal copy of the role table (README and
docs/ARCHITECTURE.md, parsed below), never from ``ROLE_PERMISSIONS`` — that would
only test the code against itself. Every
forbidden call must raise PermissionDenied naming the action, change nothing, and write
exactly one ``permission_denied`` audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from conftest import PASSWORD, restore_sqlite_copy, save_sqlite_copy

from finance_tui.db import write_transaction
from finance_tui.domain.filters import AuditFilter, RecordFilter
from finance_tui.errors import NotFound, PermissionDenied
from finance_tui.models import ALL_MODELS, AuditEvent, Category, Record
from finance_tui.permissions import ROLE_PERMISSIONS, Permission, Role
from finance_tui.services.users import insert_user
from finance_tui.session import SessionController

# Copied verbatim from the role table (README, docs/ARCHITECTURE.md).
DESIGN_TABLE = """
| action | viewer | analyst | admin |
|---|:-:|:-:|:-:|
| dashboard (KPIs, charts, recent records) | ✓ | ✓ | ✓ |
| records list, filter, search, sort, open a record read-only | ✓ | ✓ | ✓ |
| analytics (period comparison, monthly trends, category drill-down) | – | ✓ | ✓ |
| export CSV | – | ✓ | ✓ |
| create / edit / delete / restore records, view deleted | – | – | ✓ |
| import CSV | – | – | ✓ |
| manage categories | – | – | ✓ |
| manage users (create, role, activate/deactivate, reset password) | – | – | ✓ |
| audit log | – | – | ✓ |
| change own password, manage own SSH keys, log out | ✓ | ✓ | ✓ |
| set or remove budgets (everyone sees them) | – | – | ✓ |
| manage recurring schedules (add, list, remove) | – | – | ✓ |
"""

ROLES = ("viewer", "analyst", "admin")
OWN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdk1h0jhGq1m0WJ0qOxYmVGi0nBvHq1p6g2pJxQ0Vb3 own"
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3d4yZq5x8mKqv9xUjX3wR3rYk0m1Gd3pQz4cJ3l7Wn other"
TODAY = date(2026, 11, 25)


def parse_design_table(text: str) -> dict[str, dict[str, bool]]:
    """{action row label: {role: allowed}} from the markdown table."""
    lines = [ln.strip() for ln in text.strip().splitlines()]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        marks = dict(zip(header[1:], cells[1:], strict=True))
        assert set(marks.values()) <= {"✓", "–"}, line
        table[cells[0]] = {role: marks[role] == "✓" for role in ROLES}
    return table


EXPECTED = parse_design_table(DESIGN_TABLE)


@dataclass
class World:
    """Objects the representative calls act on (made fresh for every test)."""

    live_id: object
    live_version: int
    deleted_id: object
    category_id: int
    other_user_id: object
    csv_path: str
    schedule_id: int


@dataclass(frozen=True)
class Call:
    row: str  # the DESIGN table row this call belongs to
    permission: Permission | None  # None: must never be refused (log out)
    name: str
    run: Callable[[SessionController, World], object]


def _csv_export(s: SessionController, w: World) -> object:
    return s.csv.export(RecordFilter(), w.csv_path + ".out")


def _csv_import(s: SessionController, w: World) -> object:
    report = s.csv.import_file(w.csv_path)
    assert Record.select().where(Record.notes == "imported").count() == 1
    return report


ROW_DASH, ROW_RECORDS, ROW_ANALYTICS, ROW_EXPORT, ROW_WRITE, ROW_IMPORT, ROW_CATS, ROW_USERS = list(
    EXPECTED
)[:8]
ROW_AUDIT, ROW_OWN, ROW_BUDGETS, ROW_RECURRING = list(EXPECTED)[8:12]

CALLS = [
    Call(ROW_DASH, Permission.VIEW_DASHBOARD, "dashboard.summary", lambda s, w: s.dashboard.summary("all", today=TODAY)),
    Call(ROW_RECORDS, Permission.VIEW_RECORDS, "records.list", lambda s, w: s.records.list(RecordFilter(text="x"))),
    Call(ROW_RECORDS, Permission.VIEW_RECORDS, "records.count", lambda s, w: s.records.count(RecordFilter())),
    Call(ROW_RECORDS, Permission.VIEW_RECORDS, "records.get", lambda s, w: s.records.get(w.live_id)),
    Call(ROW_RECORDS, Permission.VIEW_RECORDS, "categories.list", lambda s, w: s.categories.list()),
    Call(ROW_ANALYTICS, Permission.VIEW_ANALYTICS, "analytics.compare", lambda s, w: s.analytics.compare("this_month", today=TODAY)),
    Call(ROW_ANALYTICS, Permission.VIEW_ANALYTICS, "analytics.trends", lambda s, w: s.analytics.trends(12, today=TODAY)),
    Call(ROW_ANALYTICS, Permission.VIEW_ANALYTICS, "analytics.category_drilldown", lambda s, w: s.analytics.category_drilldown(w.category_id, today=TODAY)),
    Call(ROW_EXPORT, Permission.EXPORT_CSV, "csv.export", _csv_export),
    Call(ROW_WRITE, Permission.WRITE_RECORDS, "records.create", lambda s, w: s.records.create({"kind": "expense", "amount": "3.50", "category": "food", "date": "2026-11-02"})),
    Call(ROW_WRITE, Permission.WRITE_RECORDS, "records.update", lambda s, w: s.records.update(w.live_id, w.live_version, {"amount": "99.99"})),
    Call(ROW_WRITE, Permission.WRITE_RECORDS, "records.delete", lambda s, w: s.records.delete(w.live_id, w.live_version)),
    Call(ROW_WRITE, Permission.WRITE_RECORDS, "records.restore", lambda s, w: s.records.restore(w.deleted_id)),
    Call(ROW_WRITE, Permission.VIEW_DELETED, "records.list(include_deleted)", lambda s, w: s.records.list(RecordFilter(include_deleted=True))),
    Call(ROW_WRITE, Permission.VIEW_DELETED, "records.count(only_deleted)", lambda s, w: s.records.count(RecordFilter(only_deleted=True))),
    Call(ROW_IMPORT, Permission.IMPORT_CSV, "csv.import_file", _csv_import),
    Call(ROW_CATS, Permission.MANAGE_CATEGORIES, "categories.create", lambda s, w: s.categories.create("Travel", "expense")),
    Call(ROW_CATS, Permission.MANAGE_CATEGORIES, "categories.rename", lambda s, w: s.categories.rename(w.category_id, "Groceries")),
    Call(ROW_CATS, Permission.MANAGE_CATEGORIES, "categories.set_kind", lambda s, w: s.categories.set_kind(w.category_id, "both")),
    Call(ROW_CATS, Permission.MANAGE_CATEGORIES, "categories.archive", lambda s, w: s.categories.archive(w.category_id)),
    Call(ROW_USERS, Permission.MANAGE_USERS, "users.list", lambda s, w: s.users.list()),
    Call(ROW_USERS, Permission.MANAGE_USERS, "users.get", lambda s, w: s.users.get(w.other_user_id)),
    Call(ROW_USERS, Permission.MANAGE_USERS, "users.create", lambda s, w: s.users.create("newbie", "newbie@example.com", PASSWORD, "viewer")),
    Call(ROW_USERS, Permission.MANAGE_USERS, "users.set_role", lambda s, w: s.users.set_role(w.other_user_id, "analyst")),
    Call(ROW_USERS, Permission.MANAGE_USERS, "users.set_active", lambda s, w: s.users.set_active(w.other_user_id, False)),
    Call(ROW_USERS, Permission.MANAGE_USERS, "users.reset_password", lambda s, w: s.users.reset_password(w.other_user_id, "another-pass-9")),
    Call(ROW_USERS, Permission.MANAGE_USERS, "users.sign_out_everywhere", lambda s, w: s.users.sign_out_everywhere(w.other_user_id)),
    Call(ROW_AUDIT, Permission.VIEW_AUDIT, "audit.list", lambda s, w: s.audit.list(AuditFilter())),
    Call(ROW_AUDIT, Permission.VIEW_AUDIT, "audit.actions", lambda s, w: s.audit.actions()),
    Call(ROW_OWN, Permission.CHANGE_OWN_PASSWORD, "users.change_own_password", lambda s, w: s.users.change_own_password(PASSWORD, "brand-new-pass-7")),
    Call(ROW_USERS, Permission.MANAGE_USERS, "ssh_keys.add(other)", lambda s, w: s.ssh_keys.add(OTHER_KEY, "target")),
    Call(ROW_USERS, Permission.MANAGE_USERS, "ssh_keys.list(other)", lambda s, w: s.ssh_keys.list(str(w.other_user_id))),
    Call(ROW_OWN, Permission.MANAGE_OWN_SSH_KEYS, "ssh_keys.add", lambda s, w: s.ssh_keys.add(OWN_KEY)),
    Call(ROW_OWN, Permission.MANAGE_OWN_SSH_KEYS, "ssh_keys.list", lambda s, w: s.ssh_keys.list()),
    Call(ROW_DASH, Permission.VIEW_DASHBOARD, "budgets.for_month", lambda s, w: s.budgets.for_month("2026-11")),
    Call(ROW_BUDGETS, Permission.MANAGE_BUDGETS, "budgets.set", lambda s, w: s.budgets.set("food", "100", "2026-11")),
    Call(ROW_RECURRING, Permission.MANAGE_RECURRING, "recurring.add", lambda s, w: s.recurring.add({"every": "month", "kind": "expense", "amount": "5", "category": "food"}, today=TODAY)),
    Call(ROW_RECURRING, Permission.MANAGE_RECURRING, "recurring.list", lambda s, w: s.recurring.list()),
    Call(ROW_RECURRING, Permission.MANAGE_RECURRING, "recurring.remove", lambda s, w: s.recurring.remove(w.schedule_id)),
    Call(ROW_RECORDS, Permission.VIEW_RECORDS, "recurring.run", lambda s, w: s.recurring.run(TODAY)),
    Call(ROW_OWN, None, "logout", lambda s, w: s.logout()),
]  # fmt: skip


def test_design_table_parsed_completely():
    assert len(EXPECTED) == 12
    assert EXPECTED[ROW_ANALYTICS] == {"viewer": False, "analyst": True, "admin": True}
    assert EXPECTED[ROW_OWN] == {"viewer": True, "analyst": True, "admin": True}


def test_every_permission_has_a_representative_call():
    covered = {c.permission for c in CALLS if c.permission}
    assert covered == set(Permission)
    assert {c.row for c in CALLS} == set(EXPECTED)


def test_code_matrix_agrees_with_design_table():
    """Each permission sits in one design row; the code grants it exactly as that row says."""
    for call in CALLS:
        if call.permission is None:
            continue
        for role in ROLES:
            granted = call.permission in ROLE_PERMISSIONS[Role(role)]
            assert granted == EXPECTED[call.row][role], (call.permission, role)


def _state() -> dict[str, list[tuple]]:
    """Every row of every table except the audit log (which a refusal appends to)."""
    out = {}
    for model in ALL_MODELS:
        if model is AuditEvent:
            continue
        out[model._meta.table_name] = sorted(
            (tuple(str(v) for v in row) for row in model.select().tuples()), key=repr
        )
    return out


IMPORT_CSV = "date,kind,amount,category,notes\n2026-11-03,expense,4.20,food,imported\n"
_saved_worlds: dict[str, tuple[Path, World]] = {}  # this process's SQLite world: file, ids


def _build_world(admin: SessionController, csv_path: str) -> World:
    live = admin.records.create(
        {"kind": "expense", "amount": "12.00", "category": "food", "date": "2026-11-01"}
    )
    gone = admin.records.create(
        {"kind": "income", "amount": "7.00", "category": "salary", "date": "2026-10-01"}
    )
    admin.records.delete(gone.id)
    with write_transaction():
        other = insert_user("target", "target@example.com", PASSWORD, "analyst")
    schedule = admin.recurring.add(
        {
            "every": "week",
            "kind": "expense",
            "amount": "9",
            "category": "rent",
            "start": "2026-12-01",
        },
        today=TODAY,
    )
    return World(
        live.id,
        live.version,
        gone.id,
        Category.get(Category.name_lower == "food").id,
        other.id,
        csv_path,
        schedule.id,
    )


@pytest.fixture
def world(sessions, db_url, tmp_path, tmp_path_factory) -> World:
    """The same world in every test, in the test's own database. On SQLite it is built
    once per test process and copied (building it was 43% of this file's CPU); the
    copy holds the template's sessions, so ``sessions`` act on it unchanged."""
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(IMPORT_CSV)
    if not db_url.startswith("sqlite"):
        return _build_world(sessions["admin"], str(csv_path))
    path = Path(db_url.removeprefix("sqlite:///"))
    if "sqlite" not in _saved_worlds:
        built = _build_world(sessions["admin"], "")
        saved = tmp_path_factory.mktemp("permissions-world") / "finance.db"
        save_sqlite_copy(path, saved)
        _saved_worlds["sqlite"] = (saved, built)
    else:
        saved, built = _saved_worlds["sqlite"]
        restore_sqlite_copy(saved, path)
    return replace(built, csv_path=str(csv_path))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.name)
def test_matrix(role, call, sessions, world):
    session = sessions[role]
    allowed = call.permission is None or EXPECTED[call.row][role]
    if allowed:
        result = call.run(session, world)
        if call.name == "records.create":
            assert result.created_by == session.principal.username
        if call.name == "csv.export":
            assert Path(world.csv_path + ".out").read_text().count("\n") >= 2  # header + 1
        return
    before, audit_before = _state(), AuditEvent.select().count()
    with pytest.raises(PermissionDenied) as err:
        call.run(session, world)
    assert err.value.action == call.permission.value
    assert call.permission.value in str(err.value) and role in str(err.value)
    assert _state() == before, "a refused call changed data"
    assert not Path(world.csv_path + ".out").exists(), "a refused export wrote a file"
    events = list(AuditEvent.select().where(AuditEvent.id > 0).order_by(AuditEvent.id))
    assert len(events) == audit_before + 1
    event = events[-1]
    assert event.action == "permission_denied"
    assert event.actor_name == session.principal.username
    assert call.permission.value in event.after and role in event.after


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_refused_even_with_invalid_input(role, sessions, world):
    """Permission is checked before input: bad arguments still get PermissionDenied."""
    session = sessions[role]
    attempts = [
        lambda: session.users.set_role(world.other_user_id, "emperor"),
        lambda: session.users.reset_password(world.other_user_id, "x"),
        lambda: session.users.create("", "not-an-email", "x", "nobody"),
        lambda: session.categories.rename(world.category_id, ""),
        lambda: session.categories.set_kind(world.category_id, "neither"),
        lambda: session.categories.create("", "neither"),
        lambda: session.records.create({"amount": "-1"}),
        lambda: session.records.update(world.live_id, 1, {"amount": "nan"}),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_deleted_record_is_invisible_without_view_deleted(role, sessions, world):
    """Opening a deleted record by id is NotFound (its existence is not revealed)."""
    with pytest.raises(NotFound):
        sessions[role].records.get(world.deleted_id)
    assert sessions["admin"].records.get(world.deleted_id).is_deleted


def test_ui_can_matches_design_table(sessions):
    for call in CALLS:
        if call.permission is None:
            continue
        for role in ROLES:
            assert sessions[role].can(call.permission) == EXPECTED[call.row][role]


def test_records_written_by_role_never_appear_for_refused_roles(sessions, world):
    """A refused create leaves the record count untouched on every engine."""
    n = Record.select().count()
    for role in ("viewer", "analyst"):
        with pytest.raises(PermissionDenied):
            sessions[role].records.create(
                {"kind": "expense", "amount": "1", "category": "food", "date": "2026-11-02"}
            )
    assert Record.select().count() == n
