"""Saved views on the records screen: save with w (and replace after asking), recall
from the picker (v) and from the palette, rename, delete, warnings, hostile names,
80×24 and NO_COLOR."""

from __future__ import annotations

import json

import pytest
from rich.cells import cell_len
from test_tui_support import (
    SIZE,
    TODAY,
    category_id,
    make_app,
    seed,
    settle,
    table_column,
    type_text,
)
from test_tui_support import open_records as _records
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input, Static

from finance_tui.db import write_transaction
from finance_tui.models import Category, SavedView
from screens.views import ViewNameModal, ViewsPicker
from screens.widgets import ConfirmModal

DEBOUNCE = 0.45


async def _filter(pilot, screen, name: str, text: str) -> None:
    """Type ``text`` into a filter box (one burst of keys: these tests are about views,
    not typing) and press Enter."""
    box = screen.query_one(f"#filter-{name}", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)
    await pilot.press("enter")  # Enter applies and focuses the table
    await settle(pilot, timers=DEBOUNCE)


async def _save(pilot, name: str) -> None:
    """Save the current view as ``name``, typed in one burst into the name box."""
    await pilot.press("w")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ViewNameModal)
    await type_text(pilot, name)
    await pilot.press("enter")
    await settle(pilot)


def _boxes(screen) -> dict[str, str]:
    return {
        name: screen.query_one(f"#filter-{name}", Input).value
        for name in ("kind", "category", "text")
    }


def _notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
async def test_every_role_saves_the_filter_and_sort_and_recalls_it_with_v(sessions, tmp_path, role):
    seed(12)
    session = sessions[role]
    app = make_app(tmp_path, session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _filter(pilot, screen, "category", "rent")
        await pilot.press("s")  # sort by amount
        await pilot.press("o")  # ascending
        await settle(pilot)
        assert (screen.flt.sort, screen.flt.descending) == ("amount", False)
        await _save(pilot, "Rent by amount")
        assert app.screen is screen
        assert "Saved the view 'Rent by amount'" in _notes(app)
        (row,) = session.views.list()
        assert row.summary == "rent · by amount ▲"

        await pilot.press("escape")  # clear the filter
        await pilot.press("s")
        await settle(pilot, timers=DEBOUNCE)
        assert screen.flt.categories == () and screen.flt.sort != "amount"
        assert screen.total == 12

        await pilot.press("v")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ViewsPicker)
        table = picker.query_one("#views-table", DataTable)
        assert table_column(table, 0) == ["Rent by amount"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.flt.categories == (category_id("rent"),)
        assert (screen.flt.sort, screen.flt.descending) == ("amount", False)
        assert _boxes(screen) == {"kind": "", "category": "rent", "text": ""}
        assert screen.total == 3
        assert [r.category for r in screen.rows] == ["rent"] * 3
        assert [r.amount for r in screen.rows] == sorted(r.amount for r in screen.rows)
        assert "Applied the view 'Rent by amount'" in _notes(app)


async def test_a_taken_name_asks_before_replacing(admin, tmp_path):
    seed(4)
    admin.views.save("Mine", {"text": "old"}, today=TODAY)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _filter(pilot, screen, "kind", "income")
        await _save(pilot, "mine")
        assert isinstance(app.screen, ConfirmModal)
        assert "You already have a view named 'Mine'. Replace it?" in app.screen.message
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ViewNameModal)  # nothing replaced, name kept
        assert admin.views.load("mine").fields == {"text": "old"}
        await pilot.press("enter", "y")
        await settle(pilot)
        assert app.screen is screen
    assert admin.views.load("mine").fields == {"kind": "income"}
    assert [v.name for v in admin.views.list()] == ["mine"]


async def test_bad_names_and_filters_are_shown_in_the_dialog(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _save(pilot, "   ")
        dialog = app.screen
        assert isinstance(dialog, ViewNameModal)
        assert dialog.error == "is required"
        await pilot.press("escape")
        await settle(pilot)
        box = screen.query_one("#filter-date_from", Input)
        box.value = "soon"
        await settle(pilot, timers=DEBOUNCE)
        screen.query_one(DataTable).focus()
        await _save(pilot, "dated")
        assert app.screen.error.startswith("From is not a date")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
    assert admin.views.list() == []


async def test_recall_from_the_palette(admin, tmp_path):
    seed(12)
    admin.views.save("Only food", {"category": "food"}, today=TODAY)
    admin.views.save("Income", {"kind": "income"}, today=TODAY)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"view: only")
        await settle(pilot, timers=0.3)
        options = app.screen.query_one(CommandList)
        first = options.get_option_at_index(0).prompt
        assert first.plain.split("\n")[0] == "View: Only food"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.flt.categories == (category_id("food"),)
        assert _boxes(screen)["category"] == "food"
        assert {r.category for r in screen.rows} == {"food"}


