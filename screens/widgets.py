"""Widgets and helpers every screen shares (records, dashboard, admin screens).

- :func:`literal` turns user-typed text into a Rich ``Text``: never parsed as markup,
  control characters made visible, so a note like ``[red]x`` shows exactly that.
- :func:`money_text` renders an amount right-aligned, expenses in the error colour
  with a minus sign, income in the success colour.
- :func:`record_cells` is the date/kind/category/amount/notes run of cells that every
  table of records (records screen, dashboard's recent records) starts with.
- :func:`run_in_thread` runs a core call in a thread worker and hands back the result
  or the user-facing :class:`FinanceError` on the UI thread (DB work never blocks).
- :class:`KpiCard`, :class:`ConfirmModal`, :class:`FormRow` (label + input + error line)
  and :class:`ScreenTitle` keep the screens consistent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Label, Static
from textual.worker import Worker

from finance_tui.errors import FinanceError, SessionExpired
from finance_tui.money import format_decimal

if TYPE_CHECKING:
    from finance_tui.dto import RecordRow

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
INCOME_STYLE = "green"
EXPENSE_STYLE = "red"


def literal(value: object, *, single_line: bool = True, style: str = "") -> Text:
    """User text as plain ``Text``: no markup, no terminal control sequences."""
    text = "" if value is None else str(value)
    if single_line:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
    return Text(text, style=style)


def money_text(amount: Decimal, kind: str | None = None, *, currency: str = "") -> Text:
    """Right-aligned amount; an expense shows as ``-1,234.50`` in red, income in green.

    With ``kind=None`` the sign of ``amount`` decides (used for net figures).
    """
    if kind is None:
        negative = amount < 0
        shown = format_decimal(amount)
    else:
        negative = kind == "expense"
        shown = ("-" if negative else "+") + format_decimal(abs(amount))
    if currency:
        shown = f"{shown} {currency}"
    style = EXPENSE_STYLE if negative else (INCOME_STYLE if amount or kind else "")
    return Text(shown, style=style, justify="right")


def kind_text(kind: str) -> Text:
    """``income`` / ``expense`` in their colours (the table shows both)."""
    return Text(kind, style=EXPENSE_STYLE if kind == "expense" else INCOME_STYLE)


def fmt_date(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def fmt_dt(moment: datetime | None) -> str:
    """Stored timestamps are naive UTC; show them to the minute with the zone."""
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def record_cells(row: RecordRow) -> list[Text | str]:
    """A record's date, kind, category, amount and notes, as every record table shows them."""
    return [
        fmt_date(row.date),
        kind_text(row.kind),
        literal(row.category),
        money_text(row.amount, row.kind),
        literal(row.notes),
    ]


def notify_error(node: DOMNode, exc: FinanceError) -> None:
    """Show a core error; a dead session sends the app back to its login screen."""
    node.app.notify(str(exc), title="Error", severity="error", markup=False, timeout=8)
    if isinstance(exc, SessionExpired):
        handler = getattr(node.app, "session_expired", None)
        if callable(handler):
            handler(str(exc))


def run_in_thread(
    node: DOMNode,
    call: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    *,
    on_error: Callable[[FinanceError], bool | None] | None = None,
    success: str | Callable[[Any], str] | None = None,
    group: str = "db",
    exclusive: bool = False,
) -> Worker:
    """Run ``call`` in a thread worker; deliver its result on the UI thread.

    A :class:`FinanceError` goes to ``on_error`` (return True when handled), otherwise
    it becomes an error notification. Anything else is a bug and surfaces as one.
    """
    app = node.app

    def finish(result: Any) -> None:
        if not node.is_attached:
            return
        if on_done is not None:
            on_done(result)
        if success is not None:
            message = success(result) if callable(success) else success
            app.notify(message, markup=False)

    def fail(exc: FinanceError) -> None:
        if on_error is not None and on_error(exc):
            return
        notify_error(node, exc)

    def job() -> None:
        try:
            result = call()
        except FinanceError as exc:
            app.call_from_thread(fail, exc)
            return
        app.call_from_thread(finish, result)

    return node.run_worker(job, thread=True, group=group, exclusive=exclusive, exit_on_error=True)


