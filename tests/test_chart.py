"""The one chart module (``screens/chart.py``): scaling, bar lengths, zero and negative
values, narrow terminals, no meaning carried by colour alone, user text shown literally."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from test_tui_support import make_app, seed, settle
from textual._compositor import Compositor
from textual.app import App, ComposeResult

from screens.chart import (
    FULL,
    BarChart,
    eighths,
    hbar,
    month_columns,
    month_rows,
    ranked_bars,
    vbar_cell,
)
from screens.widgets import Palette


@dataclass
class Point:
    month: date
    income: Decimal
    expense: Decimal


@dataclass
class Item:
    category: str
    kind: str
    total: Decimal


def months(*pairs: tuple[str, str]) -> list[Point]:
    return [
        Point(date(2026, i + 1, 1), Decimal(income), Decimal(expense))
        for i, (income, expense) in enumerate(pairs)
    ]


def bar_cells(line: str) -> float:
    """A bar's length in cells, counting partial blocks as eighths."""
    partial = {c: i / 8 for i, c in enumerate(" ▏▎▍▌▋▊▉")}
    return sum(1 if c == FULL else partial.get(c, 0) for c in line)


# ---- scaling ------------------------------------------------------------------------
def test_eighths_scale_to_the_peak():
    assert eighths(100, 100, 10) == 80
    assert eighths(50, 100, 10) == 40
    assert eighths(Decimal("12.34"), Decimal("24.68"), 4) == 16


def test_zero_and_negative_values_draw_nothing():
    assert eighths(0, 100, 10) == 0
    assert eighths(-50, 100, 10) == 0
    assert eighths(Decimal("-0.01"), Decimal("5"), 10) == 0
    assert hbar(-50, 100, 6) == " " * 6


def test_no_positive_peak_or_no_room_draws_nothing():
    assert eighths(10, 0, 10) == 0
    assert eighths(10, -5, 10) == 0
    assert eighths(10, 10, 0) == 0
    assert hbar(10, 10, 0) == ""


def test_a_tiny_positive_value_is_still_visible():
    assert eighths(Decimal("0.01"), Decimal("999999999999.99"), 10) == 1
    assert hbar(Decimal("0.01"), Decimal("999999999999.99"), 3) == "▏  "


def test_scaling_is_exact_for_twelve_digit_amounts():
    """No float and no Decimal rounding: one cent under the peak is not a full bar."""
    peak = Decimal("999999999999.99")
    assert eighths(peak, peak, 10) == 80
    assert eighths(peak - Decimal("0.01"), peak, 10) == 79


@given(
    value=st.integers(min_value=-(10**14), max_value=10**14),
    peak=st.integers(min_value=1, max_value=10**14),
    width=st.integers(min_value=0, max_value=120),
)
def test_a_horizontal_bar_is_always_exactly_its_width(value, peak, width):
    value = min(value, peak)
    bar = hbar(value, peak, width)
    assert len(bar) == width
    assert bar_cells(bar) == eighths(value, peak, width) / 8


def test_bar_lengths_are_proportional():
    assert [hbar(v, 80, 10) for v in (80, 40, 20, 1)] == [
        "██████████",
        "█████     ",
        "██▌       ",
        "▏         ",
    ]


def test_vertical_cells_fill_from_the_bottom():
    assert [vbar_cell(12, row) for row in (2, 1, 0)] == ["  ", "▄▄", "██"]
    assert vbar_cell(0, 0) == "  "


# ---- the monthly columns (dashboard) -----------------------------------------------
def test_month_columns_scale_to_the_peak_month():
    text = month_columns(months(("50", "100"), ("0", "25")), width=42, height=6)
    lines = text.plain.splitlines()
    assert len(lines) == 6  # legend, four bar rows, month names
    rows = lines[1:5]
    # Jan's expense is the peak: its column (cells 2-3) is full; its income is half.
    assert [r[2:4] for r in rows] == ["██"] * 4
    assert [r[0:2] for r in rows] == ["  ", "  ", "██", "██"]
    # Feb: no income at all, expense a quarter (one row of four).
    assert [r[6:8] for r in rows] == ["  "] * 4
    assert [r[8:10] for r in rows] == ["  ", "  ", "  ", "██"]
    assert lines[-1].split() == ["Jan", "Feb"]


