"""Keyset paging of the records screen: windows read by key at any depth (no OFFSET),
a saved record found by its key, pages that never skip or repeat rows with equal sort
keys, and one database round trip per key action."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from test_tui_support import SIZE, TODAY, make_app, seed, settle
from test_tui_support import open_records as _records
from textual.widgets import Input, Static

from finance_tui import dbpool
from finance_tui.db import write_transaction
from finance_tui.domain.filters import RecordFilter
from finance_tui.domain.paging import WindowRequest
from finance_tui.models import Category, User
from finance_tui.services import query
from finance_tui.services import records as records_service
from finance_tui.services.bulk import NewRecord, insert_records
from screens.record_form import RecordForm
from screens.records import WINDOW

STAMP = datetime(2026, 11, 1, 9, 0, 0)


def _seed_ties(count: int) -> None:
    """``count`` records on 3 dates with 2 amounts and 2 creation stamps: most sort keys
    are shared by dozens of rows, so only the id tells them apart."""
    ids = [c.id for c in Category.select().order_by(Category.name_lower)][:3]
    rows = [
        NewRecord(
            kind="expense" if i % 5 else "income",
            amount_minor=(100, 250)[i % 2],
            category_id=ids[i % 3],
            date=TODAY - timedelta(days=i % 3),
            notes=f"tie {i}",
            created_at=STAMP + timedelta(seconds=i % 2),
        )
        for i in range(count)
    ]
    with write_transaction():
        insert_records(rows, User.select().first().id)


def _ordered(admin, flt: RecordFilter) -> list:
    """Every id in the filter's order, from one ORDER BY query without paging."""
    return [row.id for row in admin.records.list(replace(flt, limit=1000), with_total=False).rows]


@pytest.mark.parametrize(
    "sort,descending", [("date", True), ("date", False), ("amount", True), ("category", False)]
)
def test_walking_windows_by_key_never_skips_or_repeats_tied_rows(admin, sort, descending):
    _seed_ties(230)
    flt = RecordFilter(sort=sort, descending=descending, limit=17)
    expected = _ordered(admin, flt)
    assert len(expected) == 230
    window = admin.records.window(WindowRequest(flt, "first"))
    seen, starts = [], []
    while window.rows:
        seen += [row.id for row in window.rows]
        starts.append(window.start)
        edge = window.rows[-1]
        request = WindowRequest(flt, "after", row=edge, position=window.start + 16, count="no")
        window = admin.records.window(request)
    assert seen == expected
    assert starts == list(range(0, 230, 17))
    window = admin.records.window(WindowRequest(flt, "last", total=230, count="no"))
    back = []
    while True:
        assert window.start == expected.index(window.rows[0].id)
        back = [row.id for row in window.rows] + back
        if window.start == 0:
            break
        request = WindowRequest(flt, "before", row=window.rows[0], position=window.start)
        window = admin.records.window(request)
    assert back == expected


def test_a_window_around_a_saved_record_is_placed_without_counting(admin, monkeypatch):
    _seed_ties(120)
    flt = RecordFilter(limit=20)
    expected = _ordered(admin, flt)
    shown = admin.records.window(WindowRequest(flt, "offset", offset=60, total=120))
    assert [row.id for row in shown.rows] == expected[60:80]
    saved = admin.records.update(shown.rows[5].id, 1, {"amount": "9.99"})
    known = {row.id: 60 + i - (i > 5) for i, row in enumerate(shown.rows) if i != 5}
    monkeypatch.setattr(query, "run_position", _refuse)
    around = admin.records.window(
        WindowRequest(flt, "around", row=saved, before_rows=5, known=known, count="no")
    )
    assert around.found == 5 and around.rows[5].amount == saved.amount
    assert around.start == 60
    assert [row.id for row in around.rows] == expected[60:80]


def _refuse(*args, **kwargs):
    raise AssertionError("counted the rows before the window")


# ---- the screen ----------------------------------------------------------------------
class Spy:
    """Counts database round trips of the pool and the query functions called."""

    def __init__(self, monkeypatch) -> None:
        self.round_trips = 0
        self.offsets: list[int] = []
        self.seeks = 0
        self.positions = 0
        guarded, run_query = dbpool._guarded, query.run_query
        run_seek, run_position = query.run_seek, query.run_position

        def trip(call):
            self.round_trips += 1
            return guarded(call)

        def paged(flt, **kwargs):
            self.offsets.append(flt.offset)
            return run_query(flt, **kwargs)

        def seek(flt, **kwargs):
            self.seeks += 1
            return run_seek(flt, **kwargs)

        def position(flt, row):
            self.positions += 1
            return run_position(flt, row)

        monkeypatch.setattr(dbpool, "_guarded", trip)
        for module in (query, records_service):  # records imports them by name
            monkeypatch.setattr(module, "run_query", paged)
            monkeypatch.setattr(module, "run_position", position)
        monkeypatch.setattr(query, "run_seek", seek)

    def reset(self) -> None:
        self.round_trips, self.offsets, self.seeks, self.positions = 0, [], 0, 0


def _status(screen) -> str:
    return screen.query_one("#records-status", Static).content.plain


async def _at_the_last_record(pilot, total: int):
    """The records screen with the cursor on the last of ``total`` records (``End``)."""
    screen = await _records(pilot)
    await pilot.press("end")
    await settle(pilot)
    assert screen.cursor_pos == total - 1
    return screen


