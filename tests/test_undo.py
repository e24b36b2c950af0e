"""Undo (the core): a session reverses its own record changes, newest first, through
the audit trail; refused when someone else changed the record since; audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import PASSWORD
from peewee import IntegrityError

from finance_tui.db import write_transaction
from finance_tui.errors import NothingToUndo, PermissionDenied, UndoConflict, ValidationError
from finance_tui.migrations import _audit_undo_columns
from finance_tui.models import AuditEvent, Category, Record, User, database
from finance_tui.services import summaries
from finance_tui.services.audit import record_event
from finance_tui.session import SessionController

TODAY = date(2026, 11, 25)
LUNCH = {"kind": "expense", "amount": "12.50", "category": "food", "date": "2026-11-20"}


def _new(session, **fields) -> object:
    return session.records.create({**LUNCH, "notes": "lunch", **fields}, today=TODAY)


def _state(record_id) -> tuple:
    rec = Record.get_by_id(record_id)
    return (rec.kind, rec.amount, rec.category.name, rec.date, rec.notes, rec.is_deleted)


def _everything() -> list[tuple]:
    """Every record and its version: a refusal must leave all of it as it was."""
    return sorted((str(r.id), r.version, r.is_deleted, r.amount, r.notes) for r in Record.select())


def test_undo_of_a_new_record_deletes_it(admin):
    row = _new(admin)
    result = admin.undo.undo_last(today=TODAY)
    assert result.undone_action == "record_create"
    assert result.record.id == row.id and result.record.is_deleted
    assert result.message == "Undone: your new record of 2026-11-20 expense 12.50 food"
    assert Record.get_by_id(row.id).is_deleted
    assert summaries.verify() == []


def test_undo_of_an_edit_writes_the_old_values_back(admin):
    row = _new(admin)
    changes = {"kind": "income", "amount": "99", "category": "salary", "date": "2026-11-01"}
    admin.records.update(row.id, row.version, {**changes, "notes": "pay"}, today=TODAY)
    result = admin.undo.undo_last(today=TODAY)
    assert result.undone_action == "record_update"
    assert result.message == "Undone: your edit of 2026-11-01 income 99.00 salary"
    assert _state(row.id) == ("expense", 1250, "food", date(2026, 11, 20), "lunch", False)
    assert result.record.amount == Decimal("12.50")
    assert Record.get_by_id(row.id).version == 3  # an undo is a write like any other
    assert summaries.verify() == []


def test_undo_of_a_delete_restores_and_of_a_restore_deletes(admin):
    row = _new(admin)
    admin.records.delete(row.id, row.version)
    assert admin.undo.undo_last(today=TODAY).undone_action == "record_delete"
    assert not Record.get_by_id(row.id).is_deleted
    admin.undo.undo_last(today=TODAY)  # the creation
    admin.records.restore(row.id)
    assert admin.undo.undo_last(today=TODAY).undone_action == "record_restore"
    assert Record.get_by_id(row.id).is_deleted
    assert summaries.verify() == []


def test_repeated_undo_goes_newest_first_until_nothing_is_left(admin):
    a = _new(admin, notes="a")
    b = _new(admin, notes="b")
    admin.records.update(a.id, a.version, {"notes": "a2"}, today=TODAY)
    admin.records.delete(b.id, b.version)
    undone = [admin.undo.undo_last(today=TODAY) for _ in range(4)]
    assert [(u.undone_action, u.record.id) for u in undone] == [
        ("record_delete", b.id),
        ("record_update", a.id),
        ("record_create", b.id),
        ("record_create", a.id),
    ]
    assert Record.get_by_id(a.id).notes == "a"
    assert Record.get_by_id(a.id).is_deleted and Record.get_by_id(b.id).is_deleted
    with pytest.raises(NothingToUndo, match="no change left to undo"):
        admin.undo.undo_last(today=TODAY)
    assert summaries.verify() == []


def test_an_undo_is_audited_with_the_event_it_reverses(admin):
    row = _new(admin)
    admin.records.update(row.id, row.version, {"amount": "20"}, today=TODAY)
    edit = AuditEvent.get(AuditEvent.action == "record_update")
    admin.undo.undo_last(today=TODAY)
    undo = AuditEvent.get(AuditEvent.action == "record_undo")
    assert undo.undoes == edit.id
    assert undo.entity_id == str(row.id)
    assert undo.session_jti == admin.principal.session_jti
    shown = admin.audit.list().rows[0]
    assert (shown.action, shown.undoes) == ("record_undo", edit.id)
    assert (shown.before["amount"], shown.after["amount"]) == ("20.00", "12.50")
    assert (shown.before["version"], shown.after["version"]) == (2, 3)


def test_a_change_is_never_undone_twice(admin):
    row = _new(admin)
    admin.undo.undo_last(today=TODAY)
    with pytest.raises(NothingToUndo):
        admin.undo.undo_last(today=TODAY)
    assert AuditEvent.select().where(AuditEvent.action == "record_undo").count() == 1
    create = AuditEvent.get(AuditEvent.action == "record_create")
    with pytest.raises(IntegrityError), write_transaction():  # the database refuses too
        record_event(admin.principal, "record_undo", "record", row.id, undoes=create.id)


def test_another_users_edit_since_refuses_and_changes_nothing(admin, make_user):
    older = _new(admin, notes="older")
    row = _new(admin)
    admin.records.update(row.id, row.version, {"amount": "20"}, today=TODAY)
    bob = make_user("admin", name="bob")
    bob.records.update(row.id, 2, {"notes": "bob's"}, today=TODAY)
    before = _everything()
    with pytest.raises(UndoConflict) as caught:
        admin.undo.undo_last(today=TODAY)
    message = str(caught.value)
    assert message.startswith("Cannot undo your edit of 2026-11-20 expense 20.00 food: bob ")
    assert "changed it at 20" in message and "Nothing changed" in message
    assert _everything() == before
    refused = AuditEvent.get(AuditEvent.action == "record_undo_refused")
    assert refused.undoes == AuditEvent.get(AuditEvent.action == "record_update").id
    # The overtaken edit is off the stack: the next undo reaches the change before it,
    # the creation of that record, which bob's edit overtook as well.
    with pytest.raises(UndoConflict, match="your new record of .* bob changed it"):
        admin.undo.undo_last(today=TODAY)
    assert _everything() == before
    assert admin.undo.undo_last(today=TODAY).record.id == older.id
    assert Record.get_by_id(older.id).is_deleted


def test_an_unaudited_concurrent_write_refuses_with_who_and_when(admin, make_user):
    row = _new(admin)
    bob = make_user("admin", name="bob")
    Record.update(version=Record.version + 1, updated_by=bob.principal.user_id).where(
        Record.id == row.id
    ).execute()
    with pytest.raises(UndoConflict, match="bob changed it at"):
        admin.undo.undo_last(today=TODAY)
    assert not Record.get_by_id(row.id).is_deleted


def test_each_session_has_its_own_stack(admin):
    row = _new(admin)
    other_terminal = SessionController.login("root", PASSWORD)
    with pytest.raises(NothingToUndo):
        other_terminal.undo.undo_last(today=TODAY)
    other_terminal.records.update(row.id, row.version, {"notes": "elsewhere"}, today=TODAY)
    with pytest.raises(UndoConflict, match=r"you \(in another session\) changed it"):
        admin.undo.undo_last(today=TODAY)
    assert other_terminal.undo.undo_last(today=TODAY).undone_action == "record_update"
    assert Record.get_by_id(row.id).notes == "lunch"


def test_a_new_session_cannot_undo_an_old_sessions_changes(admin):
    row = _new(admin)
    admin.logout()
    again = SessionController.login("root", PASSWORD)
    with pytest.raises(NothingToUndo):
        again.undo.undo_last(today=TODAY)
    assert not Record.get_by_id(row.id).is_deleted


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_roles_that_may_not_write_may_not_undo(sessions, role):
    with pytest.raises(PermissionDenied):
        sessions[role].undo.undo_last(today=TODAY)


def test_a_demoted_admin_cannot_undo_and_keeps_the_change_on_the_stack(admin):
    row = _new(admin)
    User.update(role="viewer").where(User.id == admin.principal.user_id).execute()
    with pytest.raises(PermissionDenied):
        admin.undo.undo_last(today=TODAY)
    assert not Record.get_by_id(row.id).is_deleted
    User.update(role="admin").where(User.id == admin.principal.user_id).execute()
    assert admin.undo.undo_last(today=TODAY).record.is_deleted


def test_undoing_an_edit_validates_like_an_edit(admin):
    row = _new(admin)
    admin.records.update(row.id, row.version, {"category": "rent"}, today=TODAY)
    food = Category.get(Category.name_lower == "food")
    admin.categories.archive(food.id)
    before = _everything()
    with pytest.raises(ValidationError, match="cannot undo your edit .* 'food' is archived"):
        admin.undo.undo_last(today=TODAY)
    assert _everything() == before
    admin.categories.archive(food.id, archived=False)  # fixable: the edit stays undoable
    admin.undo.undo_last(today=TODAY)
    assert _state(row.id)[2] == "food"


def test_every_change_carries_its_session(admin):
    _new(admin)
    event = AuditEvent.get(AuditEvent.action == "record_create")
    assert event.session_jti == admin.principal.session_jti


def test_the_migration_adds_the_columns_once(db):
    database.execute_sql('DROP INDEX IF EXISTS "audit_event_session_jti_id"')
    database.execute_sql('DROP INDEX IF EXISTS "audit_event_undoes"')
    database.execute_sql('ALTER TABLE "audit_event" DROP COLUMN "session_jti"')
    database.execute_sql('ALTER TABLE "audit_event" DROP COLUMN "undoes"')
    _audit_undo_columns(db)
    _audit_undo_columns(db)  # idempotent
    columns = {c.name for c in db.get_columns("audit_event")}
    assert {"session_jti", "undoes"} <= columns
    indexes = {i.name: i for i in db.get_indexes("audit_event")}
    assert indexes["audit_event_undoes"].unique
    assert indexes["audit_event_session_jti_id"].columns == ["session_jti", "id"]