async def test_an_archived_category_is_dropped_with_a_warning(admin, tmp_path):
    seed(12)
    admin.views.save("Food and rent", {"category": "food,rent"}, today=TODAY)
    with write_transaction():
        Category.update(is_archived=True).where(Category.name_lower == "food").execute()
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        screen.recall_view("food and rent")
        await settle(pilot)
        assert screen.flt.categories == (category_id("rent"),)
        assert _boxes(screen)["category"] == "rent"
        assert "Applied the view 'Food and rent':\n• dropped archived category 'food'" in (
            _notes(app)
        )
        (note,) = [n for n in app._notifications if "dropped" in str(n.message)]
        assert note.severity == "warning"


async def test_rename_and_delete_in_the_picker(admin, tmp_path):
    admin.views.save("Alpha", {"text": "a"}, today=TODAY)
    admin.views.save("Beta", {"text": "b"}, today=TODAY)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await _records(pilot)
        await pilot.press("v")
        await settle(pilot)
        picker = app.screen
        table = picker.query_one("#views-table", DataTable)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ViewNameModal)
        box = app.screen.query_one(Input)
        assert box.value == "Alpha"
        box.value = ""
        await pilot.press(*"beta", "enter")
        await settle(pilot)
        assert app.screen.error == "you already have a view named 'Beta'"
        box.value = ""
        await pilot.press(*"Gamma", "enter")
        await settle(pilot)
        assert app.screen is picker
        assert table_column(table, 0) == ["Beta", "Gamma"]
        assert table.cursor_row == 1  # the renamed view stays selected
        await pilot.press("up", "d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is picker
        assert table_column(table, 0) == ["Gamma"]
    assert [v.name for v in admin.views.list()] == ["Gamma"]
    assert admin.views.load("gamma").filter.text == "a"


async def test_only_your_own_views_are_offered(sessions, tmp_path):
    sessions["viewer"].views.save("Viewer's", {"text": "v"}, today=TODAY)
    app = make_app(tmp_path, sessions["admin"])
    async with app.run_test(size=SIZE) as pilot:
        await _records(pilot)
        await pilot.press("v")
        await settle(pilot)
        picker = app.screen
        assert picker.rows == []
        assert not picker.query_one("#views-table", DataTable).display
        empty = picker.query_one("#views-empty", Static).content
        assert str(empty).startswith("No saved views yet")


async def test_hostile_names_are_shown_literally(admin, tmp_path, monkeypatch):
    """A name stored before the rules (or written around them) never reaches the
    terminal as an escape sequence or as markup, in the picker, palette or messages."""
    monkeypatch.setenv("NO_COLOR", "1")
    hostile = "[b]x\x1b[2J\u202e"
    with write_transaction():
        SavedView.create(
            owner=admin.principal.user_id,
            name=hostile,
            name_lower=hostile.lower(),
            spec=json.dumps({"fields": {"text": "note"}}),
        )
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _records(pilot)
        await pilot.press("v")
        await settle(pilot)
        table = app.screen.query_one("#views-table", DataTable)
        (shown,) = table_column(table, 0)
        assert shown == "[b]x␛[2J<U+202E>"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "Applied the view '[b]x␛[2J<U+202E>'" in _notes(app)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"view")
        await settle(pilot, timers=0.3)
        options = app.screen.query_one(CommandList)
        prompts = [
            options.get_option_at_index(i).prompt.plain.split("\n")[0]
            for i in range(options.option_count)
        ]
        assert "View: [b]x␛[2J<U+202E>" in prompts


async def test_the_picker_fits_80_by_24(admin, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    for i in range(15):
        admin.views.save(
            f"View number {i:02} with a long name",
            {"kind": "expense", "category": "food,rent", "date_from": "-30", "text": "lunch"},
            today=TODAY,
        )
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        await _records(pilot)
        await pilot.press("v")
        await settle(pilot)
        picker = app.screen
        dialog = picker.query_one("#views-dialog")
        assert dialog.region.right <= 80 and dialog.region.bottom <= 24
        hint = picker.query_one("#views-hint", Static)
        assert hint.region.bottom <= 23 and hint.region.height >= 1
        assert cell_len(str(hint.content)) <= hint.content_region.width
        table = picker.query_one("#views-table", DataTable)
        assert table.region.right <= dialog.region.right
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.cursor_row == 14
        last = table.get_row_at(14)[0].plain
        assert last == "View number 14 with a long name"
        row_region = table.region
        assert table.scroll_y > 0 and row_region.bottom <= hint.region.y


async def test_the_keys_are_in_help_and_hidden_from_the_footer(admin, tmp_path):
    from screens.help import HelpScreen

    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _records(pilot)
        shown = {b.binding.key for b in screen.active_bindings.values() if b.binding.show}
        assert not {"w", "v"} & shown
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = {(key, text) for key, text, _ in app.screen.rows}
        assert {("w", "Save view"), ("v", "Views")} <= rows
