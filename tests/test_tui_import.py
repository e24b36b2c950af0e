"""Import screen and export dialog with a real database: column mapping, progress,
the report of bad lines, cancel (nothing written), and export of the records filter."""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path

import pytest
from test_tui_support import SIZE, make_app, seed, settle
from textual.widgets import Checkbox, DataTable, Input, ProgressBar, Select

from finance_tui.models import Category, Record
from finance_tui.services.csv_import import CHUNK
from screens.import_export import ExportModal, ImportScreen, _Progress
from screens.widgets import ConfirmModal

HEADER = "date,kind,amount,category,notes\n"


async def _open_import(pilot) -> ImportScreen:
    await settle(pilot)
    screen = ImportScreen(pilot.app.session)
    pilot.app.push_screen(screen)
    await settle(pilot)
    assert pilot.app.screen is screen
    return screen


async def _type(pilot, screen, selector: str, text: str) -> None:
    box = screen.query_one(selector, Input)
    box.focus()
    box.value = text
    await pilot.pause()


def _errors(screen) -> list[tuple[str, str, str]]:
    table = screen.query_one("#import-errors", DataTable)
    return [tuple(cell.plain for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_import_with_column_mapping_step(admin, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text("Day;Value;Group;Text\n2026-01-05;-12.50;food;[b]lunch[/b]\n", encoding="utf-8")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot)
        await _type(pilot, screen, "#import-file", str(path))
        await pilot.press("enter")  # read the header
        await settle(pilot)
        note = str(screen.query_one("#import-columns-note").content)
        assert "4 columns, delimiter ';'" in note and "date, amount, category" in note
        assert screen.query_one("#map-date", Select).value == Select.NULL
        for field, column in (("date", "Day"), ("amount", "Value"), ("category", "Group")):
            screen.query_one(f"#map-{field}", Select).value = column
        screen.query_one("#map-notes", Select).value = "Text"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.outcome == "imported", screen.summary_text
        assert "Imported 1 of 1 rows" in screen.summary_text
        bar = screen.query_one("#import-progress", ProgressBar)
        assert bar.progress == bar.total == 1
    rec = Record.get()
    assert (rec.kind, rec.amount, rec.notes) == ("expense", 1250, "[b]lunch[/b]")


async def test_rejected_import_lists_lines_and_writes_nothing(admin, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "2026-01-01,expense,1,food,ok\n"
        + "2026-01-02,expense,-5,food,x\n"
        + "2026-01-03,expense,1,[red]Nope[/red],x\n",
        encoding="utf-8",
    )
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot)
        await _type(pilot, screen, "#import-file", str(path))
        await pilot.click("#import-start")
        await settle(pilot)
        assert screen.outcome == "rejected"
        assert screen.summary_text.startswith("nothing imported: 2 of 3 rows are invalid")
        assert "unknown categories: '[red]Nope[/red]'" in screen.summary_text
        assert _errors(screen) == [
            ("3", "amount", "must be positive (the kind says income or expense)"),
            ("4", "category", "unknown category '[red]Nope[/red]'"),
        ]
    assert Record.select().count() == 0


async def test_skip_invalid_and_create_categories_checkboxes(admin, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        HEADER + "2026-01-01,expense,1,Travel,ok\n2026-01-02,expense,zero,food,x\n",
        encoding="utf-8",
    )
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot)
        await _type(pilot, screen, "#import-file", str(path))
        screen.query_one("#import-skip", Checkbox).value = True
        screen.query_one("#import-create", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.outcome == "imported"
        assert "1 invalid rows skipped" in screen.summary_text
        assert "created categories: 'Travel'" in screen.summary_text
        assert f"rejected rows written to {path}.rejected.csv" in screen.summary_text
        assert _errors(screen)[0][:2] == ("3", "amount")
    assert Record.select().count() == 1
    assert Category.select().where(Category.name == "Travel").count() == 1


async def test_cancel_writes_nothing_and_screen_stays_usable(admin, tmp_path, monkeypatch):
    # The worker pauses at its first progress report until Escape has been pressed, so
    # the cancel always lands mid-import (never after a fast machine has finished).
    gate = threading.Event()
    report = _Progress.__call__

    def paused(self, done, total):
        gate.wait(10)
        report(self, done, total)

    monkeypatch.setattr(_Progress, "__call__", paused)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(12 * CHUNK):
            out.write(f"2026-01-{1 + i % 28:02d},expense,{1 + i % 500}.00,food,row {i}\n")
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot)
        await _type(pilot, screen, "#import-file", str(path))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.running
        assert screen.query_one("#import-start").disabled
        await pilot.press("escape")
        gate.set()
        await settle(pilot)
        assert screen.outcome == "cancelled", screen.summary_text
        assert "nothing was written" in screen.summary_text
        assert not screen.running and not screen.query_one("#import-start").disabled
    assert Record.select().count() == 0


