"""User management (docs/ARCHITECTURE.md: The role matrix; docs/ARCHITECTURE.md: Sessions and logins): uniqueness, the last-admin rule, passwords, sessions."""

from __future__ import annotations

import json
import threading

import pytest
from conftest import PASSWORD, table_counts

from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    SessionExpired,
    ValidationError,
)
from finance_tui.models import AuditEvent, Session, User
from finance_tui.services.users import active_admin_count
from finance_tui.session import SessionController


def _refused(call, *fields: str) -> dict[str, str]:
    before = table_counts()
    with pytest.raises(ValidationError) as err:
        call()
    assert set(err.value.fields) == set(fields), err.value.fields
    assert table_counts() == before
    return err.value.fields


def _last_event(action: str) -> AuditEvent:
    return (
        AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id.desc()).get()
    )


# ---- creating -----------------------------------------------------------------------
def test_create_and_list(admin):
    row = admin.users.create("Bob", "Bob@Example.com", PASSWORD, "analyst")
    assert (row.username, row.email, row.role, row.is_active) == (
        "Bob",
        "Bob@Example.com",
        "analyst",
        True,
    )
    assert [u.username for u in admin.users.list()] == ["Bob", "root"]
    assert admin.users.get(row.id) == admin.users.get("bob")
    event = _last_event("user_create")
    after = json.loads(event.after)
    assert after == {
        "username": "Bob",
        "email": "Bob@Example.com",
        "role": "analyst",
        "is_active": True,
    }
    assert SessionController.login("BOB", PASSWORD).role == "analyst"
    assert admin.users.create("vic", "vic@example.com", PASSWORD).role == "viewer"  # default


def test_duplicates_are_case_insensitive(admin):
    admin.users.create("Bob", "bob@example.com", PASSWORD)
    fields = _refused(lambda: admin.users.create("BOB", "other@example.com", PASSWORD), "username")
    assert "already taken" in fields["username"]
    fields = _refused(lambda: admin.users.create("robert", "BOB@EXAMPLE.COM", PASSWORD), "email")
    assert "already registered" in fields["email"]
    _refused(lambda: admin.users.create(" bob ", "Bob@Example.com ", PASSWORD), "username", "email")


def test_every_bad_field_reported_together(admin):
    fields = _refused(
        lambda: admin.users.create("x", "not-an-email", "short", "emperor"),
        "username",
        "email",
        "password",
        "role",
    )
    assert "3-150" in fields["username"]
    assert "valid email" in fields["email"]
    assert "at least 8" in fields["password"]
    assert "viewer, analyst or admin" in fields["role"]
    _refused(lambda: admin.users.create("bad name", "a@b.co", PASSWORD), "username")
    _refused(lambda: admin.users.create("a" * 151, "a@b.co", PASSWORD), "username")


