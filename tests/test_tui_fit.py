"""The app fits the terminals people SSH in with: every KPI figure whole on one line at
every width from 80 columns, with totals of twelve digits (a million records and more)."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.text import Text
from test_tui_support import SIZE, TODAY, category_id, make_app, open_records, seed, settle
from textual.screen import Screen
from textual.widgets import DataTable, Static

from finance_tui.db import write_transaction
from finance_tui.models import MonthlyTotal
from screens.dashboard import DashboardScreen, compact_count
from screens.footer import FitFooter
from screens.record_form import RecordForm
from screens.widgets import KpiCard

MONTH = TODAY.replace(day=1)
HUGE = 99_999_999_999_999  # 999,999,999,999.99 in cents: a twelve-digit total


def million_scale_totals(income: int = HUGE) -> None:
    """Summary rows as a big shared database has them (the dashboard reads these)."""
    with write_transaction():
        MonthlyTotal.delete().where(MonthlyTotal.month == MONTH).execute()
        for name, kind, count, total in (
            ("salary", "income", 1_050_775, income),
            ("food", "expense", 949_225, HUGE // 2),
            ("rent", "expense", 2_000_000, HUGE // 3),
        ):
            MonthlyTotal.insert(
                month=MONTH, category=category_id(name), kind=kind, count=count, total=total
            ).execute()


def assert_figures_whole(cards: list[KpiCard], width: int) -> None:
    """Each card's figures (value and hint) fit its line; names may be cut with "…"."""
    assert len(cards) == 14
    for card in cards:
        room = card.content_region.width
        for text in (card.hint_text, *([] if card.names else [card.value_text])):
            assert cell_len(text) <= room, (width, card.id, text)
        assert card.content_region.height >= 3, (width, card.id)


@pytest.mark.parametrize("width", [80, 93, 94, 100, 116, 117, 120, 162, 163, 200])
async def test_every_kpi_figure_is_whole_on_one_line(admin, tmp_path, width):
    seed(12)
    million_scale_totals()
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(width, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        cards = list(app.screen.query(KpiCard))
        assert any("999,999,999,999.99" in c.value_text for c in cards)  # the fixture shows
        assert_figures_whole(cards, width)


@pytest.mark.parametrize(("width", "per_row"), [(94, 3), (120, 4), (200, 7)])
async def test_a_total_past_a_trillion_takes_fewer_cards_per_row(admin, tmp_path, width, per_row):
    """Thirteen digits do not fit the cards the width alone gives at 94 and 120 columns
    (4 and 5 per row cut "+1,000,000,000,000.00"): the row holds fewer, wider cards
    there; at 200 columns seven still fit."""
    seed(12)
    million_scale_totals(income=HUGE + 1)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(width, 40)) as pilot:
        await settle(pilot)
        cards = list(app.screen.query(KpiCard))
        income = app.screen.query_one("#kpi-total_income", KpiCard)
        assert income.value_text.startswith("+1,000,000,000,0")
        assert_figures_whole(cards, width)
        assert len({card.region.y for card in cards[:per_row]}) == 1
        assert cards[per_row].region.y > cards[0].region.y


async def test_breakdown_totals_and_counts_fit_their_columns(admin, tmp_path):
    seed(4)
    million_scale_totals()
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#breakdown-table", DataTable)
        widths = [column.width for column in table.columns.values()]
        for row in range(table.row_count):
            for index, cell in enumerate(table.get_row_at(row)):
                shown = cell.plain if hasattr(cell, "plain") else str(cell)
                assert cell_len(shown) <= widths[index], (shown, widths[index])


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0"), (9_999, "9,999"), (10_000, "10.0k"), (50_775, "50.8k"), (949_225, "949k"),
     (999_499, "999k"), (999_500, "1.00M"), (1_050_775, "1.05M"), (12_345_678, "12.3M"),
     (999_999_999, "1.00G")],
)  # fmt: skip
def test_compact_counts_stay_short(count, shown):
    assert compact_count(count) == shown
    assert len(f"{compact_count(count)} in/{compact_count(count)} out") <= 19