async def test_missing_file_and_bad_header_are_messages(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot)
        await pilot.press("ctrl+s")
        assert "Type the path" in screen.summary_text
        await _type(pilot, screen, "#import-file", str(tmp_path / "nope.csv"))
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "no such file" in screen.summary_text
        bad = tmp_path / "bad.csv"
        bad.write_text("a,b\n1,2\n", encoding="utf-8")
        await _type(pilot, screen, "#import-file", str(bad))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.outcome == "failed" and "missing columns" in screen.summary_text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: Path("/dev/zero"), "/dev/zero is a device, not a regular file"),
        (lambda tmp: tmp, "is a directory, not a CSV file"),
        (lambda tmp: _fifo(tmp / "pipe"), "is a pipe, not a regular file"),
        (
            lambda tmp: _write_bytes(tmp / "long.csv", b"date," + b"x" * (2 << 20)),
            "line 1: a line longer than 1 MB (is this a CSV file?)",
        ),
    ],
)
async def test_read_columns_of_a_device_pipe_or_endless_line_is_a_message(
    admin, tmp_path, make, message
):
    """Ctrl+R on /dev/zero grew memory without bound; on a pipe it hung the worker."""
    path = make(tmp_path)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot)
        await _type(pilot, screen, "#import-file", str(path))
        for key in ("ctrl+r", "ctrl+s"):
            await pilot.press(key)
            await settle(pilot)
            assert message in screen.summary_text, key
    assert Record.select().count() == 0


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _export_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open(encoding="utf-8", newline="")))


async def test_export_dialog_writes_the_filtered_records(admin, tmp_path, monkeypatch):
    seed(30)
    monkeypatch.chdir(tmp_path)
    from finance_tui.domain.filters import RecordFilter

    flt = RecordFilter(kind="income", limit=5)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        results = []
        app.push_screen(ExportModal(admin, flt, default_path="out.csv"), results.append)
        await settle(pilot)
        assert "income" in str(app.screen.query_one("#export-filter").content)
        assert str(app.screen.query_one("#export-title").content) == "Export 8 records to CSV"
        await pilot.click("#export-start")
        await settle(pilot)
        assert results and results[0].rows == 8
        # a second export to the same file asks first
        app.push_screen(ExportModal(admin, flt, default_path="out.csv"), results.append)
        await settle(pilot)
        await pilot.click("#export-start")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ExportModal)
        await pilot.press("escape")
        await settle(pilot)
        assert len(results) == 2 and results[1] is None
    rows = _export_rows(tmp_path / "out.csv")
    assert len(rows) == 8 and {r["kind"] for r in rows} == {"income"}


async def test_export_dialog_reports_refusal(sessions, tmp_path):
    from finance_tui.domain.filters import RecordFilter

    app = make_app(tmp_path, sessions["viewer"])
    target = tmp_path / "v.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ExportModal(sessions["viewer"], RecordFilter(), default_path=str(target)))
        await settle(pilot)
        await pilot.click("#export-start")
        await settle(pilot)
        message = str(app.screen.query_one("#export-message").content)
        assert "may not export CSV" in message
    assert not target.exists()


@pytest.mark.parametrize("role", ["viewer", "analyst"])
async def test_import_refused_in_the_core_for_non_admins(sessions, tmp_path, role):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "2026-01-01,expense,1,food,x\n", encoding="utf-8")
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot)
        await _type(pilot, screen, "#import-file", str(path))
        screen.action_start()  # even if a screen bug let them start it
        await settle(pilot)
        assert "may not import CSV" in screen.summary_text
    assert Record.select().count() == 0


# ---- reaching the screens from the app ------------------------------------------------
async def test_admin_opens_import_with_key_8_others_cannot(sessions, tmp_path):
    for role, allowed in (("admin", True), ("analyst", False), ("viewer", False)):
        app = make_app(tmp_path, sessions[role])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("8")
            await settle(pilot)
            assert isinstance(app.screen, ImportScreen) is allowed, role
            titles = [e.title for e in app.nav_entries()]
            assert ("Import" in titles) is allowed


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("analyst", True)])
async def test_records_screen_export_action(sessions, tmp_path, monkeypatch, role, allowed):
    seed(12)
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportModal) is allowed
        if not allowed:
            return
        assert app.screen.query_one("#export-file", Input).value == "records-20261125.csv"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ExportModal)
    rows = _export_rows(tmp_path / "records-20261125.csv")
    assert len(rows) == 12


def test_import_screen_snapshot(snap_compare, admin, db_url, tmp_path, monkeypatch):
    if not db_url.startswith("sqlite"):
        pytest.skip("appearance is engine-independent; snapshots are taken on SQLite")
    monkeypatch.chdir(tmp_path)
    Path("bank.csv").write_text(
        "Day;Value;Group;Text\n2026-01-05;-12.50;food;lunch\n2026-13-05;7;nope;[b]x[/b]\n",
        encoding="utf-8",
    )
    app = make_app(tmp_path, admin)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        screen = app.screen
        box = screen.query_one("#import-file", Input)
        box.value = "bank.csv"
        box.focus()
        await pilot.press("enter")
        await settle(pilot)
        for field, column in (("date", "Day"), ("amount", "Value"), ("category", "Group")):
            screen.query_one(f"#map-{field}", Select).value = column
        screen.query_one("#map-notes", Select).value = "Text"
        await pilot.press("ctrl+s")
        await settle(pilot)
        for box in screen.query(Input):
            box.cursor_blink = False
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
