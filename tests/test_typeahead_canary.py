"""Canaries for the typeahead gate (``finance_tui/shell/typeahead.py``).

They run a bare Textual app, none of ours, so they show stock Textual's behaviour: a key
that opens a screen, followed at once by text for that screen (one burst, as a terminal
delivers typed-ahead keys), loses the text. If a Textual upgrade makes
``test_stock_textual_misroutes_a_burst`` fail, Textual routes bursts by itself and the
gate can go (see the module's docstring). The gate's private read has a canary too.
"""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import Input, Static

from finance_tui.shell.typeahead import TypeaheadGate

BURST = "nhello"  # "n" opens the form; "hello" is meant for its box


class Form(Screen):
    def compose(self) -> ComposeResult:
        yield Input(id="box")


class Bare(App):
    """Stock Textual: ``n`` pushes a screen whose input takes focus."""

    BINDINGS = [("n", "open", "Open")]

    def compose(self) -> ComposeResult:
        yield Static("home")

    def action_open(self) -> None:
        self.push_screen(Form())


class Gated(Bare):
    """The same app with the gate installed the way ``FinanceApp.on_event`` does."""

    def on_mount(self) -> None:
        self.gate = TypeaheadGate(self)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self.gate.hold(event):
            return
        await super().on_event(event)


async def typed_in_one_burst(app: Bare) -> str:
    """Send :data:`BURST` to the driver in one go; what the form's box received."""
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for character in BURST:
            event = events.Key(character, character)
            event.set_sender(app)
            app._driver.send_message(event)
        for _ in range(50):
            await pilot.pause(0.01)
        assert isinstance(app.screen, Form), "the first key of the burst opened the form"
        return app.screen.query_one("#box", Input).value


async def test_stock_textual_misroutes_a_burst():
    """The problem the gate exists for. When this fails, Textual fixed it: remove the gate."""
    assert await typed_in_one_burst(Bare()) != BURST[1:]


async def test_the_gate_delivers_the_burst_in_order():
    assert await typed_in_one_burst(Gated()) == BURST[1:]


def test_the_private_attribute_the_gate_reads_still_exists():
    """The gate reads ``MessagePump._pending_message``; a rename would blind it."""
    pump = MessagePump()
    assert hasattr(pump, "_pending_message")
    assert pump._pending_message is None