@pytest.mark.parametrize("width", [60, 80, 100, 120])
async def test_nav_bar_shows_whole_labels_only(admin, tmp_path, width):
    from screens.widgets import NavBar

    app = make_app(tmp_path, admin)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")  # the audit log: a screen far along the bar
        await settle(pilot)
        bar = app.screen.query_one(NavBar)
        shown = bar.build(bar.content_size.width).plain
        assert len(shown) <= bar.content_size.width
        titles = [e.title for e in app.nav_entries()]
        assert "Audit log" in shown  # the current screen always stays
        words = shown.replace("(admin)", "").split()
        for word in words:  # every word shown belongs to a whole label, key or user
            assert word.isdigit() or any(word in t.split() for t in titles) or word == "root"
        for title in titles:
            if title.split()[0] in words:
                assert title in shown, (width, title, shown)


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_footer_shows_whole_labels_only(admin, tmp_path, width):
    from screens.records import RecordsScreen

    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        footer = _footer(app)
        line = footer.arrange_keys(footer.content_size.width)
        limit = line.palette[0] if line.palette else footer.content_size.width
        assert line.shown, "the first keys always fit"
        painted = _painted(footer)
        assert painted.rstrip().endswith("▏^p palette")
        for _start, end, key in line.shown:
            assert end <= limit, (width, key.description)
            assert f" {key.key_display} {key.description} " in painted[:limit]
        for key in line.left_out:  # never a part of a label
            assert f" {key.key_display} " not in painted, (width, key.description)
        if width == 60:
            assert "Trash" in [k.description for k in line.left_out]
            assert not app.screen.trash
            await pilot.press("t")  # what is left out is still a working key
            await settle(pilot)
            assert app.screen.trash


@pytest.mark.parametrize("width", [80, 120])
async def test_filter_dates_are_shown_whole(admin, tmp_path, width):
    from textual.widgets import Input

    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        for name in ("date_from", "date_to"):
            box = app.screen.query_one(f"#filter-{name}", Input)
            box.focus()
            box.value = "2026-10-01"
            box.cursor_position = len(box.value)
            await pilot.pause()
            # the whole date and the cursor after it fit: nothing scrolled out of view
            assert box.content_region.width >= len("2026-10-01") + 1, (width, name)
            assert box.scroll_offset.x == 0
        search = app.screen.query_one("#filter-text", Input)
        assert search.content_region.width >= 6  # room left to type a word at 80 columns


async def test_record_form_fits_80x24_with_its_messages(admin, tmp_path):
    from textual.widgets import Button

    from screens.record_form import RecordForm
    from screens.widgets import FormRow

    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n", "e", "enter", "x", "enter", "z", "z", "ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm)
        screen_area = form.region
        for button in form.query(Button):
            if button.display:
                assert screen_area.contains_region(button.region), button.label
        errors = {row.field_name: row for row in form.query(FormRow) if row.error}
        assert set(errors) == {"amount", "category"}
        for row in errors.values():
            box = row.query_one(".form-error", Static)
            width, height = box.content_region.width, box.content_region.height
            needed = len(Text(row.error).wrap(app.console, width))
            assert needed <= height, (row.field_name, row.error, width, height)
            assert screen_area.contains_region(box.region)


def test_status_parts_leave_out_the_optional_ones_last_first_until_they_fit():
    from screens.records import fit_parts

    parts = [
        ("1,000,000 records", False),
        ("#1 of 1,000,000", False),
        ("rows 1–40 loaded", True),
        ("sorted by date (descending)", False),
    ]
    full = "1,000,000 records · #1 of 1,000,000 · rows 1–40 loaded · sorted by date (descending)"
    assert fit_parts(parts, 200) == full
    assert fit_parts(parts, len(full)) == full
    assert fit_parts(parts, len(full) - 1) == (
        "1,000,000 records · #1 of 1,000,000 · sorted by date (descending)"
    )
    # nothing optional left: the essential parts stay whole (the widget crops the line)
    assert fit_parts(parts, 10).startswith("1,000,000 records · #1 of 1,000,000")


