"""Bar charts as Rich text: the one chart module of the app.

The dashboard's monthly columns and top categories and the analytics screen's monthly
rows are pure functions of their data and the cells they may use, shown by one widget,
:class:`BarChart`, which redraws them at its size. They are drawn with block characters
rather than a plotting library: nothing to import at start-up, exact snapshots, and
eighth-of-a-cell resolution in an 80x24 terminal.

Rules every drawing keeps:

- Scaling is exact (``Fraction``): money never becomes a float, bars are deterministic.
- Zero and negative values draw no bar (their figure, with its sign, says what they
  are); a positive value always draws at least one eighth of a cell.
- Nothing is told by colour alone: income and expense are told apart by their place
  (named in the legend or a column heading) and by the sign of their figures, so a
  ``NO_COLOR`` or monochrome terminal shows the same information.
- User text (category names) is shown literally, control characters as stand-ins,
  and cut to its column by terminal cells, so a wide name never shifts the bars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widgets import Static

from finance_tui.money import format_decimal
from finance_tui.textsafety import visible
from screens.base import laid_out_content
from screens.widgets import Palette

Number = Decimal | int
HORIZONTAL = " ▏▎▍▌▋▊▉"  # a cell filled from the left by 0..7 eighths
VERTICAL = " ▁▂▃▄▅▆▇"  # a cell filled from the bottom by 0..7 eighths
FULL = "█"
COLUMN = 2  # cells per vertical bar
MONTH_CELLS = 2 * COLUMN + 2  # income bar, expense bar, gap
RANKED_NAME = 14  # at most this many cells of a category name
ROW_LABEL = 9  # "2026-11" and a gap
ROW_AMOUNT = 14  # cells for a figure in the monthly rows


class MonthlyPoint(Protocol):
    """What the monthly drawings read, e.g. ``finance_tui.domain.dto.MonthPoint``."""

    month: date
    income: Decimal
    expense: Decimal


class RankedItem(Protocol):
    """What the ranked bars read, e.g. ``finance_tui.domain.dto.CategoryTotal``."""

    category: str
    kind: str
    total: Decimal


class BudgetItem(Protocol):
    """What the budget bars read, e.g. ``finance_tui.domain.dto.BudgetLine``."""

    category: str
    budget: Decimal
    spent: Decimal
    left: Decimal
    over: bool


class BudgetPoint(Protocol):
    """What the budget month rows read, e.g. ``finance_tui.domain.dto.BudgetMonth``."""

    month: date
    budget: Decimal
    spent: Decimal
    left: Decimal
    over: bool


# ---- scaling ------------------------------------------------------------------------
def eighths(value: Number, peak: Number, cells: int) -> int:
    """The length of ``value``'s bar in eighths of a cell, ``peak`` filling ``cells``.

    0 for a value at or below zero (or no room, or no positive peak); at least 1 for a
    positive value, so a small amount is never invisible; never more than ``cells * 8``.
    """
    if cells <= 0 or value <= 0 or peak <= 0:
        return 0
    exact = Fraction(value) * cells * 8 / Fraction(peak)
    return min(max(1, int(exact)), cells * 8)


def hbar(value: Number, peak: Number, width: int) -> str:
    """A horizontal bar of exactly ``width`` cells (padded with spaces)."""
    full, part = divmod(eighths(value, peak, width), 8)
    return (FULL * full + (HORIZONTAL[part] if part else "")).ljust(max(width, 0))


def vbar_cell(length: int, row: int) -> str:
    """Row ``row`` (0 at the bottom) of a vertical bar ``length`` eighths tall."""
    filled = length - row * 8
    if filled >= 8:
        return FULL * COLUMN
    if filled <= 0:
        return " " * COLUMN
    return VERTICAL[filled] * COLUMN


def fit_cells(text: str, cells: int) -> str:
    """``text`` padded or cut to exactly ``cells`` terminal cells."""
    return set_cell_size(text, max(cells, 0))


def signed(amount: Decimal, kind: str) -> str:
    """An amount with the sign of its kind: ``+`` income, ``-`` expense."""
    return ("-" if kind == "expense" else "+") + format_decimal(abs(amount))


def net_text(net: Decimal) -> str:
    return ("+" if net > 0 else "") + format_decimal(net)


def net_style(net: Decimal) -> str:
    return Palette.income if net > 0 else (Palette.expense if net < 0 else "")


# ---- the drawings -------------------------------------------------------------------
def _first_that_fits(options: Sequence[str], width: int) -> str:
    return next((o for o in options if cell_len(o) <= width), options[-1])


def _legend(peak: Decimal, width: int) -> Text:
    """Which bar is which, by place as well as colour, as long as ``width`` allows."""
    swatch = FULL * COLUMN
    peak_note = f"peak {format_decimal(peak)}"
    line = _first_that_fits(
        (
            f"Monthly income {swatch} left, expense {swatch} right ({peak_note})",
            f"Income {swatch} left, expense {swatch} right ({peak_note})",
            f"Income {swatch} left, expense {swatch} right",
            f"In {swatch} left, out {swatch} right",
        ),
        width,
    )
    legend = Text(line, style="bold")
    first = line.find(swatch)
    second = line.find(swatch, first + COLUMN)
    legend.stylize(Palette.income, first, first + COLUMN)
    legend.stylize(Palette.expense, second, second + COLUMN)
    return legend


def month_columns(points: Sequence[MonthlyPoint], width: int, height: int) -> Text:
    """Income and expense per month as pairs of vertical bars, as many of the latest
    months as fit in ``width``; a legend line on top, month names below."""
    shown = list(points[-max(1, width // MONTH_CELLS) :])
    rows = max(height - 2, 3)
    peak = max((max(p.income, p.expense) for p in shown), default=Decimal(0))
    text = Text(no_wrap=True, overflow="crop")
    text.append_text(_legend(peak, width))
    text.append("\n")
    levels = [(eighths(p.income, peak, rows), eighths(p.expense, peak, rows)) for p in shown]
    for row in range(rows - 1, -1, -1):
        for income, expense in levels:
            text.append(vbar_cell(income, row), style=Palette.income)
            text.append(vbar_cell(expense, row), style=Palette.expense)
            text.append(" " * (MONTH_CELLS - 2 * COLUMN))
        text.append("\n")
    for point in shown:
        text.append(f"{point.month:%b}".ljust(MONTH_CELLS), style=Palette.muted)
    return text


def ranked_bars(items: Sequence[RankedItem], width: int, height: int = 0) -> Text:
    """One bar per item (name, bar, signed total), longest first as given, on one scale.

    The name column is as wide as the longest name (at most :data:`RANKED_NAME` cells)
    and narrows on a small terminal so the bars keep at least four cells.
    """
    text = Text(no_wrap=True, overflow="crop")
    names = [visible(item.category) for item in items]
    figures = [signed(item.total, item.kind) for item in items]
    amount_cells = max(map(cell_len, figures), default=0)
    name_cells = min(RANKED_NAME, max(map(cell_len, names), default=0))
    name_cells = max(min(name_cells, width - amount_cells - 2 - 4), 4)
    bar_cells = max(width - name_cells - amount_cells - 2, 1)
    peak = max((item.total for item in items), default=Decimal(0))
    for item, name, figure in zip(items, names, figures, strict=True):
        style = Palette.of(item.kind)
        if text:
            text.append("\n")
        text.append(fit_cells(name, name_cells) + " ")
        text.append(hbar(item.total, peak, bar_cells), style=style)
        text.append(" " + figure.rjust(amount_cells), style=style)
    return text


def month_rows(points: Sequence[MonthlyPoint], width: int, height: int = 0) -> Text:
    """One line per month: income bar and amount, expense bar and amount, signed net;
    a heading names each column. Both bars share one scale."""
    bar_cells = max((width - ROW_LABEL - 2 * (ROW_AMOUNT + 3) - ROW_AMOUNT - 1) // 2, 4)
    peak = max((max(p.income, p.expense) for p in points), default=Decimal(0))
    column = bar_cells + ROW_AMOUNT + 3
    text = Text(no_wrap=True, overflow="crop")
    text.append("Month".ljust(ROW_LABEL), style="bold")
    text.append("Income".ljust(column), style="bold")
    text.append("Expense".ljust(column), style="bold")
    text.append("Net".rjust(ROW_AMOUNT), style="bold")
    for p in points:
        text.append("\n")
        text.append(f"{p.month:%Y-%m}".ljust(ROW_LABEL))
        text.append(hbar(p.income, peak, bar_cells), style=Palette.income)
        text.append(format_decimal(p.income).rjust(ROW_AMOUNT + 1) + "  ")
        text.append(hbar(p.expense, peak, bar_cells), style=Palette.expense)
        text.append(format_decimal(p.expense).rjust(ROW_AMOUNT + 1) + "  ")
        net = p.income - p.expense
        text.append(net_text(net).rjust(ROW_AMOUNT), style=net_style(net))
    return text


TRACK = "░"  # the unspent part of a budget
OVER = "OVER"


def left_text(item: BudgetItem | BudgetPoint) -> str:
    """What is left, or by how much it is over, in words as well as by sign."""
    if item.over:
        return f"{format_decimal(item.left)} {OVER}"
    return f"{format_decimal(item.left)} left"


def budget_track(spent: Decimal, budget: Decimal, cells: int) -> str:
    """``cells`` cells: the spent share of the budget filled, the rest a light track."""
    bar = hbar(min(spent, budget), budget, cells).rstrip(" ")
    return bar + TRACK * (cells - cell_len(bar))


def budget_bars(items: Sequence[BudgetItem], width: int, height: int = 0) -> Text:
    """One line per budget: name, spent on the budget's track, ``spent / budget`` and
    what is left (``OVER`` when spending passed the budget: the word, not the colour,
    says it)."""
    names = [visible(item.category) for item in items]
    figures = [f"{format_decimal(i.spent)} / {format_decimal(i.budget)}" for i in items]
    lefts = [left_text(item) for item in items]
    figure_cells = max(map(cell_len, figures), default=0)
    left_cells = max(map(cell_len, lefts), default=0)
    name_cells = min(RANKED_NAME, max(map(cell_len, names), default=0))
    bar_cells = max(width - name_cells - figure_cells - left_cells - 3, 4)
    text = Text(no_wrap=True, overflow="crop")
    for item, name, figure, left in zip(items, names, figures, lefts, strict=True):
        style = Palette.expense if item.over else Palette.income
        if text:
            text.append("\n")
        text.append(fit_cells(name, name_cells) + " ")
        text.append(budget_track(item.spent, item.budget, bar_cells), style=style)
        text.append(" " + figure.rjust(figure_cells) + " ")
        text.append(left.rjust(left_cells), style="bold" if item.over else "")
    return text


def budget_month_rows(points: Sequence[BudgetPoint], width: int, height: int = 0) -> Text:
    """One line per month: the budget's bar and amount, the spending's bar and amount on
    the same scale, then what was left (``OVER`` in words when it was exceeded)."""
    left_cells = ROW_AMOUNT + len(OVER) + 1
    bar_cells = max((width - ROW_LABEL - 2 * (ROW_AMOUNT + 3) - left_cells) // 2, 4)
    peak = max((max(p.budget, p.spent) for p in points), default=Decimal(0))
    column = bar_cells + ROW_AMOUNT + 3
    text = Text(no_wrap=True, overflow="crop")
    text.append("Month".ljust(ROW_LABEL), style="bold")
    text.append("Budget".ljust(column), style="bold")
    text.append("Spent".ljust(column), style="bold")
    text.append("Left".rjust(left_cells), style="bold")
    for p in points:
        text.append("\n")
        text.append(f"{p.month:%Y-%m}".ljust(ROW_LABEL))
        text.append(hbar(p.budget, peak, bar_cells), style=Palette.income)
        text.append(format_decimal(p.budget).rjust(ROW_AMOUNT + 1) + "  ")
        text.append(hbar(p.spent, peak, bar_cells), style=Palette.expense)
        text.append(format_decimal(p.spent).rjust(ROW_AMOUNT + 1) + "  ")
        shown = left_text(p) if p.budget else "no budget"
        style = "bold" if p.over else ("" if p.budget else Palette.muted)
        text.append(shown.rjust(left_cells), style=style)
    return text


# ---- the widget ---------------------------------------------------------------------
Drawing = Callable[[Sequence[Any], int, int], Text]


class BarChart(Static):
    """Shows one drawing of this module for its data, redrawn whenever its size changes.

    ``draw(data, width, height)`` gets the content area's cells (less the ``title``
    line, if any); without data the chart shows ``empty`` instead, muted.
    """

    def __init__(
        self, draw: Drawing, *, title: str = "", empty: str = "No data", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.draw = draw
        self.title = title
        self.empty = empty
        self.data: list[Any] = []

    def plot(self, data: Sequence[Any], empty: str | None = None) -> None:
        """Show ``data`` (and, if given, a new message for when there is none)."""
        self.data = list(data)
        if empty is not None:
            self.empty = empty
        self.refresh(layout=True)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        if self.title:
            text.append(self.title + "\n", style="bold")
        width, height = laid_out_content(self)
        if not self.data:
            text.append(self.empty, style=Palette.muted)
            return text
        text.append_text(self.draw(self.data, width, height - (1 if self.title else 0)))
        return text
