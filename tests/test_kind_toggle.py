"""The record form's income/expense switch keeps Textual's own actions working."""

from __future__ import annotations

from textual.app import App, ComposeResult

from screens.record_form import KindToggle


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
