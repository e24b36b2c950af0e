"""Analytics (analyst + admin): this period vs the previous one, monthly trends over
12 or 24 months, and a drill-down into one category (its months and largest records).

Every figure comes from ``session.analytics`` (computed in SQL, mostly from the monthly
summary table) in a worker thread; the screen only lays it out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import (
    DataTable,
    Input,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from finance_tui.domain.dto import BudgetMonth, CategoryRow, MonthPoint
from finance_tui.domain.periods import COMPARABLE_PERIODS, PERIODS, TREND_CHOICES
from finance_tui.domain.values import DateError, parse_date
from finance_tui.money import format_decimal
from finance_tui.permissions import Permission
from screens.admin_widgets import pct_text, signed_money_text
from screens.base import SHARED_STYLES, FinanceScreen, PaletteCommand
from screens.chart import BarChart, budget_month_rows, month_rows
from screens.footer import FitFooter
from screens.scroll_pane import ScrollPane
from screens.widgets import (
    NavBar,
    ScreenTitle,
    TextInput,
    fmt_date,
    kind_text,
    literal,
    money_text,
)

if TYPE_CHECKING:
    from finance_tui.domain.dto import CategoryDrilldown, PeriodComparison
    from finance_tui.session import SessionController

PERIOD_CHOICES = [(PERIODS[name], name) for name in COMPARABLE_PERIODS]


def _amount(value: Decimal) -> Text:
    return Text(format_decimal(value), justify="right")


def _totals_line(points: list[MonthPoint]) -> str:
    income = sum((p.income for p in points), Decimal("0.00"))
    expense = sum((p.expense for p in points), Decimal("0.00"))
    net = income - expense
    return (
        f"Total: income {format_decimal(income)} · expense {format_decimal(expense)} · "
        f"net {'+' if net > 0 else ''}{format_decimal(net)}"
    )


class AnalyticsScreen(FinanceScreen):
    """Period comparison, trends and category drill-down. Needs VIEW_ANALYTICS."""

    TITLE = "Analytics"
    CSS_PATH = [*SHARED_STYLES, "../styles/analytics.tcss"]
    BINDINGS = [
        Binding("c", "show_tab('compare')", "Compare", id="analytics.compare"),
        Binding("t", "show_tab('trends')", "Trends", id="analytics.trends"),
        Binding("d", "show_tab('drill')", "Category", id="analytics.category"),
        Binding("b", "show_tab('budgets')", "Budgets", show=False, id="analytics.budgets"),
        Binding("m", "toggle_months", "12/24 months", id="analytics.12-24-months"),
        Binding("f5", "refresh", "Refresh", id="analytics.refresh"),
        Binding("escape", "leave_inputs", "Leave inputs", show=False, id="analytics.leave-inputs"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.allowed = session.can(Permission.VIEW_ANALYTICS)
        self.months = TREND_CHOICES[0]
        self.period = "this_month"
        self.date_from: date | None = None
        self.date_to: date | None = None
        self.category_id: int | None = None
        self.comparison: PeriodComparison | None = None
        self.trend: list[MonthPoint] = []
        self.drill: CategoryDrilldown | None = None
        self.budget_trend: list[BudgetMonth] = []

    @property
    def today(self) -> date:
        """The shell's clock (fixed in tests and snapshots)."""
        return self.shell.clock.today()

    # ---- layout -------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenTitle(self.TITLE)
        yield NavBar("analytics")
        if not self.allowed:
            yield Static(
                "You do not have permission to view analytics (analysts and admins).",
                id="analytics-denied",
            )
            yield FitFooter()
            return
        with TabbedContent(id="analytics-tabs", initial="compare"):
            with TabPane("Compare periods", id="compare"):
                with Horizontal(id="compare-controls"):
                    yield Select(
                        PERIOD_CHOICES, value=self.period, allow_blank=False, id="compare-period"
                    )
                    yield TextInput(placeholder="from (custom): YYYY-MM-DD", id="compare-from")
                    yield TextInput(placeholder="to (custom): YYYY-MM-DD", id="compare-to")
                yield Static("", id="compare-range")
                yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Monthly trends", id="trends"):
                yield Static("", id="trend-info")
                with ScrollPane(id="trend-scroll"):
                    yield BarChart(month_rows, id="trend-chart")
                yield Static("", id="trend-total")
            with TabPane("Category drill-down", id="drill"):
                with Horizontal(id="drill-controls"):
                    yield Select([], prompt="Choose a category", id="drill-category")
                    yield Static("", id="drill-summary")
                with ScrollPane(id="drill-scroll"):
                    yield BarChart(month_rows, empty="Choose a category above", id="drill-chart")
                    yield Static("Largest records in the window", id="drill-largest-title")
                    yield DataTable(id="drill-largest", cursor_type="row", zebra_stripes=True)
            with TabPane("Budgets", id="budgets"):
                yield Static("", id="budget-trend-info")
                with ScrollPane(id="budget-trend-scroll"):
                    yield BarChart(budget_month_rows, id="budget-trend-chart")
        yield FitFooter()

    def on_mount(self) -> None:
        if not self.allowed:
            return
        table = self.query_one("#compare-table", DataTable)
        table.add_column("Figure", width=10)
        for label in ("This period", "Previous period", "Change"):
            table.add_column(label, width=18)
        table.add_column("% change", width=10)
        largest = self.query_one("#drill-largest", DataTable)
        largest.add_column("Date", width=10)
        largest.add_column("Kind", width=7)
        largest.add_column("Amount", width=14)
        largest.add_column("Notes", width=52)
        largest.add_column("Created by", width=14)
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"show_tab", "toggle_months", "refresh", "leave_inputs"}:
            return self.allowed
        return True

    # ---- loading ------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load_comparison()
        self.load_trend()
        self.load_budget_trend()
        self.call_db(
            lambda: self.session.categories.list(include_archived=True),
            self._set_categories,
            group="analytics-categories",
            exclusive=True,
        )
        if self.category_id is not None:
            self.load_drill()

    def refresh_data(self) -> None:
        """App-shell hook: another session changed the database."""
        if self.allowed:
            self.action_refresh()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        if not self.session.can(Permission.VIEW_ANALYTICS):
            return
        yield PaletteCommand(
            "Analytics: compare periods",
            "This period vs the previous one (c)",
            (lambda: self.action_show_tab("compare")),
        )
        yield PaletteCommand(
            "Analytics: monthly trends",
            "Income, expense, net per month (t)",
            (lambda: self.action_show_tab("trends")),
        )
        yield PaletteCommand(
            "Analytics: category drill-down",
            "One category's months and records (d)",
            (lambda: self.action_show_tab("drill")),
        )
        yield PaletteCommand(
            "Analytics: budget against actual",
            "Budgets and spending per month (b)",
            (lambda: self.action_show_tab("budgets")),
        )
        yield PaletteCommand(
            "Analytics: 12/24 months", "Switch the trend window (m)", self.action_toggle_months
        )

    def load_comparison(self) -> None:
        period, start, end, today = self.period, self.date_from, self.date_to, self.today
        self.call_db(
            lambda: self.session.analytics.compare(
                period, today=today, date_from=start, date_to=end
            ),
            self._show_comparison,
            group="analytics-compare",
            exclusive=True,
        )

    def load_trend(self) -> None:
        months, today = self.months, self.today
        self.call_db(
            lambda: self.session.analytics.trends(months, today=today),
            self._show_trend,
            group="analytics-trend",
            exclusive=True,
        )

    def load_budget_trend(self) -> None:
        months, today = self.months, self.today
        self.call_db(
            lambda: self.session.budgets.history(months, today=today),
            self._show_budget_trend,
            group="analytics-budgets",
            exclusive=True,
        )

    def load_drill(self) -> None:
        category_id, months, today = self.category_id, self.months, self.today
        if category_id is None:
            return
        self.call_db(
            lambda: self.session.analytics.category_drilldown(category_id, months, today=today),
            self._show_drill,
            group="analytics-drill",
            exclusive=True,
        )

    # ---- showing --------------------------------------------------------------
    def _show_comparison(self, result: PeriodComparison) -> None:
        self.comparison = result
        cur, prev = result.current, result.previous
        self.query_one("#compare-range", Static).update(
            literal(
                f"{result.label}: {cur.date_from} – {cur.date_to}   vs previous "
                f"{prev.date_from} – {prev.date_to} (same length)"
            )
        )
        table = self.query_one("#compare-table", DataTable)
        table.clear()
        rows = (
            ("Income", result.income, True),
            ("Expense", result.expense, False),
        )
        for label, change, good_up in rows:
            table.add_row(
                Text(label),
                _amount(change.current),
                _amount(change.previous),
                signed_money_text(change.delta, good_when_up=good_up),
                pct_text(change.pct, good_when_up=good_up),
                key=label.lower(),
            )
        table.add_row(
            Text("Net", style="bold"),
            money_text(result.net.current),
            money_text(result.net.previous),
            signed_money_text(result.net.delta),
            pct_text(result.net.pct),
            key="net",
        )
        table.add_row(
            Text("Records"),
            Text(f"{cur.count:,}", justify="right"),
            Text(f"{prev.count:,}", justify="right"),
            Text(f"{cur.count - prev.count:+,}", justify="right"),
            Text(""),
            key="records",
        )

    def _show_trend(self, points: list[MonthPoint]) -> None:
        self.trend = points
        self.query_one("#trend-info", Static).update(
            f"Last {self.months} months to {self.today:%Y-%m} (m: switch to "
            f"{TREND_CHOICES[1] if self.months == TREND_CHOICES[0] else TREND_CHOICES[0]})"
        )
        self.query_one("#trend-chart", BarChart).plot(points, "No data")
        self.query_one("#trend-total", Static).update(_totals_line(points))

    def _show_budget_trend(self, points: list[BudgetMonth]) -> None:
        """Budget against actual: the budgeted categories' spending, month by month."""
        self.budget_trend = points
        over = sum(1 for p in points if p.over)
        self.query_one("#budget-trend-info", Static).update(
            f"Last {self.months} months to {self.today:%Y-%m}, budgeted categories · "
            f"{over} month{'' if over == 1 else 's'} OVER"
        )
        self.query_one("#budget-trend-chart", BarChart).plot(points, "No data")

    def _set_categories(self, rows: list[CategoryRow]) -> None:
        select = self.query_one("#drill-category", Select)
        options = [
            (literal(f"{r.name}{' (archived)' if r.is_archived else ''}"), r.id) for r in rows
        ]
        with select.prevent(Select.Changed):
            select.set_options(options)
            if self.category_id in {r.id for r in rows}:
                select.value = self.category_id

    def _show_drill(self, result: CategoryDrilldown) -> None:
        self.drill = result
        archived = " · archived" if result.is_archived else ""
        self.query_one("#drill-summary", Static).update(
            literal(
                f"{result.category} ({result.kind}{archived}) · {result.date_from:%Y-%m} – "
                f"{result.date_to:%Y-%m}: income {format_decimal(result.income_total)} · "
                f"expense {format_decimal(result.expense_total)} · {result.record_count:,} records"
            )
        )
        self.query_one("#drill-chart", BarChart).plot(result.months, "No data")
        table = self.query_one("#drill-largest", DataTable)
        table.clear()
        for row in result.largest:
            table.add_row(
                Text(fmt_date(row.date)),
                kind_text(row.kind),
                money_text(row.amount, row.kind),
                literal(row.notes),
                literal(row.created_by or "—"),
                key=str(row.id),
            )
        title = self.query_one("#drill-largest-title", Static)
        title.update(
            f"Largest records in the window ({len(result.largest)})"
            if result.largest
            else "No records in this category in the window"
        )

    # ---- controls -------------------------------------------------------------
    @on(Select.Changed, "#compare-period")
    def _period_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        self.period = str(event.value)
        if self.period == "custom":
            if self._read_custom_dates():
                self.load_comparison()
            else:
                self.query_one("#compare-from", Input).focus()
            return
        self.load_comparison()

    @on(Input.Submitted, "#compare-controls Input")
    def _dates_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self._read_custom_dates():
            return
        select = self.query_one("#compare-period", Select)
        self.period = "custom"
        with select.prevent(Select.Changed):
            select.value = "custom"
        self.load_comparison()

    def _read_custom_dates(self) -> bool:
        """Parse the custom range; report problems and keep the last good comparison."""
        values: dict[str, date | None] = {}
        errors: list[str] = []
        for name, widget_id in (("from", "#compare-from"), ("to", "#compare-to")):
            box = self.query_one(widget_id, Input)
            box.remove_class("bad-date")
            text = box.value.strip()
            values[name] = None
            if not text:
                errors.append(f"{name}: is required for a custom period")
                box.add_class("bad-date")
                continue
            try:
                values[name] = parse_date(text, self.today)
            except DateError as exc:
                errors.append(f"{name}: {exc}")
                box.add_class("bad-date")
        if not errors and values["from"] and values["to"] and values["from"] > values["to"]:
            errors.append("to: must not be before the start date")
            self.query_one("#compare-to", Input).add_class("bad-date")
        if errors:
            self.notify("Custom period — " + "; ".join(errors), severity="error", markup=False)
            return False
        self.date_from, self.date_to = values["from"], values["to"]
        return True

    @on(Select.Changed, "#drill-category")
    def _category_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, int):  # Select.NULL: nothing chosen
            return
        self.category_id = event.value
        self.load_drill()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        focus = {
            "compare": "#compare-table",
            "trends": "#trend-scroll",
            "drill": "#drill-category",
            "budgets": "#budget-trend-scroll",
        }[tab]
        self.query_one(focus).focus()

    def action_leave_inputs(self) -> None:
        """Escape leaves a date box or list so letter and digit keys work again."""
        if self.allowed:
            self.action_show_tab(self.query_one(TabbedContent).active or "compare")

    def action_toggle_months(self) -> None:
        self.months = TREND_CHOICES[1] if self.months == TREND_CHOICES[0] else TREND_CHOICES[0]
        self.notify(f"Trends and drill-down now cover {self.months} months")
        self.load_trend()
        self.load_budget_trend()
        self.load_drill()
