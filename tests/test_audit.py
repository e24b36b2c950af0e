"""Audit trail (docs/ARCHITECTURE.md: Data model): one event per change with before/after, written in the same
transaction as the change, and readable (filtered, paged) by admins only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import PASSWORD

from finance_tui.domain.filters import AuditFilter
from finance_tui.errors import ValidationError
from finance_tui.models import AuditEvent, Category, Record, Session, User, utcnow
from finance_tui.services import audit as audit_module
from finance_tui.services import summaries
from finance_tui.session import SessionController

REC = {"kind": "expense", "amount": "12.34", "category": "food", "date": "2026-11-03"}


def _audit_page(admin, **kw):
    return admin.audit.list(AuditFilter(**kw))


def test_each_record_change_has_before_and_after(admin):
    rec = admin.records.create(REC)
    admin.records.update(rec.id, 1, {"amount": "20", "notes": "fixed"})
    admin.records.delete(rec.id)
    admin.records.restore(rec.id)
    rows = _audit_page(admin, entity_id=str(rec.id)).rows[::-1]
    assert [r.action for r in rows] == [
        "record_create",
        "record_update",
        "record_delete",
        "record_restore",
    ]
    create, update, delete, restore = rows
    assert create.before is None and create.after["amount"] == "12.34"
    assert update.before["amount"] == "12.34" and update.after["amount"] == "20.00"
    assert update.before["notes"] == "" and update.after["notes"] == "fixed"
    assert delete.before["is_deleted"] is False and delete.after["is_deleted"] is True
    assert restore.after["is_deleted"] is False and restore.after["version"] == 4
    assert all(r.actor == "root" and r.entity_type == "record" for r in rows)


def test_user_category_and_session_events(admin):
    bob = admin.users.create("bob", "bob@example.com", PASSWORD)
    admin.users.set_role(bob.id, "analyst")
    admin.users.set_active(bob.id, False)
    admin.users.set_active(bob.id, True)
    admin.users.reset_password(bob.id, "another-pass-1")
    cat = admin.categories.create("Gifts", "both")
    admin.categories.rename(cat.id, "Presents")
    admin.categories.archive(cat.id)
    bob_session = SessionController.login("bob", "another-pass-1")
    bob_session.users.change_own_password("another-pass-1", "third-pass-22")
    bob_session.logout()
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the event is what matters
        SessionController.login("bob", "wrong-password")
    actions = [r.action for r in _audit_page(admin, limit=500).rows[::-1]]
    expected = [
        "user_create", "user_set_role", "user_deactivate", "user_activate",
        "user_reset_password", "category_create", "category_update", "category_archive",
        "login", "user_change_password", "logout", "login_failed",
    ]  # fmt: skip
    assert actions[-len(expected) :] == expected
    assert set(expected) <= set(admin.audit.actions())


# ---- same transaction: a failure after the event leaves neither change nor event -------------
@pytest.fixture
def audit_then_fail(monkeypatch):
    """Make ``record_event`` in a module write its event and then fail the transaction."""

    def install(module) -> None:
        def write_then_fail(*args, **kwargs):
            audit_module.record_event(*args, **kwargs)
            raise RuntimeError("simulated failure after the audit write")

        monkeypatch.setattr(module, "record_event", write_then_fail)

    return install


def _snapshot() -> dict:
    return {
        "events": AuditEvent.select().count(),
        "records": sorted(
            (str(r.id), r.amount, r.version, r.is_deleted, r.notes) for r in Record.select()
        ),
        "users": sorted((u.username, u.role, u.is_active, u.password_hash) for u in User.select()),
        "categories": sorted((c.name, c.kind, c.is_archived) for c in Category.select()),
        "sessions": sorted((s.jti, s.revoked_at is None) for s in Session.select()),
    }


def _ops(admin, bob_id, rec, cat_id):
    from finance_tui.services import categories, records, users

    return [
        (records, lambda: admin.records.create(REC)),
        (records, lambda: admin.records.update(rec.id, rec.version, {"amount": "99"})),
        (records, lambda: admin.records.delete(rec.id, rec.version)),
        (users, lambda: admin.users.create("zed", "zed@example.com", PASSWORD)),
        (users, lambda: admin.users.set_role(bob_id, "admin")),
        (users, lambda: admin.users.set_active(bob_id, False)),
        (users, lambda: admin.users.reset_password(bob_id, "another-pass-1")),
        (users, lambda: admin.users.sign_out_everywhere(bob_id)),
        (users, lambda: admin.users.change_own_password(PASSWORD, "another-pass-2")),
        (categories, lambda: admin.categories.create("Gifts")),
        (categories, lambda: admin.categories.rename(cat_id, "Meals")),
        (categories, lambda: admin.categories.archive(cat_id)),
    ]


def test_change_and_event_commit_together(admin, audit_then_fail):
    bob = admin.users.create("bob", "bob@example.com", PASSWORD)
    SessionController.login("bob", PASSWORD)
    rec = admin.records.create(REC)
    cat_id = Category.get(Category.name_lower == "food").id
    for module, op in _ops(admin, bob.id, rec, cat_id):
        audit_then_fail(module)
        before = _snapshot()
        with pytest.raises(RuntimeError, match="simulated"):
            op()
        assert _snapshot() == before, op
    assert summaries.verify() == []


def test_login_token_and_event_commit_together(admin, audit_then_fail):
    import finance_tui.session as session_module

    audit_then_fail(session_module)
    before = _snapshot()
    with pytest.raises(RuntimeError):
        SessionController.login("root", PASSWORD)
    assert _snapshot() == before  # no token row, no event


# ---- reading the log --------------------------------------------------------------------
def test_audit_filters_and_paging(admin, make_user):
    bob = make_user("admin", name="bob")
    for i in range(7):
        admin.records.create({**REC, "notes": f"n{i}"})
    bob.records.create(REC)
    total = AuditEvent.select().count()
    page = _audit_page(admin, limit=3)
    assert page.total == total and len(page.rows) == 3
    assert [r.id for r in page.rows] == sorted((r.id for r in page.rows), reverse=True)
    walked = []
    for offset in range(0, total, 3):
        walked += [r.id for r in _audit_page(admin, limit=3, offset=offset).rows]
    assert walked == sorted((e.id for e in AuditEvent.select()), reverse=True)
    creates = _audit_page(admin, action="record_create")
    assert creates.total == 8
    assert _audit_page(admin, action="record_create", actor="BOB").total == 1
    assert _audit_page(admin, actor="b_b").total == 0  # literal name, not a LIKE pattern
    assert _audit_page(admin, actor="r%").total == 0
    today = utcnow().date()
    assert _audit_page(admin, date_from=today, date_to=today).total == total
    assert _audit_page(admin, date_to=today - timedelta(days=1)).total == 0
    assert _audit_page(admin, date_from=today + timedelta(days=1)).total == 0


@pytest.mark.parametrize(
    ("flt", "field"),
    [
        (AuditFilter(limit=0), "limit"),
        (AuditFilter(limit=501), "limit"),
        (AuditFilter(offset=-1), "offset"),
        (AuditFilter(date_from=date(2026, 2, 2), date_to=date(2026, 2, 1)), "date_to"),
    ],
)
def test_bad_audit_filters(admin, flt, field):
    with pytest.raises(ValidationError) as err:
        admin.audit.list(flt)
    assert field in err.value.fields


@pytest.mark.parametrize(
    ("flt", "field", "message"),
    [
        (AuditFilter(actor="\x00"), "actor", "contains a control character"),
        (AuditFilter(actor="boss\udcff"), "actor", "not valid text"),
        (AuditFilter(action="login\x1b"), "action", "contains a control character"),
        (AuditFilter(entity_id="\udcff"), "entity_id", "not valid text"),
    ],
)
def test_audit_filter_text_with_control_characters_or_bad_bytes(admin, flt, field, message):
    """A lone surrogate used to raise UnicodeEncodeError from the driver."""
    with pytest.raises(ValidationError) as err:
        admin.audit.list(flt)
    assert message in err.value.fields[field]
