"""The test plumbing itself: how ``pytest -n auto`` (the README's command) is spread."""

from __future__ import annotations

import asyncio
import secrets
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import textual.css.stylesheet as stylesheet_module
from textual.app import App, ComposeResult
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.message import Message
from textual.message_pump import MessagePump
from textual.strip import Strip
from textual.widget import Widget


def test_worksteal_is_the_default_distribution():
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    options = tomllib.loads(pyproject.read_text())["tool"]["pytest"]["ini_options"]
    assert options["addopts"].split() == ["-q", "--dist", "worksteal"]


def test_auto_runs_five_workers_per_two_cpus():
    from conftest import auto_workers

    assert [auto_workers(n) for n in (1, 2, 4, 8)] == [2, 5, 10, 20]


def test_the_auto_hook_counts_this_machines_cpus_unless_told(monkeypatch):
    import os

    from conftest import auto_workers, pytest_xdist_auto_num_workers, usable_cpus

    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    assert usable_cpus() == len(os.sched_getaffinity(0))  # Linux, as on CI
    assert pytest_xdist_auto_num_workers(None) == auto_workers(usable_cpus())
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "7")
    assert pytest_xdist_auto_num_workers(None) is None  # xdist then reads the 7 itself


# ---- parsed style sheets shared by the apps of a test process (tests/parsed_css.py) ----
def _sheet(css: str, variables: dict[str, str] | None = None) -> Stylesheet:
    sheet = Stylesheet(variables=variables or {})
    sheet.add_source(css, read_from=("plumbing.tcss", ""))
    return sheet


def _record_calls(monkeypatch, owner: object, name: str, pick: Callable[..., Any]) -> list[Any]:
    """Patch ``owner.name`` to call through, recording ``pick(*args)`` of each call."""
    calls: list[Any] = []
    real = getattr(owner, name)

    def recording(*args, **kwargs):
        calls.append(pick(*args))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return calls


def _counting_parser(monkeypatch) -> list[str]:
    return _record_calls(monkeypatch, stylesheet_module, "parse", lambda _scope, css, *_: css)


def test_a_second_app_reuses_the_rules_the_first_parsed(monkeypatch):
    calls = _counting_parser(monkeypatch)
    css = f".only-here-{secrets.token_hex(4)} {{ height: 3; }}"
    first, second = _sheet(css), _sheet(css)
    first.parse()
    second.parse()
    assert calls == [css]
    assert second.rules == first.rules
    assert second.rules[0].styles.height.value == 3


def test_a_sheet_with_an_error_fails_every_app_that_loads_it():
    css = f".bad-{secrets.token_hex(4)} {{ height: nonsense; }}"
    for _ in range(2):
        with pytest.raises(StylesheetParseError):
            _sheet(css).parse()


def test_other_theme_variables_parse_the_sheet_again(monkeypatch):
    calls = _counting_parser(monkeypatch)
    css = f".themed-{secrets.token_hex(4)} {{ color: $accent; }}"
    red, blue = _sheet(css, {"accent": "#ff0000"}), _sheet(css, {"accent": "#0000ff"})
    red.parse()
    blue.parse()
    assert len(calls) == 2
    assert red.rules[0].styles.color.hex == "#FF0000"
    assert blue.rules[0].styles.color.hex == "#0000FF"


# ---- finer idle polls for the pilot (tests/idle_wait.py) ----
def test_textual_still_polls_in_the_slices_the_idle_wait_module_assumes():
    """``min_sleep`` keeps the stock slice (it was bound when Textual defined the
    function): a Textual that changes its slice fails here, not silently."""
    import inspect

    import textual._wait
    from idle_wait import SLICE, STOCK_SLICE

    stock = inspect.signature(textual._wait.wait_for_idle).parameters["min_sleep"].default
    assert stock == STOCK_SLICE
    assert textual._wait.SLEEP_GRANULARITY == SLICE  # installed by conftest
    assert textual._wait.SLEEP_IDLE == SLICE / 20