def test_unknown_user(admin):
    for bad in ("ghost", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(NotFound):
            admin.users.get(bad)
        with pytest.raises(NotFound):
            admin.users.set_role(bad, "viewer")


# ---- roles and the last admin -----------------------------------------------------------
def test_last_admin_cannot_be_demoted_or_deactivated(admin):
    root = admin.principal.user_id
    fields = _refused(lambda: admin.users.set_role(root, "analyst"), "role")
    assert "last active admin" in fields["role"]
    _refused(lambda: admin.users.set_active(root, False), "role")
    assert User.get_by_id(root).role == "admin" and User.get_by_id(root).is_active
    assert AuditEvent.select().where(AuditEvent.action.startswith("user_set")).count() == 0


def test_inactive_admins_do_not_count(admin, make_user):
    other = make_user("admin", name="carol")
    admin.users.set_active(other.principal.user_id, False)
    assert active_admin_count() == 1
    _refused(lambda: admin.users.set_role(admin.principal.user_id, "viewer"), "role")


def test_demote_when_another_admin_exists(admin, make_user):
    carol = make_user("admin", name="carol")
    row = admin.users.set_role(carol.principal.user_id, "analyst")
    assert row.role == "analyst"
    event = _last_event("user_set_role")
    assert (
        json.loads(event.before)["role"] == "admin" and json.loads(event.after)["role"] == "analyst"
    )
    assert event.actor_name == "root" and event.entity_id == str(carol.principal.user_id)
    # Now root is the last admin again.
    _refused(lambda: admin.users.set_role(admin.principal.user_id, "analyst"), "role")
    # An admin may step down while someone else stays admin.
    admin.users.set_role(carol.principal.user_id, "admin")
    admin.users.set_role(admin.principal.user_id, "viewer")
    with pytest.raises(PermissionDenied):
        admin.users.list()
    assert carol.users.list()


def test_admins_demoting_each_other_at_once_leave_one_admin(admin, make_user):
    """The check-then-write is serialised: never zero admins."""
    carol = make_user("admin", name="carol")
    barrier = threading.Barrier(2)
    outcomes = []

    def demote(actor, target):
        barrier.wait()
        try:
            actor.users.set_role(target, "viewer")
            outcomes.append("ok")
        except (ValidationError, PermissionDenied) as exc:
            outcomes.append(type(exc).__name__)

    threads = [
        threading.Thread(target=demote, args=(admin, carol.principal.user_id)),
        threading.Thread(target=demote, args=(carol, admin.principal.user_id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1
    assert active_admin_count() == 1


def test_bad_role(admin, make_user):
    bob = make_user("viewer", name="bob")
    assert (
        "viewer, analyst or admin"
        in _refused(lambda: admin.users.set_role(bob.principal.user_id, "root"), "role")["role"]
    )


# ---- activation ---------------------------------------------------------------------
def test_deactivate_and_reactivate(admin, make_user):
    bob = make_user("analyst", name="bob")
    admin.users.set_active(bob.principal.user_id, False)
    with pytest.raises(SessionExpired):
        bob.records.count(RecordFilter())
    with pytest.raises(AuthError, match="deactivated"):
        SessionController.login("bob", PASSWORD)
    assert json.loads(_last_event("user_deactivate").after)["is_active"] is False
    admin.users.set_active(bob.principal.user_id, True)
    assert SessionController.login("bob", PASSWORD).records.count(RecordFilter()) == 0
    assert _last_event("user_activate").actor_name == "root"


# ---- passwords ----------------------------------------------------------------------
def test_change_own_password(make_user):
    bob = make_user("viewer", name="bob")
    other_terminal = SessionController.login("bob", PASSWORD)
    fields = _refused(
        lambda: bob.users.change_own_password("not-my-password", "new-password-1"), "old_password"
    )
    assert "not your current password" in fields["old_password"]
    _refused(lambda: bob.users.change_own_password(PASSWORD, "short"), "new_password")
    _refused(lambda: bob.users.change_own_password(PASSWORD, PASSWORD), "new_password")
    bob.users.change_own_password(PASSWORD, "new-password-1")
    # This session goes on; the other terminal is signed out.
    assert bob.records.count(RecordFilter()) == 0
    with pytest.raises(SessionExpired, match="signed out"):
        other_terminal.records.count(RecordFilter())
    with pytest.raises(AuthError):
        SessionController.login("bob", PASSWORD)
    assert SessionController.login("bob", "new-password-1").principal.username == "bob"
    event = _last_event("user_change_password")
    assert event.actor_name == "bob"
    assert "new-password-1" not in (event.after or "") + (event.before or "")


def test_admin_reset_password_unlocks_and_signs_out(admin, make_user):
    bob = make_user("viewer", name="bob")
    for _ in range(5):
        with pytest.raises(AuthError):
            SessionController.login("bob", "wrong-password")
    assert User.get(User.username == "bob").locked_until is not None
    admin.users.reset_password(bob.principal.user_id, "fresh-password-2")
    with pytest.raises(SessionExpired):
        bob.records.count(RecordFilter())
    assert SessionController.login("bob", "fresh-password-2").role == "viewer"
    stored = User.get(User.username == "bob")
    assert stored.failed_logins == 0 and stored.lockouts == 0 and stored.locked_until is None
    assert _last_event("user_reset_password").entity_id == str(bob.principal.user_id)


def test_password_hashes_are_bcrypt_and_never_in_audit(admin):
    admin.users.create("bob", "bob@example.com", PASSWORD)
    stored = User.get(User.username == "bob").password_hash
    assert stored.startswith("$2") and PASSWORD not in stored
    for event in AuditEvent.select():
        text = (event.before or "") + (event.after or "")
        assert PASSWORD not in text and "$2b$" not in text


def test_sessions_registry_rows(admin, make_user):
    make_user("viewer", name="bob")
    SessionController.login("bob", PASSWORD)
    bob_id = User.get(User.username == "bob").id
    assert Session.select().where(Session.user == bob_id).count() == 2
    assert admin.users.sign_out_everywhere("bob") == 2
    assert admin.users.sign_out_everywhere("bob") == 0


def test_simultaneous_creation_of_the_same_name_is_a_clean_refusal(admin, make_user):
    """Two admins creating 'dave' at the same moment: one succeeds, one gets a field error
    (never a raw database IntegrityError), on both engines."""
    carol = make_user("admin", name="carol")
    for attempt in range(3):
        name = f"dave{attempt}"
        barrier = threading.Barrier(2)
        outcomes = []

        def create(actor, email, name=name, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                actor.users.create(name, email, PASSWORD)
                outcomes.append("ok")
            except ValidationError as exc:
                outcomes.append(sorted(exc.fields))
            except Exception as exc:  # noqa: BLE001 - reported below
                outcomes.append(repr(exc))

        threads = [
            threading.Thread(target=create, args=(admin, f"{name}@a.example")),
            threading.Thread(target=create, args=(carol, f"{name}@b.example")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes, key=str) == sorted(["ok", ["username"]], key=str), outcomes
        assert User.select().where(User.username_lower == name).count() == 1
