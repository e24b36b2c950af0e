"""SSH keys of one account (for ``finance-tui serve ssh``): list, add by pasting the
public key line, remove the selected one.

Opened from the Account screen for your own keys and from the Users screen (admins) for
the selected user's. The key service decides who may manage whose keys; this dialog
only shows its answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, Static

from finance_tui.domain.dto import SshKeyRow
from finance_tui.errors import FinanceError, ValidationError
from screens.base import SHARED_STYLES, FinanceModal
from screens.widgets import ConfirmModal, TextInput, fmt_dt, literal

if TYPE_CHECKING:
    from finance_tui.session import SessionController

HINT = "Enter adds the pasted key · Tab to the list, Delete removes the selected key · Esc closes"


class SshKeysDialog(FinanceModal[None]):
    """The keys of ``who`` (None: your own)."""

    CSS_PATH = [*SHARED_STYLES, "../styles/ssh_keys.tcss"]
    BINDINGS = [
        Binding("escape", "close", "Close", id="ssh-keys.close"),
        Binding("delete", "remove", "Remove key", id="ssh-keys.remove"),
    ]

    def __init__(self, session: SessionController, who: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.who = who
        self.rows: list[SshKeyRow] = []

    def compose(self) -> ComposeResult:
        owner = self.who or "you"
        with Vertical(id="keys-dialog"):
            yield Label(literal(f"SSH keys of {owner}"), id="keys-title")
            yield DataTable(id="keys-table", cursor_type="row", zebra_stripes=True)
            yield TextInput(
                placeholder="Paste a public key line: ssh-ed25519 AAAA… you@host",
                id="keys-input",
            )
            yield Static("", id="keys-error")
            yield Static(HINT, id="keys-hint")

    def on_mount(self) -> None:
        table = self.query_one("#keys-table", DataTable)
        table.add_columns("Fingerprint", "Type", "Comment", "Added")
        self.query_one("#keys-input", Input).focus()
        self.reload()

    def reload(self) -> None:
        self.call_db(lambda: self.session.ssh_keys.list(self.who), self._show)

    def _show(self, rows: list[SshKeyRow]) -> None:
        self.rows = rows
        table = self.query_one("#keys-table", DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                row.fingerprint,
                row.algorithm,
                literal(row.comment),
                fmt_dt(row.created_at),
                key=row.fingerprint,
            )
        if not rows:
            table.add_row("(no keys yet)", "", "", "")

    def _error(self, exc: FinanceError) -> bool:
        text = "; ".join(exc.fields.values()) if isinstance(exc, ValidationError) else str(exc)
        self.query_one("#keys-error", Static).update(literal(text))
        return True

    @on(Input.Submitted, "#keys-input")
    def add(self, event: Input.Submitted) -> None:
        text = event.value
        self.query_one("#keys-error", Static).update("")

        def added(row: SshKeyRow) -> None:
            self.query_one("#keys-input", Input).value = ""
            self.reload()

        self.call_db(
            lambda: self.session.ssh_keys.add(text, self.who),
            added,
            on_error=self._error,
            success=lambda row: f"Added SSH key {row.fingerprint}",
        )

    def selected(self) -> SshKeyRow | None:
        table = self.query_one("#keys-table", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_remove(self) -> None:
        row = self.selected()
        if row is None:
            return

        def apply(confirmed: bool | None) -> None:
            if confirmed:
                self.call_db(
                    lambda: self.session.ssh_keys.remove(row.fingerprint, self.who),
                    lambda _: self.reload(),
                    on_error=self._error,
                    success=f"Removed SSH key {row.fingerprint}",
                )

        message = f"Remove the SSH key {row.fingerprint} ({row.comment or row.algorithm})?"
        self.app.push_screen(ConfirmModal(message, yes="Remove"), apply)

    def action_close(self) -> None:
        self.dismiss(None)
