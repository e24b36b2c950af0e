"""Quick add: one line (``12.50 fo lunch``) becomes a record, shown as it is typed.

A small dialog docked at the bottom of the records screen, so the list stays in view
and the saved record appears in it. The line is read by the pure parser in
``finance_tui/domain/quick_add.py`` on every key, against the categories loaded when
the dialog opened; Enter saves through ``session.quick_add``, which reads it again and
saves with the record form's validation. After a save the line clears for the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from finance_tui.domain.dto import CategoryRow, RecordRow
from finance_tui.domain.quick_add import QuickAdd, QuickAddError, parse_quick_add
from finance_tui.errors import FinanceError, SessionExpired, ValidationError
from finance_tui.textsafety import visible
from screens.base import SHARED_STYLES, FinanceModal
from screens.footer import FitFooter
from screens.widgets import Palette, TextInput, literal

if TYPE_CHECKING:
    from finance_tui.session import SessionController

GRAMMAR = "AMOUNT CATEGORY [NOTES] [DATE]"
HINT = "e.g. 12.50 fo lunch · last word may be today, yesterday, -3 or 2026-11-25"


def when_text(day: date, today: date) -> str:
    """How far ``day`` is from today, in words: the date ``-3`` stands for is checkable."""
    days = (today - day).days
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days > 1:
        return f"{days} days ago"
    return "tomorrow" if days == -1 else f"in {-days} days"


def preview_text(entry: QuickAdd, today: date) -> Text:
    """The record a line stands for, every part named in words (not by colour alone)."""
    text = Text("→ ")
    text.append(entry.kind, style=f"bold {Palette.of(entry.kind)}")
    text.append(f" {entry.amount:,.2f}", style="bold")
    text.append(" · category ")
    text.append(visible(entry.category), style="bold")
    text.append(f" · {entry.date.isoformat()} ({when_text(entry.date, today)})")
    text.append("\n  notes: ")
    if entry.notes:
        text.append_text(literal(entry.notes))
    else:
        text.append("(none)", style=Palette.muted)
    return text


def error_text(exc: ValidationError) -> Text:
    """A refused line: marked with ✗ and the field, so it reads without colour too."""
    message = "; ".join(f"{field}: {text}" for field, text in exc.fields.items())
    return Text("✗ ", style="bold").append_text(literal(message))


class QuickAddModal(FinanceModal[None]):
    """The quick-add line. ``on_saved(row)`` runs after each save (the list reloads)."""

    TITLE = "Quick add"
    CSS_PATH = [*SHARED_STYLES, "../styles/quick_add.tcss"]
    HELP = (
        "Type AMOUNT CATEGORY [NOTES] [DATE], e.g. 12.50 fo lunch, and Enter saves it. "
        "The amount comes first (1,234.50 works; a leading + marks income for a category "
        "of both kinds, which is otherwise an expense). The category is a prefix of its "
        "name and decides income or expense. The rest is the notes, except a last word "
        "today, yesterday, -N (N days ago) or YYYY-MM-DD, which is always the date "
        "(default today): to end the notes with such a word, add a date after it. "
        "What the line means shows below it as you type; after a save the line clears "
        "for the next record. Escape closes."
    )
    BINDINGS = [
        Binding("escape", "close", "Close", id="quick-add.close"),
        Binding("f1", "app.help", "Help", id="quick-add.help"),
    ]

    def __init__(
        self,
        session: SessionController,
        *,
        on_saved: Callable[[RecordRow], None] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.on_saved = on_saved
        self.categories: list[CategoryRow] | None = None  # None until loaded
        self.busy = False
        self.saved_count = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="quick-add-dialog"):
            yield Label(Text(f"Quick add — {GRAMMAR}"), id="quick-add-title")
            yield TextInput(placeholder=HINT, id="quick-add-line", select_on_focus=False)
            yield Static("", id="quick-add-preview")
            yield Static("", id="quick-add-saved")
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#quick-add-line", Input).focus()
        self._render_preview()
        session = self.session
        self.call_db(lambda: session.categories.list(), self._loaded, group="quick-add-categories")

    def _loaded(self, categories: list[CategoryRow]) -> None:
        self.categories = categories
        self._render_preview()

    @property
    def today(self) -> date:
        return self.shell.clock.today()

    @property
    def line(self) -> str:
        return self.query_one("#quick-add-line", Input).value

    # ---- the live preview ---------------------------------------------------------
    def interpret(self) -> QuickAdd | QuickAddError | None:
        """What the line means now; None while there is nothing to read it against."""
        if self.categories is None or not self.line.strip():
            return None
        try:
            return parse_quick_add(self.line, self.categories, self.today)
        except QuickAddError as exc:
            return exc

    @on(Input.Changed, "#quick-add-line")
    def _changed(self) -> None:
        self._render_preview()

    def _render_preview(self) -> None:
        found = self.interpret()
        if isinstance(found, QuickAdd):
            shown = preview_text(found, self.today)
        elif isinstance(found, QuickAddError):
            shown = error_text(found)
        elif self.categories is None:
            shown = Text("loading categories…", style=Palette.muted)
        else:
            shown = Text(f"Type {GRAMMAR}; Enter saves, Escape closes", style=Palette.muted)
        self._show(shown)

    def _show(self, shown: Text) -> None:
        preview = self.query_one("#quick-add-preview", Static)
        preview.update(shown, layout=False)  # two lines high (quick_add.tcss)
        preview.set_class(shown.plain.startswith("✗"), "-error")

    # ---- saving --------------------------------------------------------------------
    @on(Input.Submitted, "#quick-add-line")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.save()

    def save(self) -> None:
        """Save the line (the core reads and validates it again); an error keeps it."""
        found = self.interpret()
        if self.busy or isinstance(found, QuickAddError):
            return
        line, today, session = self.line, self.today, self.session
        self.busy = True
        self.call_db(
            lambda: session.quick_add(line, today=today),
            lambda row: self._saved(line, row),
            on_error=self._failed,
            group="quick-add-save",
        )

    def _saved(self, line: str, row: RecordRow) -> None:
        self.busy = False
        self.saved_count += 1
        box = self.query_one("#quick-add-line", Input)
        box.value = box.value.removeprefix(line).lstrip()  # keep what was typed meanwhile
        notes = f" — {row.notes}" if row.notes else ""
        self.query_one("#quick-add-saved", Static).update(
            literal(
                f"✓ saved ({self.saved_count}): {row.date} {row.kind} {row.amount:,.2f} "
                f"{row.category}{notes}"
            )
        )
        if self.on_saved is not None:
            self.on_saved(row)

    def _failed(self, exc: FinanceError) -> bool:
        self.busy = False
        if isinstance(exc, SessionExpired):
            return False  # the app returns to the login screen
        if isinstance(exc, ValidationError):
            self._show(error_text(exc))
        else:
            self._show(error_text(ValidationError({"error": str(exc)})))
        return True

    def action_close(self) -> None:
        self.dismiss(None)