class ScreenTitle(Static):
    """The one-line title bar at the top of each main screen."""

    DEFAULT_CSS = """
    ScreenTitle { height: 1; background: $panel; color: $text; padding: 0 1; text-style: bold; }
    """


class KpiCard(Vertical):
    """A labelled figure: title on top, the value below (money coloured by sign)."""

    DEFAULT_CSS = """
    KpiCard {
        width: 1fr; height: 5; border: round $primary-background-lighten-2;
        padding: 0 1; margin: 0 1 0 0;
    }
    KpiCard > .kpi-title { color: $text-muted; width: 1fr; }
    KpiCard > .kpi-value { text-style: bold; width: 1fr; content-align: right middle; }
    KpiCard > .kpi-hint { color: $text-muted; width: 1fr; text-align: right; }
    """

    def __init__(self, title: str, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.card_title = title

    def compose(self) -> ComposeResult:
        yield Label(self.card_title, classes="kpi-title")
        yield Static("…", classes="kpi-value")
        yield Static("", classes="kpi-hint")

    def set_value(self, value: str | Text, hint: str | Text = "") -> None:
        """Show ``value`` (plain strings are displayed literally, never as markup)."""
        self.query_one(".kpi-value", Static).update(
            value if isinstance(value, Text) else literal(value)
        )
        self.query_one(".kpi-hint", Static).update(
            hint if isinstance(hint, Text) else literal(hint)
        )

    @property
    def value_text(self) -> str:
        """The shown value as plain text (tests read the cards through this)."""
        content = self.query_one(".kpi-value", Static).content
        return content.plain if isinstance(content, Text) else str(content)


class FormRow(Horizontal):
    """``label | field | error``: the error sits beside its field and never clears input."""

    DEFAULT_CSS = """
    FormRow { height: auto; margin-bottom: 0; }
    FormRow > .form-label { width: 12; padding: 1 1 0 0; text-align: right; }
    FormRow > .form-field { width: 1fr; }
    FormRow > .form-error { width: 32; padding: 1 0 0 1; color: $error; }
    """

    def __init__(self, label: str, field: Widget, *, name: str) -> None:
        super().__init__(id=f"row-{name}")
        self.field_label = label
        self.field = field
        self.field_name = name
        field.add_class("form-field")

    def compose(self) -> ComposeResult:
        yield Label(self.field_label, classes="form-label")
        yield self.field
        yield Static("", id=f"error-{self.field_name}", classes="form-error")

    def set_error(self, message: str) -> None:
        self.query_one(".form-error", Static).update(literal(message, single_line=False))
        self.set_class(bool(message), "-invalid")

    @property
    def error(self) -> str:
        content = self.query_one(".form-error", Static).content
        return content.plain if isinstance(content, Text) else str(content)


class ConfirmModal(ModalScreen[bool]):
    """Yes/no question; ``y`` or the Yes button confirms, ``n`` / Escape declines."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > #confirm-dialog {
        width: 64; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmModal #confirm-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmModal #confirm-buttons Button { margin-left: 1; }
    ConfirmModal #confirm-keys { color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, message: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.message = message
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(literal(self.message, single_line=False), id="confirm-message")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.yes_label, variant="warning", id="confirm-yes")
                yield Button(self.no_label, id="confirm-no")
            yield Static(self.keys_hint(), id="confirm-keys")
        yield Footer()

    def keys_hint(self) -> Text:
        """The answer keys, named after the buttons they press."""
        return literal(f"y {self.yes_label} · n or Escape {self.no_label}")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")


class NavBar(Static):
    """The screens this user may open (key + title), the current one highlighted,
    and who is logged in. Reads ``app.nav_entries()`` so it follows the role."""

    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; padding: 0 1; }
    """

    def __init__(self, current: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = current

    def on_mount(self) -> None:
        self.update(self.build())

    def build(self) -> Text:
        app = self.app
        entries = getattr(app, "nav_entries", lambda: [])()
        text = Text()
        for entry in entries:
            style = "bold reverse" if entry.name == self.current else ""
            text.append(f" {entry.key} ", style="bold")
            text.append(f"{entry.title} ", style=style)
        session = getattr(app, "session", None)
        if session is not None:
            who = session.principal  # set by login/verify: no database round trip
            text.append("   ")
            text.append_text(literal(f"{who.username} ({who.role})", style="italic"))
        return text
