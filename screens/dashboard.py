"""Dashboard: every KPI of the README's dashboard section for a chosen period, a monthly income-vs-expense
bar chart, top categories, the category breakdown and the 10 most recent records.

Charts come from ``screens.chart``. All numbers come from ``session.dashboard.summary``
in a worker.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Static

from finance_tui.config import settings
from finance_tui.domain.dto import BudgetLine, DashboardData
from finance_tui.domain.periods import PERIODS, first_of_month, resolve_period
from finance_tui.domain.values import DateError, parse_date
from finance_tui.errors import FinanceError, ValidationError
from finance_tui.money import format_decimal
from screens.base import SHARED_STYLES, FinanceScreen, notify_error
from screens.chart import BarChart, budget_bars, month_columns, ranked_bars
from screens.footer import FitFooter
from screens.scroll_pane import ScrollPane
from screens.widgets import (
    KpiCard,
    NavBar,
    Palette,
    ScreenTitle,
    TextInput,
    kind_text,
    literal,
    money_text,
    record_cells,
)

if TYPE_CHECKING:
    from finance_tui.session import SessionController

PERIOD_ORDER = list(PERIODS)
FIELD_NAMES = {"date_from": "From", "date_to": "To"}
CHART_MONTHS = 12
NO_RECORDS = "No records in this period"
KPIS = (
    ("total_income", "Income"),
    ("total_expense", "Expense"),
    ("net_balance", "Net balance"),
    ("month_income", "Month income"),
    ("month_expense", "Month expense"),
    ("month_balance", "Month net"),
    ("record_count", "Records"),
    ("income_pct", "Income share"),
    ("expense_pct", "Expense share"),
    ("avg_income", "Avg income"),
    ("avg_expense", "Avg expense"),
    ("avg_amount", "Avg amount"),
    ("most_frequent_category", "Most frequent"),
    ("top_category", "Top category"),
)

NAME_KPIS = {"most_frequent_category", "top_category"}  # category names, not figures


def compact_count(count: int) -> str:
    """A count short enough for a card's hint line: ``9,999``, then three significant
    digits (``50.8k``, ``949k``, ``1.05M``); the card's own value shows the whole total."""
    if count < 10_000:
        return f"{count:,}"
    value, unit = float(count), ""
    for next_unit in ("k", "M", "G", "T"):
        if value < 999.5 and unit:
            break
        value, unit = value / 1000, next_unit
    decimals = 0 if value >= 99.95 else (1 if value >= 9.995 else 2)
    return f"{value:.{decimals}f}{unit}"


def budget_month(data: DashboardData, today: date) -> date:
    """The month the Budgets panel shows: the period's last month (this month when the
    period has no end, e.g. all time)."""
    return first_of_month(data.date_to or today)


class RangeInput(TextInput):
    """A custom-range date box; the footer names its keys while it has focus."""

    BINDINGS = [
        Binding("enter", "submit", "Apply range", id="range-input.apply-range"),
        Binding("escape", "screen.leave_range", "Cancel", id="range-input.cancel"),
    ]


