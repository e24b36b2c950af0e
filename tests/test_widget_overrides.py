"""Widgets that override a Textual action or watcher keep the stock behaviour working."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Checkbox

from screens.record_form import KindToggle
from screens.widgets import TickBox


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield KindToggle()


async def test_space_toggles_the_kind() -> None:
    app = _Host()
    async with app.run_test() as pilot:
        toggle = app.query_one(KindToggle)
        toggle.focus()
        await pilot.press("space")
        assert toggle.value == "income"
        await pilot.press("right")
        assert toggle.value == "expense"


async def test_textuals_toggle_action_still_flips_an_attribute() -> None:
    """``toggle('attr')`` is Textual's action on every widget; KindToggle used to replace
    it with a no-argument method, so the action raised a TypeError on this widget."""
    app = _Host()
    async with app.run_test() as pilot:
        toggle = app.query_one(KindToggle)
        await toggle.run_action("toggle('disabled')")
        await pilot.pause()
        assert toggle.disabled is True
        assert toggle.value == "expense"


class _Boxes(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[bool] = []

    def compose(self) -> ComposeResult:
        yield TickBox("Dry run", id="box")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.changes.append(event.value)


async def test_tickbox_reports_changes_and_marks_its_state() -> None:
    """TickBox replaced Checkbox's value watcher, which posts Changed and sets ``-on``:
    nobody heard a tick and the ticked style never applied."""
    app = _Boxes()
    async with app.run_test() as pilot:
        box = app.query_one(TickBox)
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert box.value is True
        assert box.BUTTON_INNER == "✓"
        assert box.has_class("-on")
        assert app.changes == [True]
        await pilot.press("space")
        await pilot.pause()
        assert (box.BUTTON_INNER, box.has_class("-on"), app.changes) == (" ", False, [True, False])
