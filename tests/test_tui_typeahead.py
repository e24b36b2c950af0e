"""Keys that arrive together — typed ahead over a slow SSH link, a password manager's
auto-type, a pasted key sequence — each take effect before the next is handed on.

The test pilot waits after every key, which hides the problem; here the keys are sent
to the driver in one go, as a terminal delivers a burst, with the app's typeahead gate
on (as it is in a real terminal). Without the gate Textual hands each key to whatever
had focus when the key was read: the first test's password lands in the username field,
the second's keys miss the form ``n`` opens.
"""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from test_tui_support import SIZE, assert_only_the_documented_expense, make_app, settle
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input

from finance_tui.shell.typeahead import TypeaheadGate
from screens.dashboard import DashboardScreen
from screens.records import RecordsScreen

NAMED = {"tab": "\t", "enter": "\r"}


def burst(app, *keys: str) -> None:
    """Send ``keys`` (named keys, or text typed character by character) all at once."""
    for key in keys:
        typed = [(key, NAMED[key])] if key in NAMED else [(c, c) for c in key]
        for name, character in typed:
            if len(name) == 1 and not name.isalnum():
                name = _character_to_key(name)
            event = events.Key(name, character)
            event.set_sender(app)
            app._driver.send_message(event)


async def typed_out(pilot) -> None:
    """Wait until the gate has handed on every key and the app is idle again."""
    for _ in range(200):
        await settle(pilot)
        if not pilot.app.typing_ahead:
            break
    await settle(pilot)
    assert not pilot.app.typing_ahead


@pytest.mark.parametrize("gate", [True, False])
async def test_auto_typed_login_fills_both_fields(admin, tmp_path, gate):
    """With the gate (as in a terminal) the login succeeds; without it — Textual 8.2
    alone — the password lands in the username field, which is why the gate exists."""
    app = make_app(tmp_path, typeahead=gate)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "root", "tab", PASSWORD, "enter")
        await typed_out(pilot)
        if gate:
            assert isinstance(app.screen, DashboardScreen)
            assert app.session is not None and app.session.principal.username == "root"
        else:
            assert app.session is None
            typed = app.screen.query_one("#login-identifier", Input).value
            assert typed.startswith("root") and typed != "root"


async def test_documented_keystrokes_typed_ahead_create_the_record(admin, tmp_path):
    app = make_app(tmp_path, admin, typeahead=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "2", "n", "e", "enter", "12.50", "enter", "fo", "enter", "enter")
        burst(app, "lunch", "enter")
        await typed_out(pilot)
        assert isinstance(app.screen, RecordsScreen)
    assert_only_the_documented_expense()


async def test_a_broken_gate_lets_every_key_through(admin, tmp_path, monkeypatch):
    """If waiting itself fails (a Textual change), held keys go on in order, none lost."""

    async def broken(self) -> None:
        raise RuntimeError("internals changed")

    monkeypatch.setattr(TypeaheadGate, "_settle", broken)
    app = make_app(tmp_path, typeahead=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "root@example.com")
        await typed_out(pilot)
        assert app.screen.query_one("#login-identifier", Input).value == "root@example.com"
