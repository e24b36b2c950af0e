"""Budgets: each expense category's monthly budget against what was spent, month by month.

Everyone sees them; admins set and remove them (the keys are absent for other roles,
and the core refuses them anyway). A budget applies from its month on, so setting one
here starts it in the month shown unless another month is typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from finance_tui.config import settings
from finance_tui.domain.dto import BudgetLine, CategoryRow
from finance_tui.domain.periods import first_of_month, first_of_next_month
from finance_tui.money import format_decimal
from finance_tui.permissions import Permission
from screens.admin_widgets import FormField, FormModal
from screens.base import SHARED_STYLES, FinanceScreen, PaletteCommand
from screens.chart import OVER, budget_track
from screens.footer import FitFooter
from screens.widgets import NavBar, Palette, ScreenTitle, literal

if TYPE_CHECKING:
    from finance_tui.session import SessionController

USED_BAR = 5  # cells of the little bar in the Used column
COLUMNS = (
    ("Category", 14),
    ("Budget", 13),
    ("Spent", 13),
    ("Left", 14),
    ("Used", USED_BAR + 5),
    ("", len(OVER)),
)
ADMIN_ACTIONS = {"set_budget", "remove_budget"}


def _amount(value: Decimal, style: str = "") -> Text:
    return Text(format_decimal(value), style=style, justify="right")


def budget_cells(line: BudgetLine) -> list[Text]:
    """A row: over budget is told by the OVER column and the minus sign, not only colour."""
    style = Palette.expense if line.over else Palette.income
    used = Text(budget_track(line.spent, line.budget, USED_BAR), style=style)
    used.append(f"{line.used_pct:>4}%"[-5:], style="")
    return [
        literal(line.category),
        _amount(line.budget),
        _amount(line.spent),
        _amount(line.left, Palette.expense if line.over else ""),
        used,
        Text(OVER if line.over else "", style="bold"),
    ]


class BudgetsScreen(FinanceScreen):
    """A month's budgets; ``[`` / ``]`` move between months. Every role may look."""

    TITLE = "Budgets"
    CSS_PATH = [*SHARED_STYLES, "../styles/budgets.tcss"]
    AUTO_FOCUS = "#budgets-table"
    HELP = (
        "A budget applies from its month on and replaces changes planned after it. "
        "Removing asks from which month: the months before keep their budget; an empty "
        "month removes the category's budget entirely."
    )
    BINDINGS = [
        Binding("left_square_bracket", "month(-1)", "Prev month", key_display="[",
                id="budgets.prev-month"),
        Binding("right_square_bracket", "month(1)", "Next month", key_display="]",
                id="budgets.next-month"),
        Binding("n", "set_budget", "Set", id="budgets.set"),
        Binding("x", "remove_budget", "Remove", id="budgets.remove"),
        Binding("f5", "refresh", "Refresh", id="budgets.refresh"),
    ]  # fmt: skip

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.month: date | None = None
        self.lines: list[BudgetLine] = []

    def compose(self) -> ComposeResult:
        yield ScreenTitle(self.TITLE)
        yield NavBar("budgets")
        yield Static("", id="budgets-month")
        yield DataTable(id="budgets-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="budgets-summary")
        yield FitFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            right = label in {"Budget", "Spent", "Left"}
            table.add_column(Text(label, justify="right" if right else "left"), width=width)
        self.month = first_of_month(self.shell.clock.today())
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ADMIN_ACTIONS:
            return self.session.can(Permission.MANAGE_BUDGETS)
        return True

    # ---- loading ------------------------------------------------------------------
    def refresh_data(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        month = self.month
        if month is None:
            return
        self.call_db(
            lambda: self.session.budgets.for_month(month),
            self._show,
            group="budgets-load",
            exclusive=True,
        )

    def _show(self, lines: list[BudgetLine]) -> None:
        current = self.current_line()
        self.lines = lines
        table = self.query_one(DataTable)
        table.clear()
        for line in lines:
            table.add_row(*budget_cells(line), key=str(line.category_id))
        ids = [line.category_id for line in lines]
        if current is not None and current.category_id in ids:
            table.move_cursor(row=ids.index(current.category_id))
        assert self.month is not None
        self.query_one("#budgets-month", Static).update(
            Text.assemble(
                (f"{self.month:%B %Y}", "bold"),
                f" · amounts in {settings().currency} · [ ] other months",
            )
        )
        self.query_one("#budgets-summary", Static).update(self.summary_text(lines))

    def summary_text(self, lines: list[BudgetLine]) -> Text:
        if not lines:
            hint = " · n sets one" if self.session.can(Permission.MANAGE_BUDGETS) else ""
            return Text(f"No budgets in {self.month:%B %Y}{hint}", style=Palette.muted)
        budget = sum((line.budget for line in lines), Decimal(0))
        spent = sum((line.spent for line in lines), Decimal(0))
        over = sum(1 for line in lines if line.over)
        text = Text(
            f"{len(lines)} budgets · {format_decimal(spent)} spent of {format_decimal(budget)}"
        )
        if over:
            text.append(f" · {over} {OVER}", style="bold")
        return text

    # ---- months -------------------------------------------------------------------
    def action_month(self, step: int) -> None:
        if self.month is None:
            return
        if step > 0:
            self.month = first_of_next_month(self.month)
        else:
            self.month = first_of_month(self.month - timedelta(days=1))
        self.action_refresh()

    # ---- selection ----------------------------------------------------------------
    def current_line(self) -> BudgetLine | None:
        if not self.is_mounted or not self.lines:
            return None
        row = self.query_one(DataTable).cursor_row
        return self.lines[row] if 0 <= row < len(self.lines) else None

    # ---- admin actions ------------------------------------------------------------
    def action_set_budget(self) -> None:
        self.call_db(
            lambda: self.session.categories.list(kind="expense"),
            self._open_set_form,
            group="budgets-categories",
            exclusive=True,
        )

    def _open_set_form(self, categories: list[CategoryRow]) -> None:
        current = self.current_line()
        budgets = self.session.budgets
        choices = tuple((c.name, c.name) for c in categories)
        if not choices:
            self.notify("There is no expense category to budget", severity="warning")
            return
        form = FormModal(
            "Set a monthly budget",
            [
                FormField("category", "Category", current.category if current else "", False,
                          choices),
                FormField("amount", "Amount", str(current.budget) if current else ""),
                FormField("from", "From month", f"{self.month:%Y-%m}", placeholder="YYYY-MM"),
            ],
            lambda v: budgets.set(v["category"], v["amount"], v["from"]),
            aliases={"month": "from"},
            submit_label="Set",
        )  # fmt: skip
        self.app.push_screen(form, self._after_set)

    def _after_set(self, line: BudgetLine | None) -> None:
        if line is not None:
            self.notify(
                f"Budget of {line.category}: {format_decimal(line.budget)} from "
                f"{line.since:%Y-%m} on",
                markup=False,
            )
            self.action_refresh()

    def action_remove_budget(self) -> None:
        line = self.current_line()
        if line is None:
            self.notify("Select a budget first", severity="warning")
            return
        budgets = self.session.budgets
        form = FormModal(
            f"Remove the budget of {line.category}",
            [
                FormField(
                    "from",
                    "From month",
                    f"{self.month:%Y-%m}",
                    placeholder="YYYY-MM, empty: every month",
                )
            ],
            lambda v: budgets.remove(line.category, v["from"] or None),
            aliases={"month": "from"},
            submit_label="Remove",
        )
        self.app.push_screen(form, self._after_remove)

    def _after_remove(self, result: tuple[str, date | None] | None) -> None:
        if result is not None:
            name, first = result
            since = f" from {first:%Y-%m} on" if first else ""
            self.notify(f"Removed the budget of {name}{since}", markup=False)
            self.action_refresh()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield PaletteCommand(
            "Budgets: previous month", "The month before ([)", lambda: self.action_month(-1)
        )
        yield PaletteCommand(
            "Budgets: next month", "The month after (])", lambda: self.action_month(1)
        )
        if self.session.can(Permission.MANAGE_BUDGETS):
            yield PaletteCommand(
                "Budgets: set", "A category's monthly budget (n)", self.action_set_budget
            )
            yield PaletteCommand(
                "Budgets: remove", "The selected budget (x)", self.action_remove_budget
            )
