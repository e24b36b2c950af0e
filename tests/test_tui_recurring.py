"""Recurring screen (admin) and the run at login: add, remove, run due; fit; snapshot."""

from __future__ import annotations

from datetime import date

from rich.cells import cell_len
from test_tui_admin_support import SIZE, HostApp, in_shell, notifications, settle, sqlite_only
from test_tui_contrast import AA, painted_text
from test_tui_support import TODAY, make_app
from textual.widgets import DataTable, Input, Select, Static

from finance_tui.clock import Clock
from finance_tui.models import Record, Schedule
from screens.admin_widgets import FormModal
from screens.dashboard import DashboardScreen
from screens.recurring import RecurringScreen
from screens.widgets import ConfirmModal

RENT = {"every": "month", "day": "1", "kind": "expense", "amount": "1250", "category": "rent"}
HOSTILE = "[b]Markup[/b] stays literal ]8;;http://x\\ tab\there"


def _cells(app) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_add_remove_and_run_due(admin):
    app = HostApp(lambda: RecurringScreen(admin), clock=Clock(fixed_today=TODAY))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _cells(app) == []
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.query_one("#field-start", Input).value == "2026-11-25"
        form.query_one("#field-day", Input).value = "32"
        form.query_one("#field-amount", Input).value = "-3"
        form.query_one("#field-category", Input).value = "salary"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # nothing saved, each message beside its field
        assert form.error_of("day").startswith("must be a day of the month from 1 to 31")
        assert form.error_of("amount") == "must be positive (the kind says income or expense)"
        assert form.error_of("category") == "'salary' is for income records, not expense"
        assert Schedule.select().count() == 0

        form.query_one("#field-day", Input).value = "31"
        form.query_one("#field-amount", Input).value = "1,250"
        form.query_one("#field-category", Input).value = "rent"
        form.query_one("#field-notes", Input).value = "flat"
        form.query_one("#field-start", Input).value = "2026-09-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RecurringScreen)
        assert "Schedule #1 added: monthly on day 31" in notifications(app)
        assert _cells(app) == [
            ["1", "monthly on day 31", "2026-09-30", "-1,250.00", "rent", "flat"]
        ]

        await pilot.press("r")  # Sept 30 and Oct 31 are due on Nov 25
        await settle(pilot)
        assert "Recurring: created 2 records" in notifications(app)
        assert [r.date for r in Record.select().order_by(Record.date)] == [
            date(2026, 9, 30),
            date(2026, 10, 31),
        ]
        assert _cells(app)[0][2] == "2026-11-30"

        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert Schedule.get().is_active
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not Schedule.get().is_active
        assert _cells(app) == []
        assert Record.select().count() == 2  # its records stay


async def test_weekly_form_choice(admin):
    app = HostApp(lambda: RecurringScreen(admin), clock=Clock(fixed_today=TODAY))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        form.query_one("#field-every", Select).value = "week"
        form.query_one("#field-day", Input).value = "fri"
        form.query_one("#field-amount", Input).value = "20"
        form.query_one("#field-category", Input).value = "food"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _cells(app)[0][:3] == ["1", "weekly on Friday", "2026-11-27"]


async def test_analyst_has_no_recurring_screen(sessions, tmp_path):
    app = HostApp(lambda: RecurringScreen(sessions["analyst"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.screen.query(DataTable)
        assert "admins only" in str(app.screen.query_one("#recurring-denied", Static).render())
    shell = make_app(tmp_path, sessions["analyst"])
    async with shell.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("0")
        await settle(pilot)
        assert shell.current_screen_name == "dashboard"


async def test_login_runs_due_schedules_without_blocking(sessions, tmp_path):
    """A viewer opening the app creates what an admin scheduled; the dashboard comes
    first, the notification after, and a second login creates nothing more."""
    sessions["admin"].recurring.add({**RENT, "start": "2026-09-01"}, today=TODAY)
    app = make_app(tmp_path, sessions["viewer"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "Recurring: created 3 records" in notifications(app)
    assert Record.select().count() == 3
    again = make_app(tmp_path, sessions["analyst"])
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not [n for n in notifications(again) if n.startswith("Recurring")]
    assert Record.select().count() == 3


async def test_fits_80x24_under_no_color_with_hostile_text(admin, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    admin.recurring.add({**RENT, "notes": HOSTILE}, today=TODAY)
    admin.recurring.add({**RENT, "kind": "income", "category": "salary"}, today=TODAY)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("0")
        await settle(pilot)
        assert isinstance(app.screen, RecurringScreen) and app.no_color
        cells = _cells(app)
        # Sign, not colour alone, says expense or income; control characters are shown
        # as visible stand-ins, markup as the brackets typed.
        assert [row[3] for row in cells] == ["-1,250.00", "+1,250.00"]
        assert cells[0][5].startswith("[b]Markup[/b] stays literal ") and "\x1b" not in cells[0][5]
        table = app.screen.query_one(DataTable)
        assert table.region.right <= 80
        widths = [column.get_render_width(table) for column in table.columns.values()]
        assert sum(widths[:5]) < 80  # the notes column starts on screen
        summary = app.screen.query_one("#recurring-summary", Static)
        assert cell_len(str(summary.render())) <= 80
        faint = sorted({(round(r, 2), t) for r, t in painted_text(app, sixteen=False) if r < AA})
        assert not faint, faint[:10]


def test_recurring_snapshot(snap_compare, db_url, admin, tmp_path):
    sqlite_only(db_url)
    admin.recurring.add({**RENT, "day": "31", "notes": HOSTILE, "start": "2026-01-01"}, today=TODAY)
    admin.recurring.add(
        {"every": "week", "day": "fri", "kind": "expense", "amount": "45.5", "category": "food"},
        today=TODAY,
    )
    admin.recurring.add(
        {
            "every": "year",
            "kind": "income",
            "amount": "900",
            "category": "salary",
            "start": "2024-02-29",
        },
        today=TODAY,
    )
    assert admin.recurring.run(TODAY).created == 13  # before login: no toast in the picture
    app = make_app(tmp_path, admin)
    assert snap_compare(app, terminal_size=(80, 24), run_before=in_shell("recurring"))
