"""The dashboard's custom date range from the keyboard: Escape leaves it, a bad date
is reported on a line of its own at any terminal width, and the footer names the keys."""

from __future__ import annotations

import asyncio
import threading
from datetime import date

import pytest
from test_tui_support import SIZE, make_app, seed, settle, type_text
from textual.widgets import Input, Static

from screens.base import FinanceScreen
from screens.dashboard import DashboardScreen, RangeInput
from screens.records import RecordsScreen
from screens.widgets import KpiCard


async def _dashboard(pilot) -> DashboardScreen:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


def _footer_keys(screen) -> dict[str, str]:
    """The keys the footer shows right now: key -> description."""
    bindings = screen.active_bindings
    return {k: b.binding.description for k, b in bindings.items() if b.binding.show}


async def test_escape_leaves_the_custom_range_and_the_keys_work_again(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _dashboard(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.focused, RangeInput) and app.focused.id == "period-from"
        footer = _footer_keys(screen)
        assert footer["enter"] == "Apply range" and footer["escape"] == "Cancel"
        await pilot.press("1", "p")  # typed: this is a date box
        assert screen.query_one("#period-from", Input).value == "1p"
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is screen.query_one("#dash-body")
        assert screen.period == "all"  # no range was applied: the period before c
        assert not screen.query_one("#range-bar").display
        await pilot.press("p")  # dashboard keys work again
        await settle(pilot)
        assert screen.period == "this_month"
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)


async def test_an_applied_range_survives_escape(admin, tmp_path):
    seed(40)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _dashboard(pilot)
        await pilot.press("c", *"2026-11-01", "enter", *"2026-11-20", "enter")
        await settle(pilot)
        assert (screen.custom_from, screen.custom_to) == (date(2026, 11, 1), date(2026, 11, 20))
        assert app.focused is screen.query_one("#dash-body")
        assert screen.data.record_count == 20
        await pilot.press("c", *"garbage", "escape")
        await settle(pilot)
        assert screen.period == "custom" and screen.data.record_count == 20
        assert screen.query_one("#period-from", Input).value == "2026-11-01"  # typing dropped
        assert app.focused is screen.query_one("#dash-body")


async def _enter_date(pilot, *keys_then_date: str) -> None:
    """Press the keys, type the date (the last argument) into the box they focus,
    press Enter. The date's keys go as one burst: this test is about what the box
    does with a date, the date box's key by key typing has the tests above."""
    *keys, text = keys_then_date
    if keys:
        await pilot.press(*keys)
    await type_text(pilot, text)
    await pilot.press("enter")


@pytest.mark.parametrize("width", [80, 120, 200])
async def test_a_bad_range_date_is_shown_at_every_width(admin, tmp_path, width):
    seed(40)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=(width, 36)) as pilot:
        screen = await _dashboard(pilot)
        await _enter_date(pilot, "c", "2026-11-01")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.data.record_count == 25
        await _enter_date(pilot, "c", "2026-13-01")  # c selects the date to replace
        await settle(pilot)
        error = screen.query_one("#period-error", Static)
        assert error.content.plain == (
            "From is not a date (use YYYY-MM-DD, today, yesterday or -3)"
            " — the range was not changed"
        )
        assert error.display and error.region.width > 0 and error.region.height > 0
        assert screen.query_one("#period-from", Input).has_class("-bad-date")
        assert screen.custom_from == date(2026, 11, 1)  # the old range, said so above
        assert screen.query_one("#period-from", Input).region.width > 0
        # a range the core refuses (from after to) is reported the same way
        await _enter_date(pilot, "escape", "c", "2026-11-20")
        await _enter_date(pilot, "2026-11-01")
        await settle(pilot)
        assert error.display and error.region.width > 0
        assert error.content.plain == (
            "To must not be before the start date — the range was not changed"
        )
        assert app.focused is screen.query_one("#period-to", Input)  # still in the box
        assert (screen.custom_from, screen.custom_to) == (date(2026, 11, 20), None)
        assert screen.data.record_count == 6  # Enter on "from" applied 2026-11-20 onwards
        await pilot.press("escape")
        await settle(pilot)
        assert not error.display
        assert screen.data.record_count == 6
        assert screen.query_one("#period-to", Input).value == ""  # the refused date dropped


