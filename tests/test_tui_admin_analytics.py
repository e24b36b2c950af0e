"""Analytics screen: comparison table, trends chart, category drill-down; snapshots."""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text
from test_tui_admin_support import SIZE, HostApp, in_shell, notifications, settle, sqlite_only
from test_tui_support import make_app
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from finance_tui.clock import Clock
from finance_tui.db import write_transaction
from finance_tui.models import Category
from finance_tui.services.analytics import add_months
from finance_tui.services.bulk import NewRecord, insert_records
from screens.analytics import AnalyticsScreen
from screens.chart import BarChart, hbar, month_rows

TODAY = date(2026, 11, 25)
STAMP = datetime(2026, 11, 25, 9, 0)


def _cat(name: str) -> int:
    return Category.get(Category.name_lower == name).id


def _insert(admin, rows: list[tuple[str, str, int, date, str]]) -> None:
    with write_transaction():
        insert_records(
            [
                NewRecord(kind, minor, _cat(cat), day, notes, created_at=STAMP)
                for kind, cat, minor, day, notes in rows
            ],
            admin.principal.user_id,
        )


def _small(admin) -> None:
    _insert(
        admin,
        [
            ("income", "salary", 300_000, date(2026, 11, 5), "November pay"),
            ("expense", "food", 12_050, date(2026, 11, 10), "lunch"),
            ("income", "salary", 250_000, date(2026, 10, 5), "October pay"),
            ("expense", "rent", 100_000, date(2026, 10, 12), "rent"),
            ("expense", "food", 8_000, date(2026, 10, 20), "groceries"),
        ],
    )


def _year(admin) -> None:
    """Twelve months of salary, rent and food with a visible shape (for snapshots)."""
    rows = []
    for i in range(12):
        month = add_months(date(2025, 12, 1), i)
        rows.append(("income", "salary", 200_000 + 10_000 * i, month.replace(day=3), "pay"))
        rows.append(("expense", "rent", 90_000, month.replace(day=5), "rent"))
        note = "[bold]not bold[/bold]" if i == 11 else "food"
        rows.append(("expense", "food", 5_000 * (i + 1), month.replace(day=18), note))
    rows.append(("income", "investment", 45_075, date(2026, 6, 30), "dividend <script>"))
    _insert(admin, rows)


