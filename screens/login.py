"""Login: username-or-email and a masked password; the bcrypt check runs in a worker.

On success it posts :class:`LoginScreen.LoggedIn` to the app (a message rather than a
dismiss callback: the screen that pushed the login may be gone after a logout).
Escape clears the form; Ctrl+Q quits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, LoadingIndicator, Static

from finance_tui.errors import DatabaseUnavailable, FinanceError
from screens.base import FinanceScreen
from screens.footer import FitFooter
from screens.widgets import TextInput, literal

if TYPE_CHECKING:
    from finance_tui.session import SessionController


def _login(identifier: str, password: str) -> SessionController:
    """Runs in a worker. The session layer (JWT, models) is imported here, not before
    the first paint: the login screen is up ~60 ms sooner."""
    from finance_tui.session import SessionController

    return SessionController.login(identifier, password)


class LoginScreen(FinanceScreen["SessionController | None"]):
    """The first screen: who are you, and which database is this."""

    # Its sheet is in the app's CSS_PATH, parsed once before the first frame: a sheet
    # of its own would make Textual parse every sheet again when it is pushed.
    CSS_PATH = None

    BINDINGS = [Binding("escape", "clear", "Clear", id="login.clear")]

    class LoggedIn(Message):
        """Credentials accepted; the app routes to the first screen of the role."""

        def __init__(self, session: SessionController) -> None:
            super().__init__()
            self.session = session

    AUTO_FOCUS = "#login-identifier"

    def __init__(self, database: str, *, message: str = "") -> None:
        super().__init__()
        self.database = database
        self.message = message
        self.busy = False

    def compose(self) -> ComposeResult:
        with Center(id="login-center"), Vertical(id="login-box"):
            yield Label("finance-tui", id="login-title")
            yield Static(literal(f"Database: {self.database}"), id="login-database")
            yield Label("Username or email", classes="login-label")
            yield TextInput(placeholder="e.g. Demo_admin", id="login-identifier")
            yield Label("Password", classes="login-label")
            yield TextInput(password=True, id="login-password")
            yield Static(literal(self.message), id="login-error")
            yield Button("Log in", variant="primary", id="login-submit")

    def on_mount(self) -> None:
        # The footer (its keys laid out, measured, recomposed) comes just after the
        # first frame: the form is what a person starts typing into.
        self.call_after_refresh(self._add_footer)
        if not self.message:
            self.query_one("#login-error").display = False

    async def _add_footer(self) -> None:
        if not self.is_attached:
            return  # the app is quitting already (a database that cannot open)
        await self.mount(FitFooter())
        self.refresh_bindings()  # a footer that missed the first binding update

    def show_error(self, message: str) -> None:
        for error in self.query("#login-error").results(Static):  # absent until composed
            error.update(literal(message))
            error.display = bool(message)

    @on(Input.Submitted, "#login-identifier")
    def _next(self) -> None:
        self.query_one("#login-password", Input).focus()

    @on(Input.Submitted, "#login-password")
    @on(Button.Pressed, "#login-submit")
    def submit(self) -> None:
        if self.busy:
            return
        identifier = self.query_one("#login-identifier", Input).value.strip()
        password_input = self.query_one("#login-password", Input)
        password = password_input.value
        if not identifier:
            self.show_error("Enter your username or email")
            self.query_one("#login-identifier", Input).focus()
            return
        if not password:
            self.show_error("Enter your password")
            password_input.focus()
            return
        self.busy = True
        self.show_error("")
        # Mounted only while checking: not styled, laid out or animated before the first
        # frame, and no timer ticking under a login screen left open.
        busy = LoadingIndicator(id="login-busy")
        self.query_one("#login-box").mount(busy, before="#login-submit")
        self.query_one("#login-submit", Button).disabled = True

        def failed(exc: FinanceError) -> bool:
            self._idle()
            self.show_error(str(exc))  # the lock wording is the core's, same for any name
            if not isinstance(exc, DatabaseUnavailable):  # a database hiccup: retry as typed
                password_input.value = ""
            password_input.focus()
            return True

        def done(session: SessionController) -> None:
            self._idle()
            self.app.post_message(self.LoggedIn(session))

        self.call_db(
            lambda: _login(identifier, password),
            done,
            on_error=failed,
            group="login",
            exclusive=True,
        )

    def _idle(self) -> None:
        self.busy = False
        self.query("#login-busy").remove()
        self.query_one("#login-submit", Button).disabled = False

    def action_clear(self) -> None:
        if self.busy:
            return
        for box in self.query(Input):
            box.value = ""
        self.show_error("")
        for box in self.query("#login-identifier").results(Input):
            box.focus()
