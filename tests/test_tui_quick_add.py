"""Quick add on the records screen: `a`, one line, Enter. The live preview, saving
through the session, the next line straight away, errors that keep the line, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_tui_support import (
    SIZE,
    TODAY,
    assert_only_the_documented_expense,
    live_records,
    make_app,
    palette_titles,
    seed,
    settle,
    write_fingerprint,
)
from test_tui_support import (
    open_records as _records,
)
from textual.widgets import Input, Static

from finance_tui.models import Record
from screens.help import binding_rows
from screens.quick_add import QuickAddModal
from screens.records import RecordsScreen


async def _open(pilot) -> tuple[RecordsScreen, QuickAddModal]:
    screen = await _records(pilot)
    await pilot.press("a")
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, QuickAddModal)
    return screen, modal


def _preview(modal: QuickAddModal) -> str:
    return str(modal.query_one("#quick-add-preview", Static).content)


def _saved_line(modal: QuickAddModal) -> str:
    return str(modal.query_one("#quick-add-saved", Static).content)


def _line(modal: QuickAddModal) -> str:
    return modal.query_one("#quick-add-line", Input).value


# ---- the goal: one key, the text, Enter -------------------------------------------
async def test_a_typical_expense_is_one_key_its_text_and_enter(admin, tmp_path):
    """The exact keystrokes the README gives: a, 12.50 fo lunch, Enter."""
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("a", *"12.50 fo lunch", "enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, QuickAddModal)
        assert _line(modal) == ""  # ready for the next line
        assert _saved_line(modal) == "✓ saved (1): 2026-11-25 expense 12.50 food — lunch"
        assert screen.total == 1
        assert [r.notes for r in screen.rows] == ["lunch"]  # the list behind shows it
    assert_only_the_documented_expense()


async def test_preview_shows_every_part_as_it_is_typed(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await _open(pilot)
        assert _preview(modal) == (
            "Type AMOUNT CATEGORY [NOTES] [DATE]; Enter saves, Escape closes"
        )
        await pilot.press(*"1,234.50 rent")
        assert _preview(modal) == (
            "→ expense 1,234.50 · category rent · 2026-11-25 (today)\n  notes: (none)"
        )
        await pilot.press(*" december rent -3")
        assert _preview(modal) == (
            "→ expense 1,234.50 · category rent · 2026-11-22 (3 days ago)\n  notes: december rent"
        )
        await pilot.press("backspace", "backspace", *"yesterday")
        assert "2026-11-24 (yesterday)" in _preview(modal)
        await pilot.press(*" 2026-11-01")
        assert _preview(modal) == (
            "→ expense 1,234.50 · category rent · 2026-11-01 (24 days ago)\n"
            "  notes: december rent yesterday"
        )
    assert live_records() == []


async def test_preview_names_income_from_the_category(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await _open(pilot)
        await pilot.press(*"3000 SAL november")
        assert _preview(modal) == (
            "→ income 3,000.00 · category salary · 2026-11-25 (today)\n  notes: november"
        )
        modal.query_one("#quick-add-line", Input).value = "+50 inv dividend"
        await pilot.pause()
        assert _preview(modal).startswith("→ income 50.00 · category investment")


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("12", "✗ category: type a category after the amount, e.g. 12.50 food lunch"),
        ("12 zz lunch", "✗ category: no category starts with 'zz', and none is close"),
        ("12 ent lunch", "✗ category: no category starts with 'ent' (close: investment, rent)"),
        ("-12 fo", "✗ amount: '-12' must be positive (the category says income or expense)"),
        ("12.345 fo", "✗ amount: '12.345' has more than 2 decimal places"),
        ("fo 12", "✗ amount: 'fo' is not a number: start with the amount, e.g. 12.50 food lunch"),
        ("12 fo x 2026-02-30", "✗ date: '2026-02-30' is not a date"),
    ],
)
async def test_preview_shows_the_error_and_enter_keeps_the_line(admin, tmp_path, line, shown):
    before = write_fingerprint()
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await _open(pilot)
        await pilot.press(*line)
        assert _preview(modal).startswith(shown)
        assert modal.query_one("#quick-add-preview").has_class("-error")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is modal
        assert _line(modal) == line
        assert _saved_line(modal) == ""
    assert write_fingerprint() == before


async def test_ambiguous_prefix_names_the_candidates(admin, tmp_path):
    admin.categories.create("fuel", "expense")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await _open(pilot)
        await pilot.press(*"40 f tank")
        assert _preview(modal) == "✗ category: 'f' could be food or fuel: type more of the name"
        await pilot.press("home", "right", "right", "right", "right", "u")
        assert _line(modal) == "40 fu tank"
        assert _preview(modal).startswith("→ expense 40.00 · category fuel")


async def test_a_second_line_follows_straight_away(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen, modal = await _open(pilot)
        await pilot.press(*"12.50 fo lunch", "enter")
        await settle(pilot)
        await pilot.press(*"1,234.50 rent december rent -3", "enter")
        await settle(pilot)
        assert _line(modal) == ""
        assert _saved_line(modal) == (
            "✓ saved (2): 2026-11-22 expense 1,234.50 rent — december rent"
        )
        assert screen.total == 2
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
    got = sorted((r.amount, r.category.name, r.date, r.notes) for r in live_records())
    assert got == [
        (1250, "food", TODAY, "lunch"),
        (123450, "rent", TODAY - timedelta(days=3), "december rent"),
    ]


async def test_saved_record_is_selected_in_the_list(admin, tmp_path):
    seed(30)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await _open(pilot)
        await pilot.press(*"77.70 oth parking 2026-11-10", "enter")
        await settle(pilot)
        row = screen.current_row()
        assert row is not None
        assert (row.notes, str(row.amount), row.date.isoformat()) == (
            "parking",
            "77.70",
            "2026-11-10",
        )


async def test_markup_and_escape_text_in_notes_is_stored_and_shown_literally(admin, tmp_path):
    hostile = r"[bold red]x[/] \x1b[2J $(rm -rf) ;DROP TABLE record"
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen, modal = await _open(pilot)
        await pilot.press(*f"5 fo {hostile}")
        assert _preview(modal).endswith(f"notes: {hostile}")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.rows[0].notes == hostile
    (rec,) = live_records()
    assert rec.notes == hostile


async def test_a_control_character_is_refused_and_nothing_changes(admin, tmp_path):
    before = write_fingerprint()
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await _open(pilot)
        box = modal.query_one("#quick-add-line", Input)
        box.value = "5 fo a\x1b[2Jb"  # as a paste would bring it
        await pilot.pause()
        assert _preview(modal) == ("✗ notes: contains a control character (U+001B) at position 2")
        await pilot.press("enter")
        await settle(pilot)
        assert box.value == "5 fo a\x1b[2Jb"
    assert write_fingerprint() == before


async def test_a_category_archived_since_opening_is_refused_by_the_core(admin, tmp_path):
    """The preview read the categories when the line opened; the save reads them again."""
    before_count = Record.select().count()
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await _open(pilot)
        food = next(c for c in admin.categories.list() if c.name == "food")
        admin.categories.archive(food.id)
        await pilot.press(*"12.50 fo lunch")
        assert _preview(modal).startswith("→ expense 12.50 · category food")
        await pilot.press("enter")
        await settle(pilot)
        assert _preview(modal) == ("✗ category: no category starts with 'fo', and none is close")
        assert _line(modal) == "12.50 fo lunch"
    assert Record.select().count() == before_count


async def test_escape_closes_without_saving(admin, tmp_path):
    before = write_fingerprint()
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await _open(pilot)
        await pilot.press(*"12.50 fo lunch", "escape")
        await settle(pilot)
        assert app.screen is screen
    assert write_fingerprint() == before


# ---- roles and discoverability ----------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "analyst"])
async def test_only_admins_get_quick_add(sessions, tmp_path, role):
    before = write_fingerprint()
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("a", *"12.50 fo lunch", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert "Quick add" not in palette_titles(app, screen)
        assert "Quick add" not in [row[1] for row in binding_rows(screen)]
    assert write_fingerprint() == before


async def test_admin_finds_quick_add_in_help_and_palette(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        assert "Quick add" in palette_titles(app, screen)
        assert ("a", "Quick add") in [row[:2] for row in binding_rows(screen)]
        await pilot.press("t")  # the trash takes no new records
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen
        assert "Quick add" not in palette_titles(app, screen)


async def test_quick_add_fits_80x24_under_no_color(admin, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        _, modal = await _open(pilot)
        await pilot.press(*"1,234.50 rent december rent -3")
        dialog = modal.query_one("#quick-add-dialog")
        assert dialog.region.right <= 80 and dialog.region.bottom <= 24
        preview = modal.query_one("#quick-add-preview", Static)
        assert preview.region.width >= len(
            "→ expense 1,234.50 · category rent · 2026-11-22 (3 days ago)"
        )
        assert _preview(modal).startswith("→ expense 1,234.50")
        await pilot.press("enter")
        await settle(pilot)
        assert _saved_line(modal).startswith("✓ saved (1): 2026-11-22 expense 1,234.50 rent")
