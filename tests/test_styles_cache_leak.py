"""The fix for Textual keeping removed widgets' painted lines (``finance_tui/shell/
styles_cache_leak.py``), and the canary that shows stock Textual's behaviour: if a Textual
upgrade makes ``test_stock_textual_keeps_a_styles_cache_alive`` fail, Textual no longer
holds the caches and the fix can go."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator

import pytest
from test_tui_support import make_app, settle
from textual._styles_cache import StylesCache
from textual.color import Color

from finance_tui.shell.styles_cache_leak import STOCK_GET_INNER_OUTER, stop_styles_cache_leak
from screens.help import HelpScreen

COLOUR_PAIRS = [
    (Color(0, 0, 0), Color(0, 0, 0, 0.0)),
    (Color(18, 18, 18), Color(40, 90, 200)),
    (Color(255, 255, 255), Color(200, 30, 30, 0.5)),
]


@pytest.fixture
def stock_method() -> Iterator[Callable]:
    """Textual's own ``get_inner_outer``; its cache is emptied again afterwards."""
    yield STOCK_GET_INNER_OUTER
    STOCK_GET_INNER_OUTER.cache_clear()


def test_stock_textual_keeps_a_styles_cache_alive(stock_method):
    cache = StylesCache()
    alive = weakref.ref(cache)
    stock_method(cache, *COLOUR_PAIRS[1])
    del cache
    gc.collect()
    assert alive() is not None, "Textual no longer holds StylesCache objects: drop the fix"


def test_the_app_installs_the_fix_and_it_holds_no_styles_cache():
    installed = StylesCache.__dict__["get_inner_outer"]
    assert installed is not STOCK_GET_INNER_OUTER  # importing finance_tui.app installed it
    assert stop_styles_cache_leak() is True
    assert StylesCache.__dict__["get_inner_outer"] is installed  # a second call: no change
    cache = StylesCache()
    alive = weakref.ref(cache)
    cache.get_inner_outer(*COLOUR_PAIRS[1])
    del cache
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize(("base", "background"), COLOUR_PAIRS)
def test_the_fix_gives_the_styles_textual_gives(stock_method, base, background):
    expected = stock_method(StylesCache(), base, background)
    assert StylesCache().get_inner_outer(base, background) == expected


@pytest.mark.paints_every_frame  # the lines are kept by painting them
async def test_a_closed_dialog_leaves_none_of_its_painted_lines(sessions, tmp_path):
    app = make_app(tmp_path, sessions["viewer"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        painted = [
            weakref.ref(widget._styles_cache)
            for widget in app.screen.walk_children(with_self=True)
            if widget._styles_cache._cache
        ]
        assert len(painted) >= 3  # the dialog, its table, its footer at least
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
        gc.collect()
        assert [ref for ref in painted if ref() is not None] == []
