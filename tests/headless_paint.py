"""Headless test apps paint what a test looks at, not every frame.

A pilot app runs on Textual's headless driver, which throws every frame away: the app
still composes each one, calling every dirty widget's ``render_line`` and cutting the
screen into strips, and the driver writes none of it. That painting was 38% of the CPU of
``tests/test_tui_records.py`` with ``tests/test_tui_quick_add.py`` (53.3 s → 33.0 s in
one process) and the whole suite went from 300 s to 254 s (532 s → 444 s of CPU, back to
back, three workers).

What a test looks at is still painted, by the real code, when it looks: snapshots
(``export_screenshot``), the contrast tests (``render_strips``), a widget's
``render_line``/``render_lines``/``render``. Each app's last screen is painted in full as
it shuts down, so a widget that cannot paint the state a test left it in still fails that
test. Two kinds of run paint every frame, as a terminal would:

- tests marked ``paints_every_frame``: the monkey walks, whose job is to find any state
  the app cannot handle, painting included;
- every test when ``FINANCE_TUI_TEST_PAINT=every-frame`` is set, as CI's PostgreSQL pass
  does: each pilot test there runs once more on SQLite with every frame painted.

Apps that are not headless (the SSH, web and terminal tests start real processes) paint
as always.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from textual.app import App
from textual.screen import Screen

EVERY_FRAME_VARIABLE = "FINANCE_TUI_TEST_PAINT"
EVERY_FRAME = "every-frame"
MARKER = "paints_every_frame"

_paint_frame = Screen._compositor_refresh
_shutdown = App._shutdown
_every_frame = [os.environ.get(EVERY_FRAME_VARIABLE) == EVERY_FRAME]


def every_frame_painted() -> bool:
    return _every_frame[0]


@contextmanager
def painting_every_frame(every: bool = True) -> Iterator[None]:
    """Paint every frame of the headless apps started in the body (or, with ``every``
    false, only what is looked at, whatever the variable says)."""
    before = _every_frame[0]
    _every_frame[0] = every
    try:
        yield
    finally:
        _every_frame[0] = before


def _paint_frame_when_shown(self: Screen) -> None:
    app = self.app
    if _every_frame[0] or not app.is_headless or app.is_inline or self is not app.screen:
        _paint_frame(self)
        return
    # What painting the frame would have done besides painting: the regions and widgets
    # waiting for it are done with, and the widget under the mouse is looked up again.
    self._compositor._dirty_regions.clear()
    self._dirty_widgets.clear()
    app._update_mouse_over(self)


async def _paint_last_screen_then_shut_down(self: App) -> None:
    if self.is_headless and self._running and not self._closed and not _every_frame[0]:
        try:
            self.screen._compositor.render_update(full=True, screen_stack=self._background_screens)
        except Exception as error:  # run_test raises it in the test, as a frame would
            self._handle_exception(error)
    await _shutdown(self)


def paint_only_what_is_looked_at() -> None:
    """Install the lazy painting for the headless apps of this process (idempotent)."""
    Screen._compositor_refresh = _paint_frame_when_shown  # type: ignore[method-assign]
    App._shutdown = _paint_last_screen_then_shut_down  # type: ignore[method-assign]
