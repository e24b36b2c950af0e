"""Widgets and helpers every screen shares (records, dashboard, admin screens).

- :func:`literal` turns user-typed text into a Rich ``Text``: never parsed as markup,
  control characters made visible, so a note like ``[red]x`` shows exactly that;
  :class:`StoredInput` is the same for an input box prefilled from stored text.
- :func:`money_text` renders an amount right-aligned, expenses in the error colour
  with a minus sign, income in the success colour.
- :func:`record_cells` is the date/kind/category/amount/notes run of cells that every
  table of records (records screen, dashboard's recent records) starts with.
- Database calls run through ``screens.base`` (``call_db`` and ``@work`` workers that
  await the app's database pool).
- :class:`KpiCard`, :class:`ConfirmModal`, :class:`FormRow` (label + input + error line)
  and :class:`ScreenTitle` keep the screens consistent.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.align import AlignMethod
from rich.cells import cell_len
from rich.color import Color as RichColor
from rich.color import ColorParseError
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Static

from finance_tui.money import format_decimal
from finance_tui.textsafety import visible
from screens.base import FinanceModal, laid_out_content, shell_of
from screens.footer import FitFooter

if TYPE_CHECKING:
    from finance_tui.domain.dto import RecordRow


def _rich_colour(value: str, fallback: str) -> str:
    """A theme colour as a Rich style colour, or ``fallback`` if Rich cannot parse it."""
    try:
        RichColor.parse(value)
    except ColorParseError:
        return fallback
    return value


class Palette:
    """Colours of income and expense figures and of secondary text, from the theme.

    The theme's ``text-success`` / ``text-error`` are made for reading on its own
    backgrounds (plain ANSI green and red were 3.6:1 on the default dark theme, under
    the 4.5:1 of WCAG AA). The app shell calls :meth:`use_theme` on every theme change.
    """

    income = "#8AD4A1"
    expense = "#D17E92"
    muted = "dim"  # secondary text; a 16-colour terminal's dim is too faint to read

    @classmethod
    def use_theme(cls, variables: dict[str, str]) -> None:
        if variables.get("background", "").startswith("ansi_"):
            # The terminal's own palette: plain red on black is 3.6:1 in xterm's
            # defaults, its bright red 5.3:1.
            cls.income, cls.expense, cls.muted = "bright_green", "bright_red", ""
            return
        cls.muted = "dim"
        cls.income = _rich_colour(variables.get("text-success", ""), "green")
        cls.expense = _rich_colour(variables.get("text-error", ""), "red")

    @classmethod
    def of(cls, kind: str) -> str:
        return cls.expense if kind == "expense" else cls.income


def literal(value: object, *, single_line: bool = True, style: str = "") -> Text:
    """User text as plain ``Text``: never parsed as markup, and control or bidi
    characters shown as stand-ins (``␛``, ``<U+202E>``) instead of reaching the terminal."""
    return Text(visible(value, single_line=single_line), style=style)


class TextInput(Input):
    """Textual's ``Input`` without a layout of the whole screen on every key.

    The stock box sets its ``virtual_size`` (the width of its text) on each change of
    its value, and Textual's ``virtual_size`` asks for a layout of the whole screen.
    The box has no scroll bars, so its own size never depends on it: it scrolls its
    text by ``scroll_x`` within its own region. Here the value only repaints the box.
    Typing 30 characters at 120x36 (median of 3) took 299 ms of CPU in the records
    filter, 217 ms in the record form and 240 ms in quick add with the stock box, and
    154, 149 and 190 ms with this one.
    ``tests/test_widget_overrides.py`` shows the stock behaviour and that long text
    scrolls the same in both.
    """

    virtual_size = Reactive(Size(0, 0), layout=False)


class StoredInput(TextInput):
    """An input box prefilled from stored text, which may predate validation.

    It shows :func:`visible` of the stored text (an escape sequence in an old note must
    not run in the terminal of whoever edits it). :attr:`typed` is what a save sends:
    the stored text itself while the box still shows it unchanged, so the core's
    validation names the bad character instead of the stand-in being saved unnoticed.
    """

    def __init__(self, stored: str = "", **kwargs: Any) -> None:
        self.stored = stored
        self.shown = visible(stored)
        super().__init__(self.shown, **kwargs)

    def set_stored(self, stored: str) -> None:
        self.stored = stored
        self.shown = visible(stored)
        self.value = self.shown

    @property
    def typed(self) -> str:
        return self.stored if self.value == self.shown else self.value


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
    style = Palette.expense if negative else (Palette.income if amount or kind else "")
    return Text(shown, style=style, justify="right")


def kind_text(kind: str) -> Text:
    """``income`` / ``expense`` in their colours (the table shows both)."""
    return Text(kind, style=Palette.of(kind))


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


class ScreenTitle(Static):
    """The one-line title bar at the top of each main screen."""


class KpiCard(Widget):
    """A labelled figure: title on top, the value below (money coloured by sign), a
    hint under it.

    One widget that draws its three lines, not a container of three: the dashboard
    shows 14 cards, and as containers they were 56 of its 87 widgets, each composed,
    styled, laid out and painted on every start and every change of period. Starting
    the app on the dashboard and waiting for its figures (120x36, medians of 7 starts
    in three paired runs) took 561, 552 and 480 ms of CPU with them, 412, 441 and
    440 ms with these. The parts are styled through the component classes below, in
    ``styles/widgets.tcss``.
    """

    COMPONENT_CLASSES = {"kpi-card--title", "kpi-card--value", "kpi-card--hint"}

    def __init__(
        self, title: str, *, names: bool = False, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.card_title = title
        self.names = names  # the value is a name (a category): cut with "…" if too long
        self._value = Text("…")
        self._hint = Text("")

    def set_value(self, value: str | Text, hint: str | Text = "") -> None:
        """Show ``value`` (plain strings are displayed literally, never as markup)."""
        self._value = value if isinstance(value, Text) else literal(value)
        self._hint = hint if isinstance(hint, Text) else literal(hint)
        self.refresh()

    @property
    def value_text(self) -> str:
        """The shown value as plain text (tests read the cards through this)."""
        return self._value.plain

    @property
    def hint_text(self) -> str:
        return self._hint.plain

    @property
    def needed_width(self) -> int:
        """Cells the card needs to show its figures whole, with its border and padding."""
        whole = [self.card_title, self.hint_text] + ([] if self.names else [self.value_text])
        return max(cell_len(text) for text in whole) + self.styles.gutter.width

    def render(self) -> Text:
        width = laid_out_content(self)[0]
        lines = []
        parts: tuple[tuple[str, Text, AlignMethod], ...] = (
            ("title", Text(self.card_title), "left"),
            ("value", self._value, "right"),
            ("hint", self._hint, "right"),
        )
        for part, text, align in parts:
            line = Text(style=self.get_component_rich_style(f"kpi-card--{part}", partial=True))
            line.append_text(text)
            line.truncate(width, overflow="ellipsis")
            line.align(align, width)
            lines.append(line)
        return Text("\n", no_wrap=True, overflow="crop").join(lines)


class FormRow(Horizontal):
    """``label | field | error``: the error sits beside its field and never clears input."""

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


class ConfirmModal(FinanceModal[bool]):
    """Yes/no question; ``y`` or the Yes button confirms, ``n`` / Escape declines."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
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
        yield FitFooter()

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

    def __init__(self, current: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = current
        self._spans: list[tuple[int, int, str]] = []  # (first cell, end cell, screen)

    async def on_click(self, event: events.Click) -> None:
        """The mouse opens the clicked screen, through the same role check as its key."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for start, end, name in self._spans:
            if start <= offset.x < end:
                await self.app.run_action(f"app.goto({name!r})")
                return

    def on_mount(self) -> None:
        self.update(self.build())

    def on_resize(self) -> None:
        self.update(self.build())

    def build(self, width: int | None = None) -> Text:
        """Whole labels only: at a narrow width the entries that do not fit are left
        out (the current screen always stays; number keys, help and the palette still
        reach the others), then the user's name if there is room for it."""
        width = width if width is not None else (laid_out_content(self)[0] or 10_000)
        shell = shell_of(self)
        entries = shell.nav_entries()
        labels = {e.name: (f" {e.key} ", f"{e.title} ") for e in entries}
        room = width - sum(len(k) + len(t) for n, (k, t) in labels.items() if n == self.current)
        shown = {self.current}
        for name, (key, title) in labels.items():
            if name != self.current and len(key) + len(title) <= room:
                shown.add(name)
                room -= len(key) + len(title)
        text = Text(no_wrap=True, overflow="crop")
        self._spans = []
        for name, (key, title) in labels.items():
            if name in shown:
                start = len(text)
                text.append(key, style="bold")
                text.append(title, style="bold reverse" if name == self.current else "")
                self._spans.append((start, len(text), name))
        session = shell.session
        if session is not None:
            who = session.principal  # set by login/verify: no database round trip
            name_text = literal(f"{who.username} ({who.role})", style="italic")
            if len(text) + 3 + len(name_text) <= width:
                text.append("   ")
                text.append_text(name_text)
        return text


class TickBox(Checkbox):
    """A checkbox whose mark tells on from off by its shape, not by colour alone:
    ``✓`` when ticked, blank when not (Textual's shows ``X`` either way)."""

    def __init__(self, label: str, value: bool = False, *, id: str | None = None) -> None:
        super().__init__(label, value, id=id)
        self.BUTTON_INNER = "✓" if value else " "

    def watch_value(self) -> None:
        # Textual calls only the most derived watcher: Checkbox's own sets the `-on`
        # class and posts Changed, so it must run too.
        self.BUTTON_INNER = "✓" if self.value else " "
        super().watch_value()
        self.refresh()
