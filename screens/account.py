"""Account (everyone): change your own password, log out; and the idle ``LockScreen``.

Contract with the app shell: ``LockScreen(session)`` is pushed after the idle time and
dismisses with ``True`` once ``session.unlock(password)`` succeeds, or ``False`` when
the user chooses to log out. Logging out from either screen goes through the shell's
``logout()``, which revokes the token and shows the login screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from finance_tui.errors import (
    AccountLocked,
    DatabaseUnavailable,
    FinanceError,
    SessionExpired,
    ValidationError,
)
from finance_tui.permissions import Permission
from screens.base import SHARED_STYLES, FinanceModal, FinanceScreen
from screens.footer import FitFooter
from screens.widgets import FormRow, NavBar, ScreenTitle, TextInput, literal

if TYPE_CHECKING:
    from finance_tui.session import SessionController

PASSWORD_FIELDS = ("old_password", "new_password", "confirm")


class AccountScreen(FinanceScreen):
    """Your account: who you are, change your password, log out."""

    TITLE = "Account"
    CSS_PATH = [*SHARED_STYLES, "../styles/account.tcss"]
    AUTO_FOCUS = ""  # digits stay the app's navigation keys until Tab enters the form
    BINDINGS = [
        Binding("ctrl+s", "change_password", "Change password", id="account.change-password"),
        Binding("ctrl+o", "log_out", "Log out", id="account.log-out"),
        Binding("ctrl+k", "ssh_keys", "SSH keys", id="account.ssh-keys"),
        Binding("escape", "leave_form", "Leave form", show=False, id="account.leave-form"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.busy = False

    def action_ssh_keys(self) -> None:
        """Your SSH keys, for logging in over ``finance-tui serve ssh``."""
        from screens.ssh_keys import SshKeysDialog

        self.app.push_screen(SshKeysDialog(self.session))

    def action_leave_form(self) -> None:
        """Escape takes focus out of the form, so digit keys navigate again."""
        self.set_focus(None)

    def compose(self) -> ComposeResult:
        principal = self.session.principal
        yield ScreenTitle(self.TITLE)
        yield NavBar("account")
        with Vertical(id="account-box"):
            yield Static(
                literal(
                    f"Signed in as {principal.username} · {principal.email} · role {principal.role}"
                ),
                id="account-info",
            )
            yield Label("Change your password", id="account-form-title")
            yield FormRow(
                "Current", TextInput(password=True, id="field-old_password"), name="old_password"
            )
            yield FormRow(
                "New", TextInput(password=True, id="field-new_password"), name="new_password"
            )
            yield FormRow("Confirm", TextInput(password=True, id="field-confirm"), name="confirm")
            yield Static(
                "At least 8 characters. Your other sessions are signed out when it changes.",
                id="account-hint",
            )
            with Horizontal(id="account-buttons"):
                yield Button("Change password", variant="primary", id="account-change")
                yield Button("Log out", variant="error", id="account-logout")
        yield FitFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "change_password":
            return self.session.can(Permission.CHANGE_OWN_PASSWORD)
        return True

    def error_of(self, name: str) -> str:
        return self.query_one(f"#row-{name}", FormRow).error

    def _show_errors(self, errors: dict[str, str]) -> None:
        for name in PASSWORD_FIELDS:
            self.query_one(f"#row-{name}", FormRow).set_error(errors.get(name, ""))
        first = next((n for n in PASSWORD_FIELDS if n in errors), None)
        if first:
            self.query_one(f"#field-{first}", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        ids = [f"field-{name}" for name in PASSWORD_FIELDS]
        position = ids.index(event.input.id) if event.input.id in ids else len(ids) - 1
        if position < len(ids) - 1:
            self.query_one(f"#{ids[position + 1]}", Input).focus()
        else:
            self.action_change_password()

    @on(Button.Pressed, "#account-change")
    def _pressed_change(self) -> None:
        self.action_change_password()

    @on(Button.Pressed, "#account-logout")
    def _pressed_logout(self) -> None:
        self.action_log_out()

    def action_change_password(self) -> None:
        if self.busy:
            return
        old, new, confirm = (
            self.query_one(f"#field-{name}", Input).value for name in PASSWORD_FIELDS
        )
        errors: dict[str, str] = {}
        if not old:
            errors["old_password"] = "is required"
        if not new:
            errors["new_password"] = "is required"
        elif new != confirm:
            errors["confirm"] = "does not match the new password"
        self._show_errors(errors)
        if errors:
            return
        self.busy = True
        users = self.session.users

        def done(_: object) -> None:
            self.busy = False
            for name in PASSWORD_FIELDS:
                self.query_one(f"#field-{name}", Input).value = ""
            self.query_one("#field-old_password", Input).focus()
            self.notify("Password changed; your other sessions were signed out")

        def failed(exc: FinanceError) -> bool:
            self.busy = False
            if isinstance(exc, ValidationError):
                self._show_errors(exc.fields)
                return True
            return False

        self.call_db(
            lambda: users.change_own_password(old, new),
            done,
            on_error=failed,
            group="account",
        )

    def action_log_out(self) -> None:
        self.shell.logout()


class LockScreen(FinanceModal[bool]):
    """Idle lock: covers everything until the password is given again."""

    CSS_PATH = [*SHARED_STYLES, "../styles/account.tcss"]
    BINDINGS = [
        Binding("ctrl+o", "log_out", "Log out", id="lock.log-out"),
        Binding(
            "escape", "ignore", show=False, id="lock.ignore"
        ),  # a lock is not dismissed by Escape
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.busy = False

    def compose(self) -> ComposeResult:
        principal = self.session.principal
        with Vertical(id="lock-box"):
            yield Label("Locked", id="lock-title")
            yield Static(
                literal(
                    f"{principal.username}, this session was locked after inactivity. "
                    "Enter your password to continue."
                ),
                id="lock-message",
            )
            yield TextInput(password=True, placeholder="password", id="lock-password")
            yield Static("", id="lock-error")
            with Horizontal(id="lock-buttons"):
                yield Button("Unlock", variant="primary", id="lock-unlock")
                yield Button("Log out", id="lock-logout")
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#lock-password", Input).focus()

    @property
    def error_text(self) -> str:
        """The message under the password ('' when none)."""
        return str(self.query_one("#lock-error", Static).content)

    def _set_error(self, message: str) -> None:
        self.query_one("#lock-error", Static).update(literal(message))

    def action_ignore(self) -> None:
        """Escape does nothing here."""

    @on(Input.Submitted, "#lock-password")
    @on(Button.Pressed, "#lock-unlock")
    def unlock(self) -> None:
        if self.busy:
            return
        box = self.query_one("#lock-password", Input)
        password = box.value
        if not password:
            self._set_error("Enter your password")
            return
        self.busy = True
        self._set_error("")

        def failed(exc: FinanceError) -> bool:
            self.busy = False
            if not isinstance(exc, DatabaseUnavailable):  # a database hiccup: retry as typed
                box.value = ""
            box.focus()
            if isinstance(exc, SessionExpired):
                return False  # the app shell takes the user back to login
            if isinstance(exc, AccountLocked):
                self._set_error(str(exc))
            else:
                self._set_error(str(exc) or "Invalid credentials")
            return True

        def done(_: object) -> None:
            self.busy = False
            self.dismiss(True)

        self.call_db(
            lambda: self.session.unlock(password),
            done,
            on_error=failed,
            group="unlock",
        )

    @on(Button.Pressed, "#lock-logout")
    def action_log_out(self) -> None:
        self.dismiss(False)
