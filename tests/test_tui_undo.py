"""Records screen: Ctrl+Z undoes this session's changes; ``c`` duplicates a record."""

from __future__ import annotations

import pytest
from test_tui_admin_support import notifications
from test_tui_support import (
    SIZE,
    TODAY,
    amount_of,
    make_app,
    palette_titles,
    seed,
    settle,
    table_column,
    write_fingerprint,
)
from test_tui_support import (
    open_records as _records,
)
from textual.widgets import Input

from finance_tui.models import Record
from screens.help import HelpScreen
from screens.record_form import KindToggle, RecordForm
from screens.records import RecordTable


async def _edit_first(pilot, screen, amount: str, notes: str) -> None:
    await pilot.press("e")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, RecordForm)
    form.query_one("#field-amount", Input).value = amount
    form.query_one("#field-notes", Input).value = notes
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert pilot.app.screen is screen


async def test_ctrl_z_after_an_edit_restores_the_old_row(admin, tmp_path):
    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        first = screen.current_row()
        await _edit_first(pilot, screen, "99", "typo")
        assert table_column(screen.query_one(RecordTable), 4)[0] == "typo"
        await pilot.press("ctrl+z")
        await settle(pilot)
        rec = Record.get_by_id(first.id)
        assert (rec.amount, rec.notes, rec.version) == (1050, "note 0", 3)
        table = screen.query_one(RecordTable)
        assert table_column(table, 4)[0] == "note 0"
        assert table_column(table, 3)[0].strip() == f"+{amount_of(0):,.2f}"
        assert screen.current_row().id == first.id
        assert "Undone: your edit of 2026-11-25 income 99.00 salary" in notifications(app)


async def test_quick_presses_undo_one_change_each_newest_first(admin, tmp_path):
    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        first = screen.current_row()
        await _edit_first(pilot, screen, "99", "first edit")
        await _edit_first(pilot, screen, "98", "second edit")
        await pilot.press("ctrl+z", "ctrl+z")
        await settle(pilot)
        assert Record.get_by_id(first.id).notes == "note 0"
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert notifications(app)[-1] == (
            "Nothing to undo: this session has no change left to undo"
        )
        assert Record.get_by_id(first.id).version == 5


async def test_ctrl_z_refuses_when_someone_else_changed_the_record(admin, make_user, tmp_path):
    seed(2)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        first = screen.current_row()
        await _edit_first(pilot, screen, "99", "mine")
        bob = make_user("admin", name="bob")
        bob.records.update(first.id, 2, {"notes": "bob's"})
        before = write_fingerprint()
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert write_fingerprint() == before
        (message,) = [n for n in notifications(app) if n.startswith("Cannot undo")]
        assert "your edit of 2026-11-25 income 99.00 salary: bob changed it at" in message
        assert "Nothing changed" in message
        assert table_column(screen.query_one(RecordTable), 4)[0] == "bob's"


async def test_duplicate_opens_the_form_prefilled_and_saves_a_new_record(admin, tmp_path):
    seed(3, start=TODAY.replace(day=20))
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("down")  # note 1: an expense, 17.50 food, 2026-11-19
        original = screen.current_row()
        await pilot.press("c")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm) and form.record is None
        assert form.values() == {
            "kind": "expense",
            "amount": "17.50",
            "category": "rent",
            "date": TODAY.isoformat(),
            "notes": "note 1",
        }
        assert form.query_one(KindToggle).value == original.kind
        assert app.focused is form.query_one("#field-amount")
        await pilot.press(*"18", "enter", "enter", "enter", "enter")
        await settle(pilot)
        assert app.screen is screen
        copies = Record.select().where(Record.notes == "note 1").order_by(Record.date)
        assert [(r.amount, r.date, r.category.name, r.version) for r in copies] == [
            (1750, original.date, "rent", 1),
            (1800, TODAY, "rent", 1),
        ]
        assert screen.total == 4 and screen.current_row().date == TODAY


@pytest.mark.parametrize("role", ["viewer", "analyst"])
async def test_duplicate_and_undo_are_for_writers_only(sessions, tmp_path, role):
    seed(2)
    before = write_fingerprint()
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        for key in ("c", "ctrl+z"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, key
        assert not screen.check_action("duplicate", ()) and not screen.check_action("undo", ())
        assert not {"Duplicate record", "Undo my last change"} & palette_titles(app, screen)
        assert not [n for n in notifications(app) if "undo" in n.lower()]
    assert write_fingerprint() == before


async def test_admin_finds_both_in_help_and_palette(admin, tmp_path):
    seed(1)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        assert {"Duplicate record", "Undo my last change"} <= palette_titles(app, screen)
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = set(help_screen.rows)
        assert ("c", "Duplicate", "records.duplicate") in rows
        assert ("^z", "Undo my last change", "records.undo") in rows
        assert "Ctrl+Z undoes your last change" in help_screen.extra


def test_the_audit_detail_names_the_event_an_undo_reversed():
    from datetime import datetime

    from finance_tui.domain.dto import AuditRow
    from screens.audit import describe_event

    row = AuditRow(
        7, datetime(2026, 11, 25, 9, 30), "root", "record_undo", "record", "x", {}, {}, 5
    )
    assert "action: record_undo\nentity: record x\nundoes: event #5\n" in describe_event(row)
