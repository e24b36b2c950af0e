"""A full screen is styled and laid out once when it opens, not twice.

Styled once. Textual styles a screen's widgets as they are mounted, then again when
the screen is first shown (``ScreenResume`` with ``refresh_styles``), though nothing
changed in between. The screen's first ``ScreenResume`` here does not restyle it;
later ones (the screen shown again after another, a theme changed meanwhile) do, as in
Textual. Textual itself resumes a screen without restyling it when a screen above it
closes. In one process, alternating 6 starts with and 6 without, starting on the
dashboard took 433 and 436 ms of CPU (medians, two runs) with the second styling,
353 and 369 ms without it; the switch to the records screen 136 and 136 ms, and 123
and 119 ms.

Laid out once. Textual's first layout of a screen lists the screen itself among the widgets it has
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

``tests/test_widget_overrides.py`` shows the stock screen styled and laid out twice:
when Textual stops doing either, the test says so and that part of this module can go.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.geometry import Size
from textual.screen import Screen

ResultT = TypeVar("ResultT")


class OpenOnceScreen(Screen[ResultT]):
    """Skips the restyle of the first ScreenResume and the layout of the Resize a
    screen's own first layout sends it (see the module). The app's full screens derive
    from it (``screens.base.FinanceScreen``)."""

    _shown_once = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._shown_once:
            self._shown_once = True
            event.refresh_styles = False  # styled as its widgets were mounted

    def _screen_resized(self, size: Size) -> None:
        if self.app.screen is self and size == self._compositor.size:
            return  # Textual would lay out the same screen at the same size again
        super()._screen_resized(size)