async def test_a_load_landing_after_a_refused_range_leaves_the_refusal_shown(
    admin, tmp_path, monkeypatch
):
    """A fast typist on a slow database: the From date's load is still under way when
    the To date is refused. When that load lands, the refusal stays on the screen
    (it once cleared it, so "the range was not changed" flashed and was gone)."""
    seed(10)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _dashboard(pilot)
        answer = threading.Event()
        summary = admin.dashboard.summary

        def slow_summary(*args, **kwargs):
            answer.wait(10)
            return summary(*args, **kwargs)

        monkeypatch.setattr(admin.dashboard, "summary", slow_summary)
        await _enter_date(pilot, "c", "2026-11-20")  # applied: its load waits
        await _enter_date(pilot, "2026-11-01")  # To before From: refused
        error = screen.query_one("#period-error", Static)
        refusal = "To must not be before the start date — the range was not changed"
        assert error.display and error.content.plain == refusal
        answer.set()
        await settle(pilot)
        assert screen.data.period_label.startswith("2026-11-20")  # the load landed
        assert error.display and error.content.plain == refusal


async def test_period_choices_are_clickable_and_whole_at_80_columns(admin, tmp_path):
    from screens.dashboard import PeriodChoices

    app = make_app(tmp_path, admin)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(PeriodChoices)
        plain = bar.build().plain
        assert len(plain) <= 80 and "Custom range" in plain and "All time" in plain
        await pilot.click(PeriodChoices, offset=(plain.index("This month") + 2, 0))
        await settle(pilot)
        assert app.screen.period == "this_month"
        await pilot.click(PeriodChoices, offset=(plain.index("Year to date") + 2, 0))
        await settle(pilot)
        assert app.screen.period == "ytd"


async def _answer_after(screen: FinanceScreen, leave) -> None:
    """Start a load on ``screen`` whose answer waits; ``leave()`` (quit, close), then
    let the answer come: the loader must end cancelled."""
    answer = threading.Event()

    def slow_call() -> int:
        answer.wait(10)
        return 1

    load = asyncio.ensure_future(screen.fetch(slow_call))
    await asyncio.sleep(0.05)
    leave()
    answer.set()
    with pytest.raises(asyncio.CancelledError):
        await load


async def test_an_answer_after_the_app_began_to_quit_stops_the_loader(admin, tmp_path):
    """A slow load (a database restarting) answers after the app began to quit, when
    the screen's widgets are being removed: the loader stops there, cancelled, and
    never reaches the widgets (the dashboard once failed on its range-error line)."""
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _dashboard(pilot)
        await _answer_after(screen, app.exit)


async def test_an_answer_after_the_screen_was_closed_stops_the_loader(admin, tmp_path):
    """The same when the screen is closed while its load is under way: the answer comes
    while Textual removes the screen's widgets, or after."""
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await _dashboard(pilot)
        probe = FinanceScreen()
        await app.push_screen(probe)
        await _answer_after(probe, app.pop_screen)
        assert isinstance(app.screen, DashboardScreen)


async def test_the_cards_keep_their_width_whether_or_not_the_body_scrolls(admin, tmp_path):
    """The body always keeps room for its scroll bar, so the bar coming or going (a
    shorter terminal, another period) never re-flows the cards, charts and tables."""
    seed(30)
    widths = {}
    for height in (36, 100):
        app = make_app(tmp_path, admin)
        async with app.run_test(size=(120, height)) as pilot:
            screen = await _dashboard(pilot)
            body = screen.query_one("#dash-body")
            assert (body.max_scroll_y > 0) is (height == 36)
            widths[height] = [card.size.width for card in screen.query(KpiCard)]
    assert widths[36] == widths[100] and len(widths[36]) == 14
