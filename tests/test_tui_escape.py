"""Stored text in widgets: stand-ins for control characters, markup as typed.

Rows are written below validation (older rows, or straight into the database file).
The record form and the rename dialog show such text with stand-ins and, if saved
unchanged, send the stored text so validation names the bad character; once edited,
what is saved is what was shown. Markup typed by users (``[bold]``, ``[/]``,
``[link=…]``) stays text in tables, inputs and notifications and never raises.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_tui_admin_support import HostApp, notifications
from test_tui_admin_support import settle as settle_admin
from test_tui_support import SIZE, TODAY, make_app, settle, table_column
from textual.widgets import DataTable, Input

from finance_tui.app import FinanceApp
from finance_tui.db import write_transaction
from finance_tui.models import Category, Record
from screens.admin_widgets import FormModal
from screens.base import FinanceScreen
from screens.categories import CategoriesScreen
from screens.record_form import RecordForm, completed_category
from screens.records import RecordsScreen, RecordTable
from screens.widgets import StoredInput, literal

HOSTILE = "\x1b]0;PWNED\x07\x1b[2J\u202eevil\x9b1m"
SHOWN = "␛]0;PWNED␇␛[2J<U+202E>evil<U+009B>1m"
MARKUP = ["[bold]x[/]", "[link=http://x]y", "[/]", "[/bold] [red"]


def _stored_record(notes: str, category: str = "food") -> Record:
    cat = Category.get(Category.name_lower == category.lower())
    with write_transaction():
        rec = Record.create(
            kind="expense",
            amount=1234,
            category=cat.id,
            date=date(2026, 11, 20),
            notes=notes,
            fingerprint="legacy",
        )
    return rec


async def _edit_first(pilot) -> RecordForm:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RecordsScreen)
    await pilot.press("e")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, RecordForm)
    return form


def test_literal_is_plain_text_with_stand_ins():
    assert literal(HOSTILE).plain == SHOWN
    for text in MARKUP:
        assert literal(text).plain == text and not literal(text).spans


async def test_record_form_shows_legacy_notes_and_refuses_them_unchanged(admin, tmp_path):
    rec = _stored_record(HOSTILE)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        form = await _edit_first(pilot)
        notes = form.query_one("#field-notes", StoredInput)
        assert notes.value == SHOWN  # the box never holds the raw escape
        assert form.field_error("notes").startswith(
            "contains a control character (U+001B) at position 1 (shown as a stand-in)"
        )
        form.query_one("#field-amount", Input).value = "20.00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused: nothing saved, the character named
        assert form.field_error("notes") == "contains a control character (U+001B) at position 1"
        assert Record.get_by_id(rec.id).amount == 1234

        notes.value = "cleaned up"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        saved = Record.get_by_id(rec.id)
        assert (saved.notes, saved.amount) == ("cleaned up", 2000)


async def test_record_form_keeps_a_legacy_category_reference(admin, tmp_path):
    with write_transaction():
        bad = Category.create(name="Fo\x1bod", name_lower="fo\x1bod", kind="both")
    rec = _stored_record("fine", category="Fo\x1bod")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        form = await _edit_first(pilot)
        box = form.query_one("#field-category", StoredInput)
        assert box.value == "Fo␛od" and form.field_error("notes") == ""
        form.query_one("#field-amount", Input).value = "3.00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        assert (Record.get_by_id(rec.id).category_id, Record.get_by_id(rec.id).amount) == (
            bad.id,
            300,
        )
        assert "Record updated" in notifications(app)[-1]
        assert "Fo␛od" in notifications(app)[-1] and "\x1b" not in notifications(app)[-1]


def test_an_accepted_suggestion_maps_back_to_the_stored_name():
    names = ["Fo\x1bod", "rent"]
    assert completed_category("fo␛od", names) == "Fo\x1bod"
    assert completed_category("fo␛", names) == "Fo\x1bod"
    assert completed_category("re", names) == "rent"


async def test_rename_dialog_prefilled_from_a_legacy_name(admin):
    with write_transaction():
        cat = Category.create(name="\x1b[2JWiped", name_lower="\x1b[2Jwiped", kind="both")
    app = HostApp(lambda: CategoriesScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle_admin(pilot)
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[0]) == "␛[2JWiped"
        await pilot.press("e")
        await settle_admin(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.query_one("#field-name", Input).value == "␛[2JWiped"
        await pilot.press("ctrl+s")  # unchanged: the stored name, refused by name
        await settle_admin(pilot)
        assert form.error_of("name") == "contains a control character (U+001B) at position 1"
        form.query_one("#field-name", Input).value = "Wiped"
        await pilot.press("ctrl+s")
        await settle_admin(pilot)
        assert Category.get_by_id(cat.id).name == "Wiped"


@pytest.mark.parametrize("text", MARKUP)
async def test_markup_in_user_text_is_shown_as_typed(admin, tmp_path, text):
    cat = admin.categories.create(f"c {text}", "both")
    admin.records.create(
        {"kind": "expense", "amount": "1", "category": cat.id, "date": "2026-11-20", "notes": text},
        today=TODAY,
    )
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        form = await _edit_first(pilot)
        assert form.query_one("#field-notes", Input).value == text
        assert form.query_one("#field-category", Input).value == f"c {text}"
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RecordsScreen)
        assert table_column(screen.query_one(RecordTable), 4) == [text]
        assert table_column(screen.query_one(RecordTable), 2) == [f"c {text}"]
        assert notifications(app)[-1].endswith(f"c {text}")
        app.notify(f"plain {text}", markup=False)  # any toast: no MarkupError
        await pilot.pause()
        assert notifications(app)[-1] == f"plain {text}"


async def test_every_toast_shows_control_characters_as_stand_ins(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.notify(f"Category {HOSTILE} created", title=HOSTILE, markup=False)
        await pilot.pause()
        shown = list(app._notifications)[-1]
        assert shown.message == f"Category {SHOWN} created" and shown.title == SHOWN


async def test_live_refresh_leaves_a_screen_that_is_still_mounting_alone(admin, tmp_path):
    calls: list[str] = []

    class Counting(FinanceScreen):
        def refresh_data(self) -> None:
            calls.append("refresh")

    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = Counting()
        FinanceApp._refresh_screen(screen)  # not mounted yet: it loads on mount
        assert calls == []
        await app.push_screen(screen)
        await pilot.pause()
        FinanceApp._refresh_screen(screen)
        assert calls == ["refresh"]
