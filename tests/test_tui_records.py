"""Records screen and record form with a real database: write actions per role, filters,
sorting, paging past the loaded window, form validation, fast entry and conflicts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from test_tui_support import (
    SIZE,
    TODAY,
    amount_of,
    assert_only_the_documented_expense,
    live_records,
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
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Input, Static

from finance_tui.errors import PermissionDenied
from finance_tui.models import Record
from screens.record_form import KindToggle, RecordForm, RecordView
from screens.records import WINDOW, RecordTable
from screens.widgets import ConfirmModal

DEBOUNCE = 0.45


async def _type_filter(pilot, screen, name: str, text: str) -> None:
    box = screen.query_one(f"#filter-{name}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await settle(pilot, timers=DEBOUNCE)


def _status(screen) -> str:
    return screen.query_one("#records-status", Static).content.plain


# ---- roles --------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "analyst"])
async def test_non_admin_cannot_reach_any_write_action(sessions, tmp_path, role):
    seed(5)
    before = write_fingerprint()
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        for key in ("n", "e", "d", "t", "u", "ctrl+s"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, key
        assert not any(screen.check_action(a, ()) for a in ("new", "edit", "delete", "restore"))
        footer_keys = set(screen.active_bindings)
        assert not {"n", "e", "d", "t", "u"} & footer_keys
        titles = palette_titles(app, screen)
        assert not titles & {"New record", "Trash (deleted records)", "Leave trash"}
        # Enter opens the record read-only
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordView)
        await pilot.press("escape")
        await settle(pilot)
        # even if a screen bug reached the core, the core refuses
        with pytest.raises(PermissionDenied):
            sessions[role].records.create(
                {"kind": "expense", "amount": "1", "category": "food", "date": "today"}
            )
    assert write_fingerprint() == before


# ---- admin writes ---------------------------------------------------------------------
async def test_admin_creates_with_the_documented_keystrokes(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm)
        await pilot.press("e", "enter", *"12.50", "enter", *"fo", "enter", "enter")
        await pilot.press(*"lunch", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.total == 1
    assert_only_the_documented_expense()


async def test_category_prefix_completes_even_before_the_list_loaded(admin, tmp_path):
    """Keys typed ahead can save before the form's category list arrives: the save
    then completes "fo" itself, as Enter on the field would have."""
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm)
        form.categories = []  # as if the list were still loading
        await pilot.press("e", "enter", *"12.50", "enter", *"fo", "enter", "enter")
        await pilot.press(*"lunch", "enter")
        await settle(pilot)
        assert app.screen is screen
    assert_only_the_documented_expense()


async def test_admin_edits_deletes_and_restores(admin, tmp_path):
    seed(3)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        first = screen.current_row()
        assert first is not None and first.notes == "note 0"
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm)
        form.query_one("#field-amount", Input).value = "1,234.5"
        form.query_one("#field-notes", Input).value = "[bold]corrected[/bold]"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        rec = Record.get_by_id(first.id)
        assert (rec.amount, rec.notes, rec.version) == (123450, "[bold]corrected[/bold]", 2)
        # user text is shown literally in the table
        assert "[bold]corrected[/bold]" in table_column(screen.query_one(RecordTable), 4)

        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert Record.get_by_id(first.id).is_deleted is True
        assert screen.total == 2

        await pilot.press("t")
        await settle(pilot)
        assert screen.trash and screen.total == 1
        assert "TRASH" in _status(screen)
        await pilot.press("u")
        await settle(pilot)
        assert Record.get_by_id(first.id).is_deleted is False
        assert screen.total == 0
        await pilot.press("t")
        await settle(pilot)
        assert screen.total == 3


async def test_delete_can_be_declined(admin, tmp_path):
    seed(2)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
    assert len(live_records()) == 2


@pytest.mark.parametrize("role", ["viewer", "analyst"])
async def test_the_record_write_keys_open_nothing_for_a_reader(sessions, tmp_path, role):
    """No delete question, no form: the keys are hidden and inert (the core refuses the
    writes anyway, see test_permissions)."""
    seed(2, owner=sessions["admin"])
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        for key in ("d", "e", "n", "c", "ctrl+n"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, key
    assert len(live_records()) == 2


# ---- filters ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field,text,expected",
    [
        ("kind", "income", 5),  # i = 0, 4, 8, 12, 16
        ("category", "rent", 5),
        ("category", "food,rent", 10),
        ("date_from", "2026-11-20", 6),
        ("date_to", "2026-11-10", 5),
        ("date_from", "-2", 3),  # relative to the app's fixed today
        ("amount_min", "100", 7),  # amounts 10.50 + 7i ≥ 100 → i ≥ 13
        ("amount_max", "1,000", 20),
        ("text", "NOTE 1", 11),  # note 1, note 10..19
    ],
)
async def test_filter_by_each_field(admin, tmp_path, field, text, expected):
    seed(20)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        assert screen.total == 20
        await _type_filter(pilot, screen, field, text)
        assert screen.total == expected
        assert _status(screen).startswith(f"{expected} records")
        assert screen.filter_error == ""
        await pilot.press("escape")
        await settle(pilot)
        assert screen.total == 20
        assert all(not screen.query_one(f"#filter-{n}", Input).value for n in ("kind", "text"))


@pytest.mark.parametrize(
    "field,text,message",
    [
        ("amount_min", "abc", "Min amount is not a number"),
        ("date_from", "31/12/2026", "From is not a date"),
        ("kind", "transfer", "Kind must be income or expense"),
        ("category", "nosuch", "Category unknown category 'nosuch'"),
    ],
)
async def test_invalid_filter_value_is_reported_and_results_kept(
    admin, tmp_path, field, text, message
):
    seed(6)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _type_filter(pilot, screen, field, text)
        assert screen.filter_error.startswith(message)
        assert screen.query_one(f"#filter-{field}", Input).has_class("-invalid")
        assert screen.total == 6


async def test_filters_combine(admin, tmp_path):
    seed(20)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _type_filter(pilot, screen, "kind", "expense")
        await _type_filter(pilot, screen, "amount_max", "50")
        # expenses with 10.50 + 7i ≤ 50 → i ∈ {1, 2, 3, 5}
        assert screen.total == 4
        notes = table_column(screen.query_one(RecordTable), 4)
        assert notes == ["note 1", "note 2", "note 3", "note 5"]


# ---- sorting ------------------------------------------------------------------------
async def test_sort_by_keys_and_header_click(admin, tmp_path):
    seed(8)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        table = screen.query_one(RecordTable)
        dates = table_column(table, 0)
        assert dates == sorted(dates, reverse=True)
        await pilot.press("o")  # ascending date
        await settle(pilot)
        assert table_column(table, 0) == sorted(dates)
        await pilot.press("s")  # next sort field: amount (largest first)
        await settle(pilot)
        assert screen.flt.sort == "amount" and screen.flt.descending
        amounts = [Decimal(a.replace(",", "").lstrip("+")) for a in table_column(table, 3)]
        assert [abs(a) for a in amounts] == sorted((abs(a) for a in amounts), reverse=True)
        await pilot.click(RecordTable, offset=(30, 0))  # header "Category"
        await settle(pilot)
        assert screen.flt.sort == "category" and not screen.flt.descending
        categories = table_column(table, 2)
        assert categories == sorted(categories)
        await pilot.click(RecordTable, offset=(30, 0))  # again: reversed
        await settle(pilot)
        assert screen.flt.descending
        assert table_column(table, 2) == sorted(categories, reverse=True)


# ---- paging -------------------------------------------------------------------------
async def test_paging_reaches_every_record_without_loading_them_all(admin, tmp_path):
    total = 2 * WINDOW + 57
    seed(total)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        table = screen.query_one(RecordTable)
        assert screen.total == total and table.row_count == WINDOW
        await pilot.press("end")
        await settle(pilot)
        row = screen.current_row()
        assert row is not None and row.notes == f"note {total - 1}"
        assert screen.cursor_pos == total - 1
        assert table.row_count <= WINDOW
        assert f"#{total:,} of {total:,}" in _status(screen)
        await pilot.press("home")
        await settle(pilot)
        assert screen.current_row().notes == "note 0"
        # walk down past the first window: page down to near its end (every key costs a
        # frame, and the walk within a window is not what is tested here), then the
        # arrow key across the window's edge, each press moving the cursor by one row
        await pilot.press("pagedown", "pagedown", "pagedown")
        await settle(pilot)
        near = screen.cursor_pos
        assert WINDOW // 2 < near < WINDOW - 3 and screen.window_start == 0
        assert screen.current_row().notes == f"note {near}"
        await pilot.press(*["down"] * (WINDOW + 3 - near))
        await settle(pilot)
        assert screen.cursor_pos == WINDOW + 3
        assert screen.current_row().notes == f"note {WINDOW + 3}"
        assert screen.window_start > 0
        await pilot.press("right_square_bracket")  # next page (+WINDOW rows)
        await settle(pilot)
        assert screen.current_row().notes == f"note {2 * WINDOW + 3}"
        assert screen.current_row().amount == amount_of(2 * WINDOW + 3)
        await pilot.press("pageup")
        await settle(pilot)
        assert screen.cursor_pos < 2 * WINDOW + 3
        assert screen.current_row().notes == f"note {screen.cursor_pos}"


async def test_moving_the_cursor_repaints_the_status_line_without_a_layout(
    admin, tmp_path, monkeypatch
):
    """The arrow keys rewrite the one-line status bar and title on every press. Their
    height is fixed in the style sheet, so the new text is painted in place: a layout
    pass of the whole screen per key doubled the CPU of a keypress (45 ms → 23 ms
    measured at 120×36)."""
    seed(30)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        layouts: list[str] = []
        layout = Screen._refresh_layout

        def counted(self, *args, **kwargs):
            layouts.append(type(self).__name__)
            return layout(self, *args, **kwargs)

        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        await pilot.press("down", "down", "down")
        await settle(pilot)
        assert layouts == []
        status = screen.query_one("#records-status", Static)
        painted = "".join(
            segment.text for segment in status.render_lines(Region(0, 0, status.size.width, 1))[0]
        )
        assert _status(screen).startswith("30 records · #4 of 30")
        assert "#4 of 30" in painted
        assert screen.current_row().notes == "note 3"


# ---- the form -----------------------------------------------------------------------
async def _open_new_form(pilot) -> RecordForm:
    await pilot.press("n")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, RecordForm)
    return form


async def test_form_shows_field_errors_and_keeps_input(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await _records(pilot)
        form = await _open_new_form(pilot)
        await pilot.press("i", "enter", *"12.345", "enter", *"food", "enter")
        form.query_one("#field-date", Input).value = "someday"
        form.query_one("#field-notes", Input).value = "x" * 1001
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.field_error("amount") == "has more than 2 decimal places"
        assert form.field_error("category") == "'food' is for expense records, not income"
        assert form.field_error("date").startswith("is not a date")
        assert "1000" in form.field_error("notes")
        assert form.query_one("#field-amount", Input).value == "12.345"  # nothing lost
        assert form.query_one("#field-notes", Input).value == "x" * 1001
        form.query_one("#field-amount", Input).value = "-5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.field_error("amount").startswith("must be positive")
    assert live_records() == []


async def test_save_and_add_another_keeps_kind_category_date(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        form = await _open_new_form(pilot)
        await pilot.press("e", "enter", *"1,234.50", "enter", *"rent", "enter")
        date_box = form.query_one("#field-date", Input)
        date_box.value = "2026-11-01"
        await pilot.press("down", "down", "up")  # ↓ / ↑ step a day: 2026-10-31
        assert date_box.value == "2026-10-31"
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#field-amount", Input).value == ""
        assert form.query_one("#field-category", Input).value == "rent"
        assert form.query_one("#field-date", Input).value == "2026-10-31"
        assert form.query_one(KindToggle).value == "expense"
        assert form.focused is form.query_one(KindToggle)  # where n starts too
        await pilot.press("enter", *"99", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen and screen.total == 2
    amounts = sorted(r.amount for r in live_records())
    assert amounts == [9900, 123450]
    assert {(r.date, r.category.name) for r in live_records()} == {(date(2026, 10, 31), "rent")}


async def test_date_shortcuts_and_category_suggestions(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await _records(pilot)
        form = await _open_new_form(pilot)
        await settle(pilot)
        assert set(form._names_for_kind()) == {"food", "rent", "investment", "other"}
        await pilot.press("i")
        assert set(form._names_for_kind()) == {"salary", "investment", "other"}
        await pilot.press("enter", *"10", "enter", *"sal", "enter")
        assert form.query_one("#field-category", Input).value == "salary"
        date_box = form.query_one("#field-date", Input)
        date_box.value = ""
        await pilot.press(*"-3", "enter", *"bonus", "enter")
        await settle(pilot)
    (rec,) = live_records()
    assert (rec.kind, rec.category.name, rec.date) == ("income", "salary", TODAY - timedelta(3))


async def test_conflict_names_the_other_user_and_offers_reload(admin, make_user, tmp_path):
    seed(1)
    other = make_user("admin", name="carol")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        row = screen.current_row()
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm)
        other.records.update(row.id, row.version, {"notes": "carol was here"})
        form.query_one("#field-notes", Input).value = "mine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        message = form.query_one("#form-error", Static).content.plain
        assert "changed by carol" in message and "Reload" in message
        assert form.query_one("#field-notes", Input).value == "mine"
        assert form.query_one("#form-reload").display
        await pilot.click("#form-reload")
        await settle(pilot)
        assert form.query_one("#field-notes", Input).value == "carol was here"
        assert form.record.version == 2
        form.query_one("#field-notes", Input).value = "mine, after reload"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    (rec,) = live_records()
    assert (rec.notes, rec.version) == ("mine, after reload", 3)


@pytest.mark.parametrize("text", ["\x00", "lunch\x00", "\x1b[31m"])
async def test_search_with_a_control_character_is_reported_not_matching_everything(
    admin, tmp_path, text
):
    seed(6)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _type_filter(pilot, screen, "text", "zzz")
        assert screen.total == 0
        screen.query_one("#filter-text", Input).value = text  # pasted: no key types it
        await settle(pilot, timers=DEBOUNCE)
        assert screen.filter_error == "Search contains a control character"
        assert screen.query_one("#filter-text", Input).has_class("-invalid")
        assert screen.total == 0  # the previous results stay


# ---- keyboard entry ------------------------------------------------------------------
async def test_minus_n_replaces_the_remembered_date(admin, tmp_path):
    """Focus selects the date the form remembers, so "-3" means three days ago (not
    "2026-11-302"); - / + alone are yesterday / tomorrow; ↓ / ↑ step the date shown."""
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await _records(pilot)
        form = await _open_new_form(pilot)
        date_box = form.query_one("#field-date", Input)
        await pilot.press("e", "enter", *"5", "enter", *"food", "enter")
        assert form.focused is date_box and date_box.value == TODAY.isoformat()
        await pilot.press("minus", "3")
        assert date_box.value == "-3"
        await pilot.press("enter")  # shows the date it stands for, moves on
        assert date_box.value == (TODAY - timedelta(3)).isoformat()
        assert form.focused is form.query_one("#field-notes", Input)
        for keys, expected in (
            (("minus",), TODAY - timedelta(1)),
            (("plus",), TODAY + timedelta(1)),
            (("plus", "2"), TODAY + timedelta(2)),
            (("minus", "1", "0"), TODAY - timedelta(10)),
        ):
            await pilot.press("shift+tab", *keys, "enter")
            assert date_box.value == expected.isoformat(), keys
        await pilot.press("shift+tab", "down", "down", "up", "enter")
        assert date_box.value == (TODAY - timedelta(11)).isoformat()
        await pilot.press("ctrl+n")  # the next record remembers that date ...
        await settle(pilot)
        assert date_box.value == (TODAY - timedelta(11)).isoformat()
        await pilot.press("enter", *"7", "enter", "enter")  # kind, amount, category
        await pilot.press("minus", "3", "ctrl+s")  # ... and -3 still counts from today
        await settle(pilot)
    assert sorted(r.date for r in live_records()) == [TODAY - timedelta(11), TODAY - timedelta(3)]


async def test_enter_on_an_empty_required_field_stays_and_says_why(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await _records(pilot)
        form = await _open_new_form(pilot)
        amount = form.query_one("#field-amount", Input)
        category = form.query_one("#field-category", Input)
        date_box = form.query_one("#field-date", Input)
        await pilot.press("e", "enter", "enter")
        assert form.focused is amount
        assert form.field_error("amount") == "is required"
        await pilot.press(*"12", "enter")  # the amount lands in Amount, not Category
        assert amount.value == "12" and form.field_error("amount") == ""
        assert form.focused is category
        await pilot.press("enter")
        assert form.focused is category and form.field_error("category") == "is required"
        await pilot.press(*"food", "enter")
        assert form.focused is date_box and form.field_error("category") == ""
        date_box.value = ""
        await pilot.press("enter")
        assert form.focused is date_box and form.field_error("date") == "is required"
        await pilot.press(*"someday", "enter")
        assert form.focused is date_box
        assert form.field_error("date").startswith("is not a date")
        assert app.screen is form
    assert live_records() == []


async def test_escape_asks_before_dropping_changes(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _open_new_form(pilot)
        await pilot.press("escape")  # nothing typed: just closes
        await settle(pilot)
        assert app.screen is screen
        form = await _open_new_form(pilot)
        await pilot.press("e", "enter", *"12")
        await pilot.press("escape")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        assert "Discard" in confirm.query_one("#confirm-message", Static).content.plain
        hint = confirm.query_one("#confirm-keys", Static).content.plain
        assert hint == "y Discard · n or Escape Keep editing"
        shown = {k for k, b in confirm.active_bindings.items() if b.binding.show}
        assert {"y", "n", "escape"} <= shown  # the dialog's footer names its keys
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#field-amount", Input).value == "12"  # nothing lost
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
    assert live_records() == []


async def test_the_saved_record_is_selected_in_the_list(admin, tmp_path):
    """New and edited records are selected where the sort puts them, even outside
    the window that was loaded."""
    seed(300)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await _open_new_form(pilot)
        await pilot.press("e", "enter", *"3", "enter", *"food", "enter")
        await pilot.press("minus", *"200", "enter", *"new one", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.current_row().notes == "new one"
        assert screen.cursor_pos == 200  # 200 later days; newer than its day's twin
        assert screen.query_one(RecordTable).cursor_row == 200 - screen.window_start
        await pilot.press("home")
        await settle(pilot)
        edited = screen.current_row()
        assert edited.notes == "note 0"
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm)
        form.query_one("#field-date", Input).value = "-150"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert screen.current_row().id == edited.id
        assert screen.cursor_pos == 149


async def test_the_form_has_its_own_footer_and_help(admin, tmp_path):
    from screens.footer import FitFooter
    from screens.help import HelpScreen

    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await _records(pilot)
        form = await _open_new_form(pilot)
        assert form.query(FitFooter)
        shown = {k: b.binding.description for k, b in form.active_bindings.items()}
        shown = {k: d for k, d in shown.items() if form.active_bindings[k].binding.show}
        assert shown == {
            "ctrl+s": "Save",
            "ctrl+n": "Save + another",
            "escape": "Cancel",
            "f1": "Help",
            "question_mark": "Help",  # the footer shows it once, as F1
        }
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert help_screen.screen_title == "Record form"
        keys = {(key, description) for key, description, _ in help_screen.rows}
        assert ("^s", "Save") in keys and ("esc", "Cancel") in keys
        assert not any(description in ("New", "Delete") for _, description in keys)
        assert "-3 (three days ago)" in help_screen.extra
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        await pilot.press("question_mark")  # on the kind field; in a text field ? is typed
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
