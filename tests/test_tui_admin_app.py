"""The admin/account/analytics screens inside the real app shell (FinanceApp):
navigation by role, log out, idle lock, palette commands, live refresh hook."""

from __future__ import annotations

from datetime import date

from conftest import PASSWORD
from test_tui_admin_support import SIZE, notifications, settle
from test_tui_support import palette_titles
from textual.widgets import DataTable, Input

from finance_tui.app import FinanceApp
from finance_tui.models import Session, User
from screens.account import AccountScreen, LockScreen
from screens.analytics import AnalyticsScreen
from screens.audit import AuditScreen
from screens.categories import CategoriesScreen
from screens.users import UsersScreen
from screens.widgets import ConfirmModal

TODAY = date(2026, 11, 25)


def _app(session, tmp_path) -> FinanceApp:
    return FinanceApp(
        session=session,
        today=TODAY,
        idle_lock_minutes=0,
        state_path=tmp_path / "tui.json",
        refresh_seconds=0,
        db_label="test",
    )


async def test_admin_reaches_every_admin_screen_and_logs_out(admin, tmp_path):
    app = _app(admin, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, cls in (
            ("3", AnalyticsScreen),
            ("4", CategoriesScreen),
            ("5", UsersScreen),
            ("6", AuditScreen),
            ("7", AccountScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, cls), key
        await pilot.press("5")
        await settle(pilot)
        assert app.screen.query_one(DataTable).row_count == 1
        titles = palette_titles(app, app.screen)
        assert "Users: new user" in titles and "Users: change role" in titles

        await pilot.press("7")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.session is None
        assert type(app.screen).__name__ == "LoginScreen"
    assert Session.get(Session.jti == admin.principal.session_jti).revoked_at is not None


async def test_roles_decide_what_opens(sessions, tmp_path):
    viewer_app = _app(sessions["viewer"], tmp_path)
    async with viewer_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        start = viewer_app.screen
        for key in ("3", "4", "5", "6"):
            await pilot.press(key)
            await settle(pilot)
            assert viewer_app.screen is start, key
        names = {e.name for e in viewer_app.nav_entries()}
        assert not names & {"analytics", "categories", "users", "audit"}
        await pilot.press("7")
        await settle(pilot)
        assert isinstance(viewer_app.screen, AccountScreen)
        titles = palette_titles(viewer_app, viewer_app.screen)
        assert not any(t.startswith(("Users:", "Analytics:", "Audit:")) for t in titles)

    analyst_app = _app(sessions["analyst"], tmp_path)
    async with analyst_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(analyst_app.screen, AnalyticsScreen)
        assert analyst_app.screen.today == TODAY  # the shell's fixed date is used
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(analyst_app.screen, AnalyticsScreen)


async def test_lock_and_unlock_inside_the_app(sessions, tmp_path):
    analyst = sessions["analyst"]
    app = _app(analyst, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        await pilot.press("5")  # navigation keys are inert while locked
        await settle(pilot)
        assert app.screen is lock
        assert lock.query_one("#lock-password", Input).value == "5"
        lock.query_one("#lock-password", Input).value = ""
        await pilot.press(*"wrong-one", "enter")
        await settle(pilot)
        assert lock.error_text == "Invalid credentials"
        await pilot.press(*PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, AnalyticsScreen)
        assert app.session is analyst

        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.session is None
        assert type(app.screen).__name__ == "LoginScreen"


async def test_live_refresh_hook_reloads_users(admin, make_user, tmp_path):
    app = _app(admin, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        make_user("viewer", name="newcomer")  # another session's change
        app.database_changed()
        await settle(pilot)
        assert table.row_count == 2


async def test_demoting_yourself_closes_the_admin_screens(admin, make_user, tmp_path):
    make_user("admin", name="second")
    app = _app(admin, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        users = app.screen
        names = [str(users.query_one(DataTable).get_row_at(i)[0]) for i in range(2)]
        users.query_one(DataTable).move_cursor(row=names.index("root"))
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("up", "enter")  # Admin → Analyst
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert User.get(User.username_lower == "root").role == "analyst"
        assert app.current_screen_name == "dashboard"
        await pilot.press("5")
        await settle(pilot)
        assert app.current_screen_name == "dashboard"
        assert "root is now analyst" in notifications(app)


async def test_escape_leaves_inputs_so_digits_navigate(admin, tmp_path):
    app = _app(admin, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7", "tab")
        await settle(pilot)
        assert isinstance(app.focused, Input)
        await pilot.press("5")
        assert isinstance(app.screen, AccountScreen)  # typed into the password box
        await pilot.press("escape", "3")
        await settle(pilot)
        assert isinstance(app.screen, AnalyticsScreen)
        app.screen.query_one("#compare-from", Input).focus()
        await pilot.press("4")
        assert isinstance(app.screen, AnalyticsScreen)
        await pilot.press("escape", "4")
        await settle(pilot)
        assert isinstance(app.screen, CategoriesScreen)
