"""Account screen (own password, log out) and the idle LockScreen; snapshots."""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from test_tui_admin_support import SIZE, HostApp, in_shell, notifications, settle, sqlite_only
from test_tui_support import make_app
from textual.widgets import Input

from finance_tui.errors import AuthError
from finance_tui.models import Session
from finance_tui.session import SessionController
from screens.account import AccountScreen, LockScreen

NEW_PASSWORD = "a-much-better-1"


async def _fill(pilot, old: str, new: str, confirm: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#field-old_password", Input).value = old
    screen.query_one("#field-new_password", Input).value = new
    screen.query_one("#field-confirm", Input).value = confirm
    screen.query_one("#field-confirm", Input).focus()
    await pilot.press("enter")
    await settle(pilot)


async def test_change_own_password(sessions):
    viewer = sessions["viewer"]
    other = SessionController.login(viewer.principal.username, PASSWORD)
    app = HostApp(lambda: AccountScreen(viewer), session=viewer)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        # Wrong current password: a field error, nothing changes, input kept.
        await _fill(pilot, "not-my-password", NEW_PASSWORD, NEW_PASSWORD)
        assert screen.error_of("old_password") == "is not your current password"
        assert screen.query_one("#field-new_password", Input).value == NEW_PASSWORD
        # Confirmation mismatch is caught before the core is asked.
        await _fill(pilot, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
        assert screen.error_of("confirm") == "does not match the new password"
        assert screen.error_of("old_password") == ""
        # Too short: the core's message beside the new password.
        await _fill(pilot, PASSWORD, "short", "short")
        assert screen.error_of("new_password") == "must be at least 8 characters"
        with pytest.raises(AuthError):
            SessionController.login(viewer.principal.username, NEW_PASSWORD)

        await _fill(pilot, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
        assert "Password changed; your other sessions were signed out" in notifications(app)
        assert all(screen.error_of(n) == "" for n in ("old_password", "new_password", "confirm"))
        assert screen.query_one("#field-old_password", Input).value == ""
    assert SessionController.login(viewer.principal.username, NEW_PASSWORD)
    with pytest.raises(AuthError):
        SessionController.login(viewer.principal.username, PASSWORD)
    assert Session.get(Session.jti == other.principal.session_jti).revoked_at is not None
    assert Session.get(Session.jti == viewer.principal.session_jti).revoked_at is None


async def test_log_out_revokes_token(sessions):
    analyst = sessions["analyst"]
    app = HostApp(lambda: AccountScreen(analyst), session=analyst)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.logged_out == 1
    assert Session.get(Session.jti == analyst.principal.session_jti).revoked_at is not None


async def test_lock_screen_unlock(sessions):
    viewer = sessions["viewer"]
    app = HostApp(lambda: AccountScreen(viewer), lambda: LockScreen(viewer), session=viewer)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is lock

        await pilot.press(*"wrong-password", "enter")
        await settle(pilot)
        assert app.screen is lock
        assert lock.error_text == "Invalid credentials"
        assert lock.query_one("#lock-password", Input).value == ""

        await pilot.press(*PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.results == [True]


async def test_lock_screen_lockout_and_log_out(sessions):
    viewer = sessions["viewer"]
    app = HostApp(lambda: LockScreen(viewer), session=viewer)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lock = app.screen
        for _ in range(5):
            await pilot.press(*"nope-nope", "enter")
            await settle(pilot)
        assert lock.error_text == "Too many failed attempts; try again in 30 s"
        # Even the right password is refused while locked.
        await pilot.press(*PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is lock
        assert lock.error_text.startswith("Too many failed attempts")

        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.results == [False]


def test_account_snapshot(snap_compare, db_url, sessions, tmp_path):
    sqlite_only(db_url)

    async def wrong_password(pilot):
        await _fill(pilot, "not-it", NEW_PASSWORD, NEW_PASSWORD)

    app = make_app(tmp_path, sessions["analyst"])
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("account", wrong_password))


def test_lock_snapshot(snap_compare, db_url, sessions, tmp_path):
    sqlite_only(db_url)

    async def wrong_password(pilot):
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LockScreen)
        await pilot.press(*"nope-nope", "enter")
        await settle(pilot)

    app = make_app(tmp_path, sessions["viewer"])
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("account", wrong_password))
