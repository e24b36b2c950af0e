"""A screen is laid out once when it opens, not twice at the same size.

Textual's first layout of a screen lists the screen itself among the widgets it has
just shown, and posts it a Resize to the size it was laid out at. ``Screen._on_resize``
then lays the whole screen out again and repaints every region of it. In three paired
runs (medians of 7 starts, 120x36), starting the app on the dashboard and waiting for
its figures took 374, 411 and 396 ms of CPU with that second layout and 383, 372 and
322 ms without it; switching to the records screen 138, 168 and 133 ms, and 122, 124
and 115 ms.

A Resize to the size the top screen is already laid out at lays nothing out here (a
layout already asked for still runs, on the screen's next update); the rest of the
Resize (breakpoint classes) runs as before. A screen under a dialog is laid out as
Textual does it: the dialog's Resize is what repaints it under the dialog's first
frame, and any other Resize (a new size) goes on too.
``tests/test_widget_overrides.py`` shows the stock screen laid out twice: when Textual
stops doing that, the test says so and this module can go.
"""

from __future__ import annotations

from typing import TypeVar

from textual.geometry import Size
from textual.screen import Screen

ResultT = TypeVar("ResultT")


class SingleLayoutScreen(Screen[ResultT]):
    """Skips the Resize a screen's own first layout sends it (see the module). The
    app's full screens derive from it (``screens.base.FinanceScreen``)."""

    def _screen_resized(self, size: Size) -> None:
        if self.app.screen is self and size == self._compositor.size:
            return  # Textual would lay out the same screen at the same size again
        super()._screen_resized(size)
