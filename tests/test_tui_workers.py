"""Database work of the screens runs on the app's small fixed pool of long-lived
threads (warm connections, bounded memory), in exclusive workers: a stale result
never replaces a newer one."""

from __future__ import annotations

import threading
from dataclasses import replace

from test_tui_support import SIZE, TODAY, make_app, seed, settle
from textual.widgets import DataTable

from finance_tui import dbpool
from finance_tui.models import database
from screens.record_form import RecordForm
from screens.records import RecordsScreen


def _db_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(dbpool.THREAD_PREFIX)]


class CallSpy:
    """Records the thread and the connection of every database call of the pool."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, int]] = []
        self.original = dbpool._guarded

    def __call__(self, call):
        thread = threading.current_thread()
        self.calls.append((thread.ident or 0, thread.name, id(database.connection())))
        return self.original(call)


async def _many_key_actions(pilot) -> None:
    """Pages, sorts, searches, opens a record, switches screens."""
    await pilot.press("2")
    await settle(pilot)
    for _ in range(4):
        await pilot.press("right_square_bracket")
        await settle(pilot)
    for key in ("end", "home", "end"):  # one round trip each: no count, no parse
        await pilot.press(key)
        await settle(pilot)
    for key in ("s", "s", "o", "s"):
        await pilot.press(key)
        await settle(pilot)
    await pilot.press("slash", *"note 1")
    await settle(pilot, timers=0.4)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot, timers=0.4)
    await pilot.press("enter")  # opens the highlighted record in the form
    await settle(pilot)
    assert isinstance(pilot.app.screen, RecordForm)
    await pilot.press("escape")
    await settle(pilot)
    for key in ("1", "3", "2", "1"):
        await pilot.press(key)
        await settle(pilot)


async def test_key_actions_run_on_a_fixed_set_of_warm_database_threads(
    admin, tmp_path, monkeypatch
):
    seed(400)
    spy = CallSpy()
    monkeypatch.setattr(dbpool, "_guarded", spy)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _many_key_actions(pilot)
        threads_after_one_round = {t.ident for t in threading.enumerate()}
        calls_after_one_round = len(spy.calls)
        await _many_key_actions(pilot)
        await _many_key_actions(pilot)
        assert {t.ident for t in threading.enumerate()} == threads_after_one_round
        assert len(spy.calls) >= 2 * calls_after_one_round >= 40
        assert 1 <= len(_db_threads()) <= dbpool.POOL_SIZE
        assert {name for _, name, _ in spy.calls} <= {t.name for t in _db_threads()}
        assert len({ident for ident, _, _ in spy.calls}) <= dbpool.POOL_SIZE
        assert len({conn for _, _, conn in spy.calls}) <= dbpool.POOL_SIZE
        pool_threads = _db_threads()
    for thread in pool_threads:  # the app closed its pool: the threads end
        thread.join(timeout=5)
    assert not [t for t in pool_threads if t.is_alive()]


async def test_a_stale_page_never_replaces_a_newer_one(admin, tmp_path, monkeypatch):
    """The first search is held back in the database until after the second has been
    shown; its rows never appear (its worker was cancelled by the newer one)."""
    seed(40)
    release = threading.Event()
    window = admin.records.window

    def slow_for_stale(request):
        if request.flt.text == "note 1":
            release.wait(10)
        return window(request)

    monkeypatch.setattr(admin.records, "window", slow_for_stale)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RecordsScreen)
        screen.flt = replace(screen.flt, text="note 1")
        screen.reload(keep_position=False)
        await pilot.pause()
        screen.flt = replace(screen.flt, text="note 3")
        screen.reload(keep_position=False)
        await settle(pilot)
        newer = [row.notes for row in screen.rows]
        assert newer and all("note 3" in notes for notes in newer)
        release.set()  # the stale query now completes in its pool thread
        for _ in range(20):
            await pilot.pause(0.02)
        await settle(pilot)
        assert [row.notes for row in screen.rows] == newer
        table = screen.query_one(DataTable)
        assert table.row_count == len(newer)
        assert screen.total == len(newer) and screen.counted


async def test_a_stale_dashboard_period_never_replaces_the_chosen_one(admin, tmp_path, monkeypatch):
    seed(40)
    release = threading.Event()
    service = admin.dashboard
    summary = service.summary

    def slow_all_time(period, **kwargs):
        if period == "all":
            release.wait(10)
        return summary(period, **kwargs)

    monkeypatch.setattr(service, "summary", slow_all_time)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.period = "this_month"
        screen.reload()
        await settle(pilot)
        shown = screen.data
        assert shown is not None
        assert shown.period_label == summary("this_month", today=TODAY).period_label
        release.set()
        for _ in range(20):
            await pilot.pause(0.02)
        await settle(pilot)
        assert screen.data is shown