@pytest.mark.parametrize(("load", "holds"), [(0.06, True), (0.04, False)])
async def test_an_idle_wait_still_waits_for_a_busy_process(monkeypatch, load, holds):
    """The finer clock does not make a busy process look idle: a process that works
    at a twentieth of a core or more (a database thread, say) for 0.2 s holds the wait,
    which then ends within a few slices; less than a twentieth is idle at once.

    Read on a simulated clock (Textual's own ``wait_for_idle``, its sleep and clocks
    replaced): on a loaded machine a real busy thread can be descheduled for a whole
    5 ms slice, which the wait rightly reads as idle, so a real thread made this test
    fail now and then under CI's load without anything being wrong."""
    import textual._wait as wait
    from idle_wait import SLICE

    clock = {"wall": 0.0, "cpu": 0.0}
    busy_for = 0.2

    async def sleep(seconds: float) -> None:
        working = clock["wall"] < busy_for - 1e-9
        clock["wall"] += seconds
        clock["cpu"] += seconds * load if working else 0.0

    monkeypatch.setattr(wait, "sleep", sleep)
    monkeypatch.setattr(wait, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(wait, "process_time", lambda: clock["cpu"])
    await wait.wait_for_idle(0)
    if holds:
        assert busy_for - 1e-9 <= clock["wall"] <= busy_for + 3 * SLICE
    else:
        assert clock["wall"] == pytest.approx(SLICE)


async def test_an_idle_wait_ends_soon_when_nothing_works():
    import time

    from textual._wait import wait_for_idle

    begin = time.monotonic()
    await wait_for_idle(0)
    assert time.monotonic() - begin < 0.5


# ---- the pilot waits for the nodes with work (tests/screen_wait.py) ----
class SlowToHandle(Widget):
    """Its handler of ``Go`` awaits for a while before it is done."""

    class Go(Message):
        pass

    handled = False

    async def on_slow_to_handle_go(self) -> None:
        await asyncio.sleep(0.3)
        self.handled = True


class TwentyWidgetsApp(App):
    def compose(self) -> ComposeResult:
        yield SlowToHandle()
        for _ in range(20):
            yield Widget()


def _count_callbacks(monkeypatch) -> list[MessagePump]:
    return _record_calls(monkeypatch, MessagePump, "call_later", lambda node, *_: node)


async def test_the_stock_wait_sends_every_node_a_message_and_ours_only_busy_ones(monkeypatch):
    """What the module works around: Textual's wait posts a callback to each node of the
    screen after every key. A Textual that stops doing so fails here, and the module
    can go."""
    from screen_wait import STOCK_WAIT, may_have_work

    app = TwentyWidgetsApp()
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        nodes = [app, *app.screen.walk_children(with_self=True)]
        assert len(nodes) == 23
        assert not [node for node in nodes if may_have_work(node)]
        posted = _count_callbacks(monkeypatch)
        assert await STOCK_WAIT(pilot)
        assert len(posted) == 23
        posted.clear()
        assert await pilot._wait_for_screen()
        assert posted == []


async def test_the_wait_still_waits_for_a_queued_message_and_a_handler_under_way():
    from screen_wait import may_have_work

    app = TwentyWidgetsApp()
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        slow = app.query_one(SlowToHandle)
        slow.post_message(SlowToHandle.Go())
        assert may_have_work(slow)  # a message queued
        await asyncio.sleep(0.05)
        assert slow._message_queue.empty() and not slow.handled
        assert may_have_work(slow)  # its handler awaits, with the queue empty
        assert await pilot._wait_for_screen()
        assert slow.handled
        assert not may_have_work(slow)


# ---- fewer young collections in the test processes (tests/young_gc.py) ----
def test_the_test_processes_collect_young_objects_less_often():
    import gc

    from young_gc import STOCK, TEST_THRESHOLDS

    assert STOCK[0] < TEST_THRESHOLDS[0]  # 700 on CPython 3.11 to 3.13
    assert gc.get_threshold() == TEST_THRESHOLDS  # installed by conftest
    assert gc.isenabled()


def test_memory_is_measured_under_the_stock_thresholds():
    import gc

    from young_gc import STOCK, TEST_THRESHOLDS, stock_thresholds

    with stock_thresholds():
        assert gc.get_threshold() == STOCK
    assert gc.get_threshold() == TEST_THRESHOLDS


def test_the_heap_left_at_shutdown_is_frozen_after_one_collection():
    import gc

    from young_gc import settle_heap_for_shutdown

    assert gc.get_freeze_count() == 0
    try:
        settle_heap_for_shutdown()
        assert gc.get_freeze_count() > 0
        assert gc.get_count()[0] < 100  # just collected
    finally:
        gc.unfreeze()


# ---- headless apps paint what a test looks at (tests/headless_paint.py) ----
class Counter(Widget):
    """A widget that counts its paints, and can be told it cannot paint."""

    DEFAULT_CSS = "Counter { height: 1; }"
    can_focus = True
    BINDINGS = [("n", "next", "Next")]

    def __init__(self) -> None:
        super().__init__()
        self.value = 0
        self.paints = 0
        self.broken = False

    def action_next(self) -> None:
        self.value += 1
        self.refresh()

    def render_line(self, y: int) -> Strip:
        if self.broken:
            raise ZeroDivisionError("cannot paint this state")
        self.paints += 1
        return Strip.blank(self.size.width)


class CounterApp(App):
    def compose(self) -> ComposeResult:
        yield Counter()


async def _paints_while_pressing(app) -> tuple[int, int]:
    """(paints while three keys were pressed, paints once the app had shut down)."""
    async with app.run_test(size=(20, 3)) as pilot:
        counter = app.query_one(Counter)
        before = counter.paints
        await pilot.press("n", "n", "n")
        await pilot.pause()
        assert counter.value == 3
        during = counter.paints - before
    return during, counter.paints - before - during


async def test_a_headless_app_paints_its_last_screen_only():
    import os

    from headless_paint import (
        EVERY_FRAME,
        EVERY_FRAME_VARIABLE,
        every_frame_painted,
        painting_every_frame,
    )

    with painting_every_frame(False):
        during, at_shutdown = await _paints_while_pressing(CounterApp())
    assert (during, at_shutdown) == (0, 1)
    # the suite's default, unless the variable asks for every frame
    assert every_frame_painted() == (os.environ.get(EVERY_FRAME_VARIABLE) == EVERY_FRAME)


async def test_painting_every_frame_paints_a_frame_per_key():
    """Each key's change is painted by a frame of its own once the app gets to one.

    Only waiting for it is sure: two keys pressed in a row may share a frame, since
    Textual paints at most once per frame interval (a loaded machine ran three keys in
    two frames)."""
    from headless_paint import painting_every_frame

    with painting_every_frame():
        app = CounterApp()
        async with app.run_test(size=(20, 3)) as pilot:
            counter = app.query_one(Counter)
            for key in range(1, 4):
                before = counter.paints
                await pilot.press("n")
                for _ in range(100):  # up to 5 s
                    if counter.paints > before:
                        break
                    await pilot.pause(0.05)
                assert counter.paints > before, f"key {key} was never painted"
            painted = counter.paints
    assert counter.value == 3
    assert counter.paints == painted  # nothing left to paint at shutdown


@pytest.mark.parametrize("every_frame", [False, True])
async def test_a_state_the_app_cannot_paint_still_fails_the_test(every_frame):
    from headless_paint import painting_every_frame

    app = CounterApp()
    with (
        painting_every_frame(every_frame),
        pytest.raises(ZeroDivisionError, match="cannot paint this state"),
    ):
        async with app.run_test(size=(20, 3)) as pilot:
            await pilot.press("n")
            assert app.query_one(Counter).value == 1
            app.query_one(Counter).broken = True  # and the next key asks for a paint
            await pilot.press("n")


def test_the_monkey_walks_and_ci_paint_every_frame():
    import test_tui_monkey
    from headless_paint import EVERY_FRAME, EVERY_FRAME_VARIABLE, MARKER

    marks = {mark.name for mark in test_tui_monkey.test_random_keys.pytestmark}
    assert MARKER in marks
    ci_run = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert f"{EVERY_FRAME_VARIABLE}={EVERY_FRAME}" in ci_run


@pytest.mark.paints_every_frame
def test_the_marker_paints_every_frame_in_its_test():
    from headless_paint import every_frame_painted

    assert every_frame_painted()