def test_month_columns_show_the_latest_months_that_fit():
    points = months(*[(str(i), "1") for i in range(1, 13)])
    lines = month_columns(points, width=42, height=5).plain.splitlines()
    assert lines[-1].split() == ["Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert all(cell_len(line) <= 42 for line in lines)


@pytest.mark.parametrize("width", [24, 30, 42, 66])
def test_the_legend_names_the_sides_at_every_width(width):
    """Income and expense bars look alike without colour: the legend says which is
    which by place, down to 24 cells (at 80 columns the chart has 42)."""
    legend = month_columns(months(("1", "2")), width=width, height=5).plain.splitlines()[0]
    assert cell_len(legend) <= width
    assert "left" in legend and "right" in legend
    assert legend.index("left") < legend.index("right")


def test_the_legend_swatches_carry_the_colours():
    text = month_columns(months(("1", "2")), width=66, height=5)
    legend = text.plain.splitlines()[0]
    first = legend.index(FULL)
    second = legend.index(FULL, first + 2)
    styles = {(s.start, str(s.style)) for s in text.spans}
    assert (first, Palette.income) in styles and (second, Palette.expense) in styles


def test_month_columns_of_zero_months_draw_no_bars():
    lines = month_columns(months(("0", "0")), width=42, height=5).plain.splitlines()
    assert all(set(line) <= {" "} for line in lines[1:-1])


# ---- ranked bars (top categories) -------------------------------------------------------
TOP = [
    Item("food", "expense", Decimal("1512.00")),
    Item("other", "expense", Decimal("1505.00")),
    Item("salary", "income", Decimal("756.00")),
]


def test_ranked_bars_share_one_scale_and_sign_the_kind():
    lines = ranked_bars(TOP, width=40).plain.splitlines()
    assert [line.split()[0] for line in lines] == ["food", "other", "salary"]
    # Without colour, the sign tells income from expense.
    assert [line.split()[-1] for line in lines] == ["-1,512.00", "-1,505.00", "+756.00"]
    bars = [bar_cells(line) for line in lines]
    assert bars[0] == max(bars) and bars[2] == pytest.approx(bars[0] / 2, abs=1 / 8)


@pytest.mark.parametrize("width", [26, 30, 40])
def test_ranked_bars_fit_a_narrow_column(width):
    """At 80 columns the top categories box has about 27 cells inside."""
    items = [Item("groceries and household", "expense", Decimal("999999999999.99")), *TOP]
    lines = ranked_bars(items, width=width).plain.splitlines()
    assert all(cell_len(line) == width for line in lines), [cell_len(x) for x in lines]
    assert lines[0].endswith("-999,999,999,999.99")
    assert bar_cells(lines[0]) >= 1


def test_ranked_bars_show_hostile_names_literally():
    items = [
        Item("[bold red]x[/]", "expense", Decimal("2")),
        Item("\x1b[31mred", "expense", Decimal("1")),
        Item("食物食物食物食物食物", "income", Decimal("1")),
    ]
    text = ranked_bars(items, width=50)
    lines = text.plain.splitlines()
    assert lines[0].startswith("[bold red]x[/]")
    assert lines[1].startswith("␛[31mred")
    assert "\x1b" not in text.plain
    assert lines[2].startswith("食物食物食物食物食物"[:7])  # cut by cells: 7 wide chars
    widths = {cell_len(line) for line in lines}
    assert widths == {50}  # a wide name does not shift its bar
    assert not any(str(s.style).startswith("bold red") for s in text.spans)


def test_ranked_bars_of_zero_totals_draw_no_bars():
    lines = ranked_bars([Item("a", "expense", Decimal("0"))], width=30).plain.splitlines()
    assert bar_cells(lines[0]) == 0 and lines[0].endswith("-0.00")


# ---- monthly rows (analytics) -------------------------------------------------------
def test_month_rows_show_signed_net_and_share_one_scale():
    lines = month_rows(months(("100", "50"), ("20", "40"), ("0", "0")), width=118).plain
    lines = lines.splitlines()
    assert lines[0].split() == ["Month", "Income", "Expense", "Net"]
    assert lines[1].startswith("2026-01") and lines[1].endswith("+50.00")
    assert lines[2].endswith("-20.00")  # under: the minus says so, not only the colour
    assert lines[3].endswith("0.00") and not lines[3].endswith("+0.00")
    assert all(len(line) <= 118 for line in lines)
    bar = slice(9, 9 + (118 - 9 - 2 * 17 - 15) // 2)  # 30 cells after the month
    assert [bar_cells(line[bar]) for line in lines[1:]] == [30, 6, 0]


def test_month_rows_keep_four_cells_of_bar_at_80_columns():
    lines = month_rows(months(("100", "50")), width=76).plain.splitlines()
    assert bar_cells(lines[1][9:13]) == 4


# ---- the widget ---------------------------------------------------------------------
class ChartApp(App):
    CSS = "BarChart { width: 30; height: 8; }"

    def compose(self) -> ComposeResult:
        yield BarChart(ranked_bars, title="Top", empty="Nothing yet", id="chart")


async def test_the_widget_draws_at_its_size_and_says_when_empty():
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(BarChart)
        assert chart.render().plain == "Top\nNothing yet"
        chart.plot(TOP)
        await pilot.pause()
        lines = chart.render().plain.splitlines()
        assert lines[0] == "Top" and len(lines) == 4
        assert all(cell_len(line) == 30 for line in lines[1:])
        chart.styles.width = 26
        await pilot.pause()
        assert {cell_len(line) for line in chart.render().plain.splitlines()[1:]} == {26}
        chart.plot([], "Gone")
        assert chart.render().plain == "Top\nGone"


async def test_dashboard_charts_fit_at_80_columns(admin, tmp_path):
    seed(40)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for chart in app.screen.query(BarChart):
            width = chart.content_size.width
            lines = chart.render().plain.splitlines()
            assert width > 20 and all(cell_len(line) <= width for line in lines), chart.id
        top = app.screen.query_one("#top-categories", BarChart).render().plain
        assert "-1,512.00" in top and "+1,365.00" in top


async def test_measuring_a_chart_does_not_lay_out_the_screen_again(admin, tmp_path, monkeypatch):
    """The budget chart's height is ``auto``: a layout measures it by rendering it. The
    chart must draw from the size it was given, not look itself up in the screen's map
    of widgets, which in the middle of a layout arranges the whole screen once more
    (measured: a tenth of the app's start-up CPU)."""
    seed(40)
    depth, deepest = 0, 0
    arrange = Compositor._arrange_root

    def nested(self, *args, **kwargs):
        nonlocal depth, deepest
        depth += 1
        deepest = max(deepest, depth)
        try:
            return arrange(self, *args, **kwargs)
        finally:
            depth -= 1

    monkeypatch.setattr(Compositor, "_arrange_root", nested)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        budgets = app.screen.query_one("#budget-chart", BarChart)
        assert budgets.render().plain  # measured, drawn and shown
    assert deepest == 1
