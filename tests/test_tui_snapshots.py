"""Appearance of the shell's screens per role at 120×36, fixed data and dates.

Taken on SQLite only (appearance does not depend on the engine). Cursor blink is off
in every input so the pictures are stable.
"""

from __future__ import annotations

import pytest
from test_tui_support import (
    FIXED_AT,  # noqa: I001
    SIZE,
    make_app,
    seed,
    settle,
)
from textual.widgets import Input

from finance_tui.db import write_transaction
from finance_tui.models import Record, User


@pytest.fixture
def snap_sessions(sessions, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("appearance is engine-independent; snapshots are taken on SQLite")
    seed(40, owner=sessions["admin"])
    with write_transaction():
        User.update(created_at=FIXED_AT, updated_at=FIXED_AT, last_login_at=FIXED_AT).execute()
    return sessions


def _steady(app) -> None:
    for box in app.screen.query(Input):
        box.cursor_blink = False


def _runner(*keys: str, setup=None):
    async def run_before(pilot) -> None:
        await settle(pilot)
        if setup is not None:
            setup(pilot.app)
        for key in keys:
            if key == "_":
                await settle(pilot, timers=0.5)
            else:
                await pilot.press(key)
                await settle(pilot)
        _steady(pilot.app)
        await settle(pilot)

    return run_before


def test_login_screen(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, db_label="/home/ana/.local/share/finance-tui/finance.db")
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner())


def test_login_error(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path)
    keys = [*"root", "enter", *"wrong-password", "enter"]
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner(*keys))


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_dashboard(snap_compare, snap_sessions, tmp_path, role):
    app = make_app(tmp_path, snap_sessions[role])
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner())


def test_dashboard_this_month(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["viewer"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner("p"))


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_records(snap_compare, snap_sessions, tmp_path, role):
    app = make_app(tmp_path, snap_sessions[role])
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner("2"))


def test_records_filtered_and_sorted(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["viewer"])
    keys = ["2", "f", *"expense", "tab", *"food", "enter", "s"]  # Enter applies, focuses the table
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner(*keys))


def test_records_invalid_filter(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["viewer"])
    keys = ["2", "f", "tab", "tab", "tab", "tab", *"12x", "_"]
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner(*keys))


def test_record_view_for_viewer(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["viewer"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner("2", "down", "enter"))


def test_help_for_viewer(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["viewer"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner("2", "f1"))


def test_help_for_admin(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["admin"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner("2", "question_mark"))


def test_new_record_form_with_errors(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["admin"])
    keys = ["2", "n", "i", "enter", *"12.345", "enter", *"food", "enter", "ctrl+s"]
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner(*keys))


def test_delete_confirmation(snap_compare, snap_sessions, tmp_path):
    app = make_app(tmp_path, snap_sessions["admin"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner("2", "d"))


def test_trash(snap_compare, snap_sessions, tmp_path):
    admin = snap_sessions["admin"]
    for rec in Record.select().order_by(Record.date.desc()).limit(3):
        admin.records.delete(rec.id)
    with write_transaction():
        Record.update(deleted_at=FIXED_AT, updated_at=FIXED_AT).execute()
    app = make_app(tmp_path, admin)
    assert snap_compare(app, terminal_size=SIZE, run_before=_runner("2", "t"))


# ---- the classic 80x24 terminal, and 120x40, with million-scale totals ---------------
SMALL, LARGE = (80, 24), (120, 40)
SMALL_TERMINAL = [
    ("dashboard", ()),
    ("records", ("2",)),
    ("record-form-errors", ("2", "n", "i", "enter", *"12.345", "enter", *"food", "ctrl+s")),
    ("filters", ("2", "f")),
    ("delete-confirmation", ("2", "d")),
    ("help", ("2", "f1")),
    ("custom-range", ("c", *"2026-13-01", "enter")),
    ("export", ("2", "x")),
    ("category-form", ("4", "n")),
    ("user-form", ("5", "n")),
    ("choice", ("5", "r")),
    ("import", ("8",)),
]


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])
@pytest.mark.parametrize(("name", "keys"), SMALL_TERMINAL, ids=[n for n, _ in SMALL_TERMINAL])
def test_fits_the_terminal(snap_compare, snap_sessions, tmp_path, size, name, keys):
    from test_tui_fit import million_scale_totals

    million_scale_totals()
    app = make_app(tmp_path, snap_sessions["admin"])
    assert snap_compare(app, terminal_size=size, run_before=_runner(*keys))


def test_views_picker_80x24(snap_compare, snap_sessions, tmp_path):
    """The saved views picker at 80x24: names (markup shown as typed), what each view
    filters on and how it sorts, the keys."""
    viewer = snap_sessions["viewer"]
    views = [
        ("Food this month", {"kind": "expense", "category": "food", "date_from": "2026-11-01"}),
        ("[b]Big[/b] rent", {"category": "rent", "amount_min": "500"}),
        ("Lunches, last 30 days", {"date_from": "-30", "text": "lunch"}),
        ("Salary by amount", {"kind": "income", "category": "salary"}),
    ]
    for name, fields in views:
        viewer.views.save(name, fields, sort="amount", descending="Big" in name)
    app = make_app(tmp_path, viewer)
    assert snap_compare(app, terminal_size=SMALL, run_before=_runner("2", "v"))


def test_duplicated_record_form_80x24(snap_compare, snap_sessions, tmp_path):
    """`c` on the records screen: the highlighted record's values, dated today, whole at 80x24."""
    app = make_app(tmp_path, snap_sessions["admin"])
    assert snap_compare(app, terminal_size=SMALL, run_before=_runner("2", "down", "c"))


def test_quick_add_with_live_preview_80x24(snap_compare, snap_sessions, tmp_path):
    """The quick-add line under the records list, its meaning shown as it is typed."""
    app = make_app(tmp_path, snap_sessions["admin"])
    keys = ("2", "a", *"1,234.50 rent december rent -3")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_runner(*keys))