def _cells(table: DataTable, key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


def _plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def test_comparison_table(sessions):
    _small(sessions["admin"])
    app = HostApp(lambda: AnalyticsScreen(sessions["analyst"]), clock=Clock(fixed_today=TODAY))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#compare-table", DataTable)
        assert _cells(table, "income") == ["Income", "3,000.00", "2,500.00", "+500.00", "+20.00%"]
        assert _cells(table, "expense") == [
            "Expense",
            "120.50",
            "1,080.00",
            "-959.50",
            "-88.84%",
        ]
        assert _cells(table, "net") == ["Net", "2,879.50", "1,420.00", "+1,459.50", "+102.78%"]
        assert _cells(table, "records") == ["Records", "2", "3", "-1", ""]
        assert "2026-11-01 – 2026-11-30   vs previous 2026-10-01 – 2026-10-31" in _plain(
            screen.query_one("#compare-range", Static)
        )

        # Last month: October vs September (nothing in September → % is n/a).
        screen.query_one("#compare-period", Select).value = "last_month"
        await settle(pilot)
        assert _cells(table, "income") == ["Income", "2,500.00", "0.00", "+2,500.00", "n/a"]

        # A custom range typed in the date boxes (Enter applies it).
        screen.query_one("#compare-from", Input).value = "2026-10-01"
        screen.query_one("#compare-to", Input).focus()
        await pilot.press(*"today", "enter")
        await settle(pilot)
        assert screen.query_one("#compare-period", Select).value == "custom"
        assert _cells(table, "income")[1] == "5,500.00"
        assert "2026-10-01 – 2026-11-25" in _plain(screen.query_one("#compare-range", Static))

        # A bad date is reported; the last good comparison stays.
        screen.query_one("#compare-to", Input).value = "2026-02-30"
        await pilot.press("enter")
        await settle(pilot)
        assert any(n.startswith("Custom period — to: ") for n in notifications(app))
        assert screen.query_one("#compare-to", Input).has_class("bad-date")
        assert _cells(table, "income")[1] == "5,500.00"


async def test_trends_and_drilldown(sessions):
    _year(sessions["admin"])
    _small(sessions["admin"])
    app = HostApp(lambda: AnalyticsScreen(sessions["admin"]), clock=Clock(fixed_today=TODAY))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("t")
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "trends"
        chart = screen.query_one("#trend-chart", BarChart)
        assert [p.month for p in chart.data][0] == date(2025, 12, 1)
        assert len(chart.data) == 12
        nov = chart.data[-1]
        # 2026-11: salary 3,100 + 3,000; rent 900; food 600 + 120.50.
        assert str(nov.income) == "6100.00" and str(nov.expense) == "1620.50"
        lines = month_rows(chart.data, 118).plain.splitlines()
        assert lines[0].startswith("Month    Income")
        assert lines[-1].startswith("2026-11") and lines[-1].endswith("+4,479.50")
        assert "Total: income" in _plain(screen.query_one("#trend-total", Static))

        await pilot.press("m")
        await settle(pilot)
        assert len(chart.data) == 24 and chart.data[0].month == date(2024, 12, 1)

        await pilot.press("d")
        await settle(pilot)
        screen.query_one("#drill-category", Select).value = _cat("food")
        await settle(pilot)
        summary = _plain(screen.query_one("#drill-summary", Static))
        assert summary.startswith("food (expense) · 2024-12 – 2026-11: income 0.00")
        # food over the window: 50 + 100 + ... + 600 (= 3,900) + 120.50 + 80.00
        assert "expense 4,100.50 · 14 records" in summary
        largest = screen.query_one("#drill-largest", DataTable)
        first = [str(c) for c in largest.get_row_at(0)]
        assert first[:3] == ["2026-11-18", "expense", "-600.00"]
        assert first[3] == "[bold]not bold[/bold]"  # typed text, shown literally
        assert largest.row_count == 10


async def test_viewer_cannot_open_analytics(sessions):
    app = HostApp(lambda: AnalyticsScreen(sessions["viewer"]), clock=Clock(fixed_today=TODAY))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.screen.query(TabbedContent)
        assert "permission" in _plain(app.screen.query_one("#analytics-denied", Static))
        await pilot.press("t", "m")
        await settle(pilot)
        assert notifications(app) == []


def test_bar_uses_integer_eighths():
    assert hbar(0, 100, 4) == "    "
    assert hbar(100, 100, 4) == "████"
    assert hbar(50, 100, 4) == "██  "
    assert hbar(1, 100, 4) == "▏   "  # anything above zero is visible
    assert hbar(99_999_999_99, 99_999_999_99, 3) == "███"


def test_compare_snapshot(snap_compare, db_url, sessions, tmp_path):
    sqlite_only(db_url)
    _year(sessions["admin"])
    _small(sessions["admin"])
    app = make_app(tmp_path, sessions["analyst"], today=TODAY)
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("analytics"))


def test_trends_snapshot(snap_compare, db_url, sessions, tmp_path):
    sqlite_only(db_url)
    _year(sessions["admin"])

    async def open_trends(pilot):
        await pilot.press("t")
        await settle(pilot)

    app = make_app(tmp_path, sessions["analyst"], today=TODAY)
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("analytics", open_trends))


def test_drilldown_snapshot(snap_compare, db_url, sessions, tmp_path):
    sqlite_only(db_url)
    _year(sessions["admin"])
    _small(sessions["admin"])
    food = _cat("food")

    async def open_food(pilot):
        await pilot.press("d")
        await settle(pilot)
        pilot.app.screen.query_one("#drill-category", Select).value = food
        await settle(pilot)
        pilot.app.screen.query_one("#drill-largest", DataTable).focus()
        await settle(pilot)

    app = make_app(tmp_path, sessions["analyst"], today=TODAY)
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("analytics", open_food))