async def test_paging_deep_in_the_result_reads_by_key_in_one_round_trip(
    admin, tmp_path, monkeypatch
):
    total = 10 * WINDOW
    seed(total)
    spy = Spy(monkeypatch)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _at_the_last_record(pilot, total)
        for _ in range(5):
            await pilot.press("left_square_bracket")
            await settle(pilot)
        assert screen.cursor_pos == total - 1 - 5 * WINDOW
        for _ in range(10):  # within the window: no database; past it: one seek
            before = screen.window_start
            spy.reset()
            await pilot.press("pagedown")
            await settle(pilot)
            if screen.window_start != before:
                break
            assert spy.round_trips == 0
        assert screen.window_start > before
        assert (spy.round_trips, spy.seeks, spy.offsets) == (1, 1, [])
        row = screen.current_row()
        assert row is not None and row.notes == f"note {screen.cursor_pos}"
        assert f"#{screen.cursor_pos + 1:,} of {total:,}" in _status(screen)
        spy.reset()
        await pilot.press("pageup", "pageup", "pageup", "pageup")
        await settle(pilot)
        assert spy.offsets == [] and spy.seeks >= 1
        assert screen.current_row().notes == f"note {screen.cursor_pos}"


async def test_page_keys_pressed_while_a_window_loads_add_up(admin, tmp_path, monkeypatch):
    """``[`` twice while the first page is still loading (a slow database, a fast
    typist): the second moves on from where the first is going, two pages in all (it
    once moved from the row the cursor was leaving, one page in all). ``]`` back into
    the rows on screen meanwhile cancels the load it made moot."""
    total = 5 * WINDOW
    seed(total)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _at_the_last_record(pilot, total)
        answer = threading.Event()
        window = admin.records.window

        def slow_window(request):
            answer.wait(10)
            return window(request)

        monkeypatch.setattr(admin.records, "window", slow_window)
        await pilot.press("left_square_bracket", "left_square_bracket")
        answer.set()
        await settle(pilot)
        assert screen.cursor_pos == total - 1 - 2 * WINDOW
        assert screen.current_row().notes == f"note {screen.cursor_pos}"
        answer.clear()
        await pilot.press("left_square_bracket", "right_square_bracket")
        answer.set()
        await settle(pilot)
        assert screen.cursor_pos == total - 1 - 2 * WINDOW
        assert screen.current_row().notes == f"note {screen.cursor_pos}"


async def test_a_save_deep_in_the_result_reseeks_around_the_record_by_key(
    admin, tmp_path, monkeypatch
):
    total = 5 * WINDOW
    seed(total)
    spy = Spy(monkeypatch)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        await pilot.press("end", "left_square_bracket", "left_square_bracket")
        await settle(pilot)
        deep = screen.cursor_pos
        assert deep == total - 1 - 2 * WINDOW
        edited = screen.current_row()
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecordForm)
        form.query_one("#field-amount", Input).value = "4321.00"
        spy.reset()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert spy.positions == 0 and spy.offsets == []
        row = screen.current_row()
        assert row.id == edited.id and str(row.amount) == "4321.00"
        assert screen.cursor_pos == deep
        assert [r.notes for r in screen.rows] == [
            f"note {i}" for i in range(screen.window_start, screen.window_start + len(screen.rows))
        ]


async def test_a_kind_filter_is_one_round_trip_and_a_search_counts_after_the_rows(
    admin, tmp_path, monkeypatch
):
    seed(300)
    spy = Spy(monkeypatch)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _records(pilot)
        box = screen.query_one("#filter-kind", Input)
        spy.reset()
        box.value = "income"  # as typed: applied once the typing pauses
        await settle(pilot, timers=0.45)
        assert screen.flt.kind == "income"
        assert spy.round_trips == 1
        assert screen.counted and screen.total == 75
        spy.reset()
        await pilot.press("s")
        await settle(pilot)
        assert spy.round_trips == 1 and screen.total == 75 and screen.counted
        await _search_counts_after_the_rows(pilot, screen, spy, monkeypatch)


async def _search_counts_after_the_rows(pilot, screen, spy, monkeypatch) -> None:
    release = threading.Event()
    count = screen.session.records.count

    def held(flt):
        release.wait(10)
        return count(flt)

    monkeypatch.setattr(screen.session.records, "count", held)
    box = screen.query_one("#filter-text", Input)
    box.focus()
    spy.reset()
    box.value = "note 1"
    await pilot.press("enter")
    await pilot.pause(0.6)
    for _ in range(10):
        await pilot.pause()
    assert screen.rows and all("note 1" in row.notes for row in screen.rows)
    assert not screen.counted and "counting records…" in _status(screen)
    await pilot.press("down")  # keys work while counting
    await pilot.pause()
    assert screen.cursor_pos == 1
    release.set()
    await settle(pilot)
    assert screen.counted and screen.total == 27  # income (every 4th): 12, 16, 100-196
    assert spy.round_trips == 2


@pytest.mark.parametrize(
    "position,start,size,total,plan",
    [
        (150, 0, 100, 1000, ("after", 99)),
        (130, 20, 100, 1000, ("after", 84)),
        (850, 900, 100, 10_000, ("before", 25)),
        (10, 120, 100, 1000, ("first", 0)),
        (990, 500, 100, 1000, ("last", 0)),
        (5000, 100, 100, 10_000, ("offset", 0)),
    ],
)
def test_seek_plan_reaches_the_position_from_the_window_edge(position, start, size, total, plan):
    from screens.records import seek_plan

    assert seek_plan(position, start, size, total) == plan