class PeriodChoices(Static):
    """The periods in a row, the chosen one highlighted; a click chooses one. On a
    narrow terminal the "Period:" label goes, so every choice stays whole."""

    def __init__(self, current: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = current
        self._spans: list[tuple[int, int, str]] = []

    def show(self, current: str) -> None:
        self.current = current
        self.update(self.build())

    def on_mount(self) -> None:
        self.update(self.build())

    def on_resize(self) -> None:
        self.update(self.build())

    def build(self) -> Text:
        narrow = 0 < self.screen.size.width < 92
        text = Text() if narrow else Text("Period: ", style="bold")
        self._spans = []
        for name in PERIOD_ORDER:
            start = len(text)
            style = "bold reverse" if name == self.current else Palette.muted
            text.append(f" {PERIODS[name]} ", style=style)
            self._spans.append((start, len(text), name))
            text.append("" if narrow else " ")
        return text

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for start, end, name in self._spans:
            if start <= offset.x < end:
                screen = self.screen
                if isinstance(screen, DashboardScreen):  # as its key does: c focuses "from"
                    screen.action_custom() if name == "custom" else screen.set_period(name)
                return


class DashboardScreen(FinanceScreen):
    """KPIs for a period; needs ``Permission.VIEW_DASHBOARD`` (every role)."""

    TITLE = "Dashboard"
    CSS_PATH = [*SHARED_STYLES, "../styles/dashboard.tcss"]
    AUTO_FOCUS = "#dash-body"
    # KPI cards per row by terminal width: each card needs 23 cells to show a figure of
    # 12 digits whole ("+999,999,999,999.99" and its border and padding). Wider figures
    # (totals past a trillion) take fewer cards per row (``_fit_cards``). Below 120
    # columns the tables stack too (the classes, in styles/dashboard.tcss).
    CARDS_PER_ROW = ((0, 3), (94, 4), (117, 5), (163, 7))
    HORIZONTAL_BREAKPOINTS = [(least, f"-cards-{cards}") for least, cards in CARDS_PER_ROW]
    HELP = (
        "p / P cycles the period (all time, this month, last month, last 30 days, "
        "year to date, custom). c edits a custom range: type the dates (ISO, today, -30; "
        "Tab to the other box), Enter applies them, Escape leaves the boxes and keeps "
        "the period that was showing."
    )
    BINDINGS = [
        Binding("p", "period(1)", "Next period", id="dashboard.next-period"),
        Binding("P", "period(-1)", "Prev period", key_display="P", id="dashboard.prev-period"),
        Binding("c", "custom", "Custom range", id="dashboard.custom-range"),
        Binding("f5", "reload", "Refresh", id="dashboard.refresh"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.period = "all"
        self.custom_from: date | None = None
        self.custom_to: date | None = None
        self.period_before_custom = "all"
        self.data: DashboardData | None = None

    def compose(self) -> ComposeResult:
        yield ScreenTitle("Dashboard", id="dash-title")
        yield NavBar("dashboard")
        with Horizontal(id="period-bar"):
            yield PeriodChoices(self.period, id="period-choices")
        with Horizontal(id="range-bar"):
            yield Label("Custom range", id="range-label")
            yield RangeInput(placeholder="from", id="period-from", classes="period-date")
            yield RangeInput(placeholder="to", id="period-to", classes="period-date")
            yield Static(
                Text("Enter apply · Tab other date · Esc cancel", style="dim"), id="range-hint"
            )
        yield Static("", id="period-error")
        with ScrollPane(id="dash-body"):
            with Grid(id="kpi-grid"):
                for key, title in KPIS:
                    yield KpiCard(title, names=key in NAME_KPIS, id=f"kpi-{key}")
            with Horizontal(id="dash-charts"):
                yield BarChart(month_columns, empty=NO_RECORDS, id="monthly-chart")
                yield BarChart(
                    ranked_bars, title="Top 5 categories", empty=NO_RECORDS, id="top-categories"
                )
            yield BarChart(budget_bars, id="budget-chart")
            with Horizontal(id="dash-tables"):
                with Vertical(id="recent-box"):
                    yield Label("10 most recent records", classes="dash-heading")
                    yield DataTable(id="recent-table", cursor_type="row", zebra_stripes=True)
                with Vertical(id="breakdown-box"):
                    yield Label("Category breakdown", classes="dash-heading")
                    yield DataTable(id="breakdown-table", cursor_type="row", zebra_stripes=True)
        yield FitFooter()

    def on_mount(self) -> None:
        recent = self.query_one("#recent-table", DataTable)
        recent.add_column("Date", width=10)
        recent.add_column("Kind", width=7)
        recent.add_column("Category", width=12)
        recent.add_column(Text("Amount", justify="right"), width=14)
        recent.add_column("Notes", width=20)
        breakdown = self.query_one("#breakdown-table", DataTable)
        breakdown.add_column("Category", width=12)
        breakdown.add_column("Kind", width=7)
        breakdown.add_column(Text("Count", justify="right"), width=9)
        breakdown.add_column(Text("Total", justify="right"), width=19)
        self._show_custom_inputs()
        self.reload()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_cards(event.size.width)

    def _fit_cards(self, width: int) -> None:
        """As many cards per row as ``CARDS_PER_ROW`` gives the width, fewer if a figure
        shown needs more room than that leaves it: a figure is never cut."""
        per_row = max(cards for least, cards in self.CARDS_PER_ROW if width >= least)
        room = width - self.query_one("#dash-body").styles.scrollbar_size_vertical
        need = max(card.needed_width for card in self.query(KpiCard))
        while per_row > 1 and room // per_row < need:
            per_row -= 1
        self.query_one("#kpi-grid").styles.grid_size_columns = per_row

    # ---- period -------------------------------------------------------------------
    def _show_custom_inputs(self) -> None:
        self.query_one("#range-bar").display = self.period == "custom"

    def action_period(self, step: int) -> None:
        index = (PERIOD_ORDER.index(self.period) + step) % len(PERIOD_ORDER)
        self.set_period(PERIOD_ORDER[index])

    def action_custom(self) -> None:
        self.set_period("custom")
        self.query_one("#period-from", Input).focus()

    def action_leave_range(self) -> None:
        """Escape in the range boxes: drop what was typed, back to the dashboard.

        A range applied earlier stays; if none was, the period before ``c`` returns.
        """
        if self.custom_from is None and self.custom_to is None:
            self.set_period(self.period_before_custom)
        else:
            self._fill_range_boxes()
        for box in self.query(".period-date"):
            box.remove_class("-bad-date")
        self._period_error("")
        self.query_one("#dash-body").focus()

    def _fill_range_boxes(self) -> None:
        for name, day in (("from", self.custom_from), ("to", self.custom_to)):
            self.query_one(f"#period-{name}", Input).value = day.isoformat() if day else ""

    def set_period(self, name: str) -> None:
        if name == "custom" and self.period != "custom":
            self.period_before_custom = self.period
        self.period = name
        self.query_one(PeriodChoices).show(name)
        self._show_custom_inputs()
        self._period_error("")
        self.reload()

    @on(Input.Submitted, ".period-date")
    def _dates_entered(self, event: Input.Submitted) -> None:
        event.stop()
        today = self._today()
        errors: list[str] = []
        values: dict[str, date | None] = {}
        for name, label in (("from", "From"), ("to", "To")):
            box = self.query_one(f"#period-{name}", Input)
            values[name] = None
            problem = ""
            if box.value.strip():
                try:
                    values[name] = parse_date(box.value, today)
                except DateError as exc:
                    problem = f"{label} {exc}"
            box.set_class(bool(problem), "-bad-date")
            if problem:
                errors.append(problem)
        if not errors:
            try:  # the core's own check (to before from), before anything changes
                resolve_period("custom", today, values["from"], values["to"])
            except ValidationError as exc:
                errors = [f"{FIELD_NAMES.get(k, k)} {v}" for k, v in exc.fields.items()]
        if errors:
            self._period_error(" · ".join(errors) + " — the range was not changed")
            return
        self.custom_from, self.custom_to = values["from"], values["to"]
        self._period_error("")
        if event.input.id == "period-from":
            self.query_one("#period-to", Input).focus()
        else:
            self.query_one("#dash-body").focus()  # applied: the dashboard keys work again
        self.reload()

    def _period_error(self, message: str) -> None:
        """Show (or clear) the range error on its own full-width line."""
        error = self.query_one("#period-error", Static)
        error.update(literal(message))
        error.display = bool(message)

    def _today(self) -> date:
        return self.shell.clock.today()

    # ---- data -----------------------------------------------------------------------
    def refresh_data(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load(self.period, self._today(), self.custom_from, self.custom_to)

    @work(exclusive=True, group="dashboard")
    async def _load(
        self, period: str, today: date, date_from: date | None, date_to: date | None
    ) -> None:
        """One load at a time: choosing another period cancels the load under way, so
        the figures shown are always those of the period chosen last."""
        dashboard, budgets = self.session.dashboard, self.session.budgets

        def call() -> tuple[DashboardData, date, list[BudgetLine]]:
            if period == "custom":
                data = dashboard.summary(
                    "custom", today=today, date_from=date_from, date_to=date_to
                )
            else:
                data = dashboard.summary(period, today=today)
            month = budget_month(data, today)
            return data, month, budgets.for_month(month)

        try:
            data, month, lines = await self.fetch(call)
        except ValidationError as exc:
            self._period_error(
                " · ".join(f"{FIELD_NAMES.get(k, k)} {v}" for k, v in exc.fields.items())
            )
            return
        except FinanceError as exc:
            notify_error(self, exc)
            return
        # No clearing of the range error here: it is cleared when a range or period is
        # chosen. A load still under way when the next date was refused must not take
        # that refusal off the screen as it lands.
        self.show(data)
        self.show_budgets(month, lines)

    def show_budgets(self, month: date, lines: list[BudgetLine]) -> None:
        """The Budgets panel: the chosen month's spending against each budget."""
        panel = self.query_one("#budget-chart", BarChart)
        panel.border_title = f"Budgets · {month:%B %Y}"
        panel.plot(lines, f"No budgets for {month:%B %Y}")

    def show(self, data: DashboardData) -> None:
        self.data = data
        currency = settings().currency
        self.query_one("#dash-title", ScreenTitle).update(
            literal(f"Dashboard — {data.period_label} · amounts in {currency}")
        )

        def card(key: str, value: str | Text, hint: str | Text = "") -> None:
            self.query_one(f"#kpi-{key}", KpiCard).set_value(value, hint)

        card(
            "total_income",
            money_text(data.total_income, "income"),
            f"{data.income_count:,} records",
        )
        card(
            "total_expense",
            money_text(data.total_expense, "expense"),
            f"{data.expense_count:,} records",
        )
        card("net_balance", money_text(data.net_balance))
        month = f"{self._today():%b %Y}"
        card("month_income", money_text(data.month_income, "income"), month)
        card("month_expense", money_text(data.month_expense, "expense"), month)
        card("month_balance", money_text(data.month_balance), month)
        card(
            "record_count",
            f"{data.record_count:,}",
            f"{compact_count(data.income_count)} in/{compact_count(data.expense_count)} out",
        )
        card("income_pct", f"{data.income_pct}%", "of all amounts")
        card("expense_pct", f"{data.expense_pct}%", "of all amounts")
        card("avg_income", money_text(data.avg_income, "income"))
        card("avg_expense", money_text(data.avg_expense, "expense"))
        card("avg_amount", format_decimal(data.avg_amount), "all records")
        card("most_frequent_category", data.most_frequent_category, "by count")
        top = data.top_categories[0] if data.top_categories else None
        card(
            "top_category",
            top.category if top else "N/A",
            money_text(top.total, top.kind) if top else "",  # the sign tells the kind
        )  # fmt: skip
        self._fit_cards(self.size.width)
        self.query_one("#monthly-chart", BarChart).plot(data.monthly[-CHART_MONTHS:])
        self.query_one("#top-categories", BarChart).plot(data.top_categories)

        recent = self.query_one("#recent-table", DataTable)
        recent.clear()
        for row in data.recent:
            recent.add_row(*record_cells(row))
        breakdown = self.query_one("#breakdown-table", DataTable)
        breakdown.clear()
        for item in data.category_breakdown:
            breakdown.add_row(
                literal(item.category),
                kind_text(item.kind),
                Text(f"{item.count:,}", justify="right"),
                money_text(item.total, item.kind),
            )
