"""Help (``?`` / F1): every key binding active on the screen it was opened from.

Bindings an action check hides (e.g. admin keys for a viewer) are absent here too,
because the list comes from the screen's own ``active_bindings``.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, Static

from screens.base import FinanceModal
from screens.scroll_pane import ScrollPane

# Keys of built-in widgets (cursor movement inside inputs) are not worth listing.
_SKIP_ACTIONS = {"app.focus_next", "app.focus_previous", "focus_next", "focus_previous"}


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(key, description, binding id) for the bindings of ``screen``'s screen, widgets
    and app. The keys are those in effect (after the user's keymap); the id is what the
    keymap file names."""
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.action in _SKIP_ACTIONS:
            continue
        if _declared_by_textual(active.node, binding) and not binding.show:
            continue  # e.g. DataTable cursor keys: standard, not app-specific
        shown_key = binding.key_display or screen.app.get_key_display(binding)
        entry = (shown_key, binding.description)
        if entry in seen:
            continue
        seen.add(entry)
        rows.append((*entry, binding.id or ""))
        del key
    shown_keys = {key for key, _, _ in rows}
    for always in (("^p", "Command palette"), ("^q", "Quit")):
        if always[0] not in shown_keys:  # Textual's own palette binding may be listed
            rows.append((*always, ""))
    return rows


def _declared_by_textual(node: object, binding: Binding) -> bool:
    """Was this binding declared by a Textual built-in class (not by our code)?"""
    for cls in type(node).__mro__:
        declared = cls.__dict__.get("BINDINGS", ())
        for item in declared:
            if isinstance(item, Binding) and item.action == binding.action:
                keys = {k.strip() for k in item.key.split(",")}
                if binding.key in keys:
                    return cls.__module__.startswith("textual.")
    return False


class HelpScreen(FinanceModal[None]):
    """A scrollable list of keys; Escape, ``q``, ``?`` or F1 closes it."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.rows = binding_rows(screen)
        self.screen_title = getattr(screen, "TITLE", None) or type(screen).__name__
        self.extra = getattr(screen, "HELP", "") or ""

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        for key, description, binding_id in self.rows:
            table.add_row(Text(key), Text(description), Text(binding_id))
        with Vertical(id="help-dialog"):
            yield Label(f"Keys — {self.screen_title}", id="help-title")
            with ScrollPane(id="help-scroll"):
                yield Static(table, id="help-table")
                if self.extra:
                    yield Static(Text(self.extra), id="help-extra")

    def action_close(self) -> None:
        self.dismiss()