def _footer(app) -> FitFooter:
    return app.screen.query_one(FitFooter)


def _painted(footer: FitFooter) -> str:
    """The footer's line as the terminal shows it."""
    return "".join(segment.text for segment in footer.render_line(0))


async def test_the_footer_repaints_only_when_its_keys_change(admin, tmp_path):
    """Textual re-announces the bindings on every focus move; the footer keeps what it
    shows (and does not repaint) while the keys are the same, and follows a real change
    (the trash view swaps New/Edit/Delete for Restore)."""
    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        before = _footer(app).keys
        app.screen.refresh_bindings()  # what Textual does on every focus move
        await settle(pilot)
        assert _footer(app).keys is before
        await pilot.press("t")
        await settle(pilot)
        in_trash = {k.description for k in _footer(app).keys}
        assert "Restore" in in_trash and "New" not in in_trash
        assert " Restore " in _painted(_footer(app))
        await pilot.press("t")
        await settle(pilot)
        assert _footer(app).keys == before


async def test_moving_between_the_login_fields_keeps_the_footer(admin, tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = _footer(app).keys
        assert before
        await pilot.press("tab", "shift+tab", "tab")
        await settle(pilot)
        assert _footer(app).keys is before


async def test_the_footer_shows_the_keys_again_when_the_terminal_widens(admin, tmp_path):
    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_records(pilot)
        footer = _footer(app)
        painted = _painted(footer)
        assert not footer.arrange_keys(footer.content_size.width).left_out
        assert " t Trash " in painted
        await pilot.resize_terminal(60, 30)
        await settle(pilot, timers=0.1)
        assert footer.arrange_keys(footer.content_size.width).left_out
        assert " t Trash " not in _painted(footer)
        await pilot.resize_terminal(120, 30)
        await settle(pilot, timers=0.1)
        assert not footer.arrange_keys(footer.content_size.width).left_out
        assert _painted(footer) == painted


async def test_screens_open_with_their_breakpoint_classes_already_set(admin, tmp_path, monkeypatch):
    """Textual adds a screen's breakpoint class at its first Resize, which styles every
    widget of the screen a second time. The screens are made with the class the
    terminal's size calls for, so that Resize changes no class; a later resize still
    moves the screens to their other layout."""
    changed: list[tuple[str, frozenset[str]]] = []
    update_classes = Screen.update_classes

    def watched(self, *args, **kwargs):
        before = self.classes
        result = update_classes(self, *args, **kwargs)
        if self.classes != before:
            changed.append((type(self).__name__, self.classes))
        return result

    monkeypatch.setattr(Screen, "update_classes", watched)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen) and "-cards-3" in dashboard.classes
        await open_records(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm) and "-short" in app.screen.classes
        assert changed == []
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert app.screen.classes >= {"-tall"} and "-short" not in app.screen.classes
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert "-cards-5" in dashboard.classes and "-cards-3" not in dashboard.classes


async def test_a_click_on_a_footer_key_presses_it_and_hover_names_it(admin, tmp_path):
    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_records(pilot)
        footer = _footer(app)
        line = footer.arrange_keys(footer.content_size.width)
        start, end, trash = next(span for span in line.shown if span[2].description == "Trash")
        await pilot.hover(FitFooter, offset=(start + 1, 0))
        assert footer.key_at(start + 1) is trash and footer._hovered is trash
        hover_bg = footer.get_component_rich_style("fit-footer--hover").bgcolor
        cells = list(footer.render_line(0))
        assert any(s.text.strip() == "t" and s.style.bgcolor == hover_bg for s in cells)
        await pilot.click(FitFooter, offset=(end - 2, 0))
        await settle(pilot)
        assert screen.trash
        palette_start = line.palette[0]
        await pilot.click(FitFooter, offset=(palette_start + 2, 0))
        await settle(pilot)
        assert type(app.screen).__name__ == "CommandPalette"
