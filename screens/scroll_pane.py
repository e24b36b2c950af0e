"""A scrolling pane whose focus restyles the pane, not everything inside it.

Textual restyles a widget that gains or loses focus together with all of its
descendants (``Widget.watch_has_focus`` → ``App.update_styles``), because a rule such as
``VerticalScroll:focus Label`` could style them. The dashboard's body holds about 40
widgets with some 70 component classes (a DataTable alone has 16), each styled as a node
of its own: leaving the dashboard and coming back restyled all of them twice, about
14 ms of CPU each time on a 2-core machine. No style sheet of the app, nor the default
CSS of any widget it uses, selects a widget by the focus of a pane around it, so a
:class:`ScrollPane` restyles only itself (its scrollbars and component classes come with
it). ``:focus-within`` is untouched: Textual's screen restyles it on its own path.

``tests/test_widget_overrides.py`` checks every loaded rule for a ``:focus`` that could
match a pane and style what is inside it, and shows the stock container restyling its
descendants: when Textual stops doing that, the test says so and this module can go.
"""

from __future__ import annotations

from textual.containers import VerticalScroll


class ScrollPane(VerticalScroll):
    """A ``VerticalScroll`` that restyles only itself when its focus changes."""

    def watch_has_focus(self, _has_focus: bool) -> None:
        self.app.stylesheet.update_nodes([self], animate=True)
