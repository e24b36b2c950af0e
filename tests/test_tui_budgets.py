"""Budgets screen (nav key 9), the dashboard's Budgets panel and analytics' budget tab."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_tui_admin_support import in_shell, notifications, sqlite_only
from test_tui_contrast import AA, painted_text
from test_tui_support import make_app, settle
from textual.widgets import DataTable, Input, Static

from finance_tui.models import Budget, Category
from screens.admin_widgets import FormModal
from screens.budgets import BudgetsScreen
from screens.chart import BarChart

SMALL = (80, 24)


def _spend(admin, amount: str, day: str, category: str = "food") -> None:
    admin.records.create({"kind": "expense", "amount": amount, "category": category, "date": day})


def _budgeted(admin) -> None:
    """November 2026: food over budget, rent under; October: food only."""
    admin.budgets.set("food", "100", "2026-10")
    admin.budgets.set("rent", "1,200", "2026-11")
    _spend(admin, "150.50", "2026-11-03")
    _spend(admin, "900", "2026-11-01", "rent")
    _spend(admin, "40", "2026-10-12")


def _rows(app) -> list[list[str]]:
    table = app.screen.query_one("#budgets-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def _open(pilot) -> None:
    await settle(pilot)
    await pilot.press("9")
    await settle(pilot)


async def test_everyone_sees_the_month_and_moves_between_months(sessions, tmp_path):
    _budgeted(sessions["admin"])
    app = make_app(tmp_path, sessions["viewer"])
    async with app.run_test(size=SMALL) as pilot:
        await _open(pilot)
        assert isinstance(app.screen, BudgetsScreen)
        assert _rows(app) == [
            ["food", "100.00", "150.50", "-50.50", "█████ 150%", "OVER"],
            ["rent", "1,200.00", "900.00", "300.00", "███▊░  75%", ""],
        ]
        summary = str(app.screen.query_one("#budgets-summary", Static).render())
        assert summary == "2 budgets · 1,050.50 spent of 1,300.00 · 1 OVER"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert _rows(app) == [["food", "100.00", "40.00", "60.00", "██░░░  40%", ""]]
        assert "October 2026" in str(app.screen.query_one("#budgets-month", Static).render())
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert _rows(app) == []
        assert "No budgets in September 2026" in str(
            app.screen.query_one("#budgets-summary", Static).render()
        )
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert len(_rows(app)) == 2
        # The admin keys are absent for a viewer: nothing opens, nothing is written.
        await pilot.press("n", "x")
        await settle(pilot)
        assert isinstance(app.screen, BudgetsScreen)
        keys = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert "n" not in keys and "x" not in keys
        titles = [c.title for c in app.screen.palette_commands()]
        assert titles == ["Budgets: previous month", "Budgets: next month"]


async def test_admin_sets_and_removes_with_field_errors(admin, tmp_path):
    _budgeted(admin)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SMALL) as pilot:
        await _open(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.values() == {"category": "food", "amount": "100.00", "from": "2026-11"}
        form.query_one("#field-amount", Input).value = "-3"
        form.query_one("#field-from", Input).value = "2026-14"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.error_of("amount") == "must be greater than zero"
        assert form.error_of("from") == "is not a month (use YYYY-MM, e.g. 2026-11)"
        assert Budget.select().count() == 2
        form.query_one("#field-amount", Input).value = "175.25"
        form.query_one("#field-from", Input).value = "2026-11"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BudgetsScreen)
        assert _rows(app)[0][:4] == ["food", "175.25", "150.50", "24.75"]
        assert "Budget of food: 175.25 from 2026-11 on" in notifications(app)

        await pilot.press("x")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal) and form.values() == {"from": "2026-11"}
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [row[0] for row in _rows(app)] == ["rent"]
        assert "Removed the budget of food from 2026-11 on" in notifications(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert _rows(app)[0][:2] == ["food", "100.00"]  # October keeps its budget


async def test_hostile_category_names_are_shown_literally(admin, tmp_path):
    evil = "[b]x[/b]\x1b[2J"  # stored before names were checked
    Category.create(name=evil, name_lower=evil.lower(), kind="expense")
    admin.budgets.set(evil, "10", "2026-11")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SMALL) as pilot:
        await _open(pilot)
        assert _rows(app)[0][0] == "[b]x[/b]␛[2J"


async def test_dashboard_panel_for_the_chosen_month(admin, tmp_path):
    _budgeted(admin)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one("#budget-chart", BarChart)
        assert panel.border_title == "Budgets · November 2026"
        lines = str(panel.render()).splitlines()
        assert lines[0].startswith("food ") and lines[0].endswith("   150.50 / 100.00 -50.50 OVER")
        assert lines[1].endswith(" 900.00 / 1,200.00 300.00 left")
        assert "██" in lines[0] and "░" in lines[1]
        await pilot.press("p", "p")  # all time -> this month -> last month
        await settle(pilot)
        assert panel.border_title == "Budgets · October 2026"
        assert [line.split()[0] for line in str(panel.render()).splitlines()] == ["food"]


async def test_dashboard_panel_without_budgets_says_so(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = str(app.screen.query_one("#budget-chart", BarChart).render())
        assert text == "No budgets for November 2026"


async def test_analytics_budget_against_actual(admin, tmp_path):
    _budgeted(admin)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        chart = app.screen.query_one("#budget-trend-chart", BarChart)
        lines = str(chart.render()).splitlines()
        assert lines[0].split() == ["Month", "Budget", "Spent", "Left"]
        assert lines[-1].startswith("2026-11") and lines[-1].endswith("249.50 left")
        assert lines[-2].startswith("2026-10") and lines[-2].endswith("60.00 left")
        assert lines[-3].endswith("no budget")
        assert app.screen.budget_trend[-1].budget == Decimal("1300.00")


@pytest.mark.parametrize("mode", ["default", "no_color"])
async def test_budgets_read_at_aa(admin, tmp_path, monkeypatch, mode):
    _budgeted(admin)
    if mode == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SMALL) as pilot:
        await _open(pilot)
        cells = painted_text(app, sixteen=False)
        assert "OVER" in " ".join(text for _, text in cells)
        faint = sorted({(round(r, 2), t) for r, t in cells if r < AA})
        assert not faint, faint[:10]


def test_budgets_snapshot(snap_compare, db_url, admin, tmp_path):
    sqlite_only(db_url)
    _budgeted(admin)
    admin.categories.create("[b]Markup[/b] stays", "expense")
    admin.budgets.set("[b]Markup[/b] stays", "99,999,999.99", "2026-11")
    app = make_app(tmp_path, admin)
    assert snap_compare(app, terminal_size=SMALL, run_before=in_shell("budgets"))
