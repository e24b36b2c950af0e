"""Users screen: Pilot behaviour against a real database, plus a snapshot."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import PASSWORD
from test_tui_admin_support import (
    FIXED_NOW,
    SIZE,
    HostApp,
    fix_user_times,
    in_shell,
    notifications,
    settle,
    sqlite_only,
)
from test_tui_support import make_app
from textual.widgets import DataTable, Input, OptionList, Select, Static

from finance_tui.clock import Clock
from finance_tui.db import write_transaction
from finance_tui.errors import AuthError
from finance_tui.models import Session, User
from screens.admin_widgets import ChoiceModal, FormModal
from screens.users import ROLE_CHOICES, UsersScreen
from screens.widgets import ConfirmModal


def _user(name: str) -> User:
    return User.get(User.username_lower == name.lower())


def _table_usernames(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def _select_user(pilot, name: str) -> None:
    names = _table_usernames(pilot.app)
    pilot.app.screen.query_one(DataTable).move_cursor(row=names.index(name))
    await pilot.pause()


async def test_admin_creates_user_changes_role_and_deactivates(admin, make_user):
    viewer = make_user("viewer", name="vera")
    app = HostApp(lambda: UsersScreen(admin), clock=Clock(fixed_now=FIXED_NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _table_usernames(app) == ["root", "vera"]

        # Create with a mismatched confirmation: inline error, nothing written.
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        await pilot.press(*"alice", "enter", *"alice@example.com", "enter")
        form.query_one("#field-role", Select).value = "analyst"
        form.query_one("#field-password", Input).value = "s3cret-pass"
        form.query_one("#field-confirm", Input).value = "s3cret-pasz"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.error_of("confirm") == "does not match the password"
        assert User.get_or_none(User.username_lower == "alice") is None

        # Fix it and submit: the user exists with the chosen role.
        form.query_one("#field-confirm", Input).value = "s3cret-pass"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        alice = _user("alice")
        assert (alice.email, alice.role, alice.is_active) == ("alice@example.com", "analyst", True)
        assert "Created user alice (analyst)" in notifications(app)
        assert _table_usernames(app) == ["alice", "root", "vera"]

        # Change alice's role to admin via the choice list (Viewer, Analyst, Admin).
        await _select_user(pilot, "alice")
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceModal)
        assert app.screen.query_one(OptionList).highlighted == 1  # current role: analyst
        await pilot.press("down", "enter")
        await settle(pilot)
        assert _user("alice").role == "admin"
        assert "alice is now admin" in notifications(app)

        # Deactivate vera after confirming; her session is revoked.
        await _select_user(pilot, "vera")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert _user("vera").is_active is False
        assert Session.get(Session.jti == viewer.principal.session_jti).revoked_at is not None
        row = app.screen.query_one(DataTable).get_row_at(_table_usernames(app).index("vera"))
        assert str(row[3]) == "no"
        assert "vera deactivated" in notifications(app)

        # Activate again needs no confirmation.
        await pilot.press("a")
        await settle(pilot)
        assert _user("vera").is_active is True


async def test_create_user_shows_core_field_errors(admin):
    app = HostApp(lambda: UsersScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        form.query_one("#field-username", Input).value = "ROOT"
        form.query_one("#field-email", Input).value = "not-an-email"
        form.query_one("#field-password", Input).value = "short"
        form.query_one("#field-confirm", Input).value = "short"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        errors = {name: form.error_of(name) for name in ("username", "email", "password")}
        assert "already taken" in errors["username"]
        assert "not a valid email" in errors["email"]
        assert "at least 8" in errors["password"]
        assert User.select().count() == 1
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)


async def test_last_admin_rule_is_a_clear_message(admin, make_user):
    make_user("analyst", name="ann")
    app = HostApp(lambda: UsersScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select_user(pilot, "root")
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("up", "enter")  # admin → analyst
        await settle(pilot)
        assert _user("root").role == "admin"
        assert "Refused: root is the last active admin; promote another first" in notifications(app)
        # Deactivating the last admin is refused the same way.
        await pilot.press("a", "y")
        await settle(pilot)
        assert _user("root").is_active is True
        assert (
            notifications(app).count(
                "Refused: root is the last active admin; promote another first"
            )
            == 2
        )


async def test_reset_password_and_sign_out_everywhere(admin, make_user):
    other = make_user("viewer", name="vic")
    app = HostApp(lambda: UsersScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select_user(pilot, "vic")
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Signed vic out of 1 session(s)" in notifications(app)
        assert Session.get(Session.jti == other.principal.session_jti).revoked_at is not None

        await pilot.press("p")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"brand-new-pass", "enter", *"brand-new-pass", "enter")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        from finance_tui.session import SessionController

        assert SessionController.login("vic", "brand-new-pass").principal.username == "vic"
        assert form.is_attached is False


def _locked_cell(app, name: str) -> str:
    table = app.screen.query_one(DataTable)
    return str(table.get_row_at(_table_usernames(app).index(name))[4])


async def test_lift_lock_key(admin, make_user):
    from finance_tui.session import SessionController

    make_user("viewer", name="vic")
    for _ in range(5):
        with pytest.raises(AuthError):
            SessionController.login("vic", "wrong-password")
    app = HostApp(lambda: UsersScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _locked_cell(app, "vic") != ""
        await _select_user(pilot, "vic")
        await pilot.press("l")
        await settle(pilot)
        assert "Lock on vic lifted; they can log in now" in notifications(app)
        assert _locked_cell(app, "vic") == ""
        assert SessionController.login("vic", PASSWORD).principal.username == "vic"
        await pilot.press("l")  # not locked any more: says so, changes nothing else
        await settle(pilot)
        assert "vic was not locked; failed attempts forgotten" in notifications(app)


async def test_viewer_sees_no_user_management(sessions):
    app = HostApp(lambda: UsersScreen(sessions["viewer"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.screen.query(DataTable)
        assert "permission" in str(app.screen.query_one("#users-denied", Static).render())
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)


def test_users_snapshot(snap_compare, db_url, admin, make_user, tmp_path):
    sqlite_only(db_url)
    make_user("analyst", name="ann")
    make_user("viewer", name="vera")
    fix_user_times()
    with write_transaction():
        User.update(is_active=False).where(User.username_lower == "vera").execute()
        User.update(locked_until=datetime(2026, 11, 25, 10, 0)).where(
            User.username_lower == "ann"
        ).execute()
    app = make_app(tmp_path, admin, now=FIXED_NOW)
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("users"))


def test_new_user_form_snapshot(snap_compare, db_url, admin, tmp_path):
    sqlite_only(db_url)

    async def bad_form(pilot):
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#field-username", Input).value = "root"
        form.query_one("#field-email", Input).value = "[b]x[/b]@nowhere"
        form.query_one("#field-password", Input).value = "short"
        form.query_one("#field-confirm", Input).value = "short"
        await pilot.press("ctrl+s")
        await settle(pilot)

    app = make_app(tmp_path, admin, now=FIXED_NOW)
    fix_user_times()
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("users", bad_form))


async def test_choice_list_page_keys_before_layout(admin):
    """Textual 8.2 raises KeyError on PageDown before an OptionList is laid out."""
    from textual.widgets.option_list import Option

    from screens.admin_widgets import ChoiceList

    app = HostApp(lambda: UsersScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        choices = ChoiceList(*[Option(label, id=value) for label, value in ROLE_CHOICES])
        choices._index_to_line.clear()  # the state before the first layout
        choices.highlighted = 1
        choices.action_page_down()
        assert choices.highlighted == 2
        choices._index_to_line.clear()
        choices.action_page_up()
        assert choices.highlighted == 0
