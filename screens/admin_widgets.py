"""Pieces the admin, account and analytics screens share beyond ``screens.widgets``.

- :class:`FormModal` is a small modal form (built from ``FormRow``) whose submit runs in
  a worker and shows the core's ``ValidationError`` messages beside the matching fields.
- :class:`ChoiceModal` asks one-of-N (a role, a category kind).
- :class:`AdminTableScreen` is the frame of the admin list screens (users, categories):
  the permission gate, the table, loading in a worker, the selection and the palette.
- :func:`signed_money_text` and :func:`pct_text` show changes (+/-) for analytics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    OptionList,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from finance_tui.errors import FinanceError, SessionExpired, ValidationError
from finance_tui.money import format_decimal
from finance_tui.permissions import Permission
from screens.base import FinanceModal, FinanceScreen, PaletteCommand
from screens.footer import FitFooter
from screens.scroll_pane import ScrollPane
from screens.widgets import (
    FormRow,
    NavBar,
    Palette,
    ScreenTitle,
    StoredInput,
    literal,
)

if TYPE_CHECKING:
    from finance_tui.session import SessionController


class _Identified(Protocol):
    @property
    def id(self) -> Any: ...


RowT = TypeVar("RowT", bound=_Identified)


def signed_money_text(amount: Decimal, *, good_when_up: bool = True) -> Text:
    """A change such as ``+1,200.00`` / ``-35.10``, coloured by whether it is good news."""
    shown = ("+" if amount > 0 else "") + format_decimal(amount)
    good = amount > 0 if good_when_up else amount < 0
    style = "" if amount == 0 else (Palette.income if good else Palette.expense)
    return Text(shown, style=style, justify="right")


def pct_text(value: Decimal | None, *, good_when_up: bool = True) -> Text:
    """``+12.50%``; ``n/a`` when the previous period was zero (no base to compare)."""
    if value is None:
        return Text("n/a", style=Palette.muted, justify="right")
    good = value > 0 if good_when_up else value < 0
    style = "" if value == 0 else (Palette.income if good else Palette.expense)
    return Text(f"{'+' if value > 0 else ''}{value}%", style=style, justify="right")


# ---- modals -------------------------------------------------------------------
@dataclass(frozen=True)
class FormField:
    """One input of a :class:`FormModal`; ``choices`` (label, value) makes it a Select."""

    name: str
    label: str
    value: str = ""
    password: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""


class FormModal(FinanceModal[Any]):
    """A form whose submit runs ``submit(values)`` in a worker.

    ``check(values)`` runs first on the UI thread for purely local rules (e.g. the
    confirmation matches). A ``ValidationError`` from the core puts each message under
    its field (``aliases`` maps core field names to form field names); other errors go
    to the line above the buttons. Success dismisses with ``submit``'s result.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.save"),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[FormField],
        submit: Callable[[dict[str, str]], Any],
        *,
        check: Callable[[dict[str, str]], dict[str, str]] | None = None,
        aliases: Mapping[str, str] | None = None,
        submit_label: str = "Save",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.form_title = title
        self.fields = list(fields)
        self.submit_call = submit
        self.check = check
        self.aliases = dict(aliases or {})
        self.submit_label = submit_label
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="form-dialog"):
            yield Label(literal(self.form_title), id="form-title")
            with ScrollPane(id="form-fields"):
                for f in self.fields:
                    field: StoredInput | Select
                    if f.choices:
                        field = Select(
                            [(literal(label), value) for label, value in f.choices],
                            value=f.value or f.choices[0][1],
                            allow_blank=False,
                            id=f"field-{f.name}",
                        )
                    else:
                        field = StoredInput(
                            f.value,
                            placeholder=f.placeholder,
                            password=f.password,
                            id=f"field-{f.name}",
                        )
                    yield FormRow(f.label, field, name=f.name)
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(self.submit_label, variant="primary", id="form-submit")
                yield Button("Cancel", id="form-cancel")
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#form-error", Static).display = False
        if self.fields:
            self.query_one(f"#field-{self.fields[0].name}").focus()

    def values(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Select):
                result[f.name] = "" if widget.value is Select.NULL else str(widget.value)
            else:
                assert isinstance(widget, StoredInput)
                result[f.name] = widget.typed
        return result

    def show_errors(self, errors: Mapping[str, str], general: str = "") -> None:
        """Each message beside its field; messages for unknown fields above the buttons."""
        names = [f.name for f in self.fields]
        shown: set[str] = set()
        leftovers = []
        for name in names:
            self._set_error(name, "")
        for key, message in errors.items():
            name = self.aliases.get(key, key)
            if name in names:
                self._set_error(name, message)
                shown.add(name)
            else:
                leftovers.append(f"{key}: {message}")
        text = " · ".join(part for part in [general, *leftovers] if part)
        box = self.query_one("#form-error", Static)
        box.update(literal(text))
        box.display = bool(text)
        first = next((name for name in names if name in shown), None)
        if first is not None:
            self.query_one(f"#field-{first}").focus()

    def _set_error(self, name: str, message: str) -> None:
        self.query_one(f"#row-{name}", FormRow).set_error(message)

    def error_of(self, name: str) -> str:
        """The message shown beside a field ('' when none)."""
        return self.query_one(f"#row-{name}", FormRow).error

    @on(Input.Submitted)
    def _next_or_submit(self, event: Input.Submitted) -> None:
        event.stop()
        ids = [f"field-{f.name}" for f in self.fields]
        position = ids.index(event.input.id) if event.input.id in ids else len(ids) - 1
        if position < len(ids) - 1:
            self.query_one(f"#{ids[position + 1]}").focus()
        else:
            self.action_submit()

    @on(Button.Pressed, "#form-submit")
    def _pressed_submit(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#form-cancel")
    def _pressed_cancel(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if self.busy:
            return
        values = self.values()
        local = self.check(values) if self.check else {}
        if local:
            self.show_errors(local)
            return
        self.show_errors({})
        self.busy = True
        self.query_one("#form-submit", Button).disabled = True

        def done(result: Any) -> None:
            self.busy = False
            self.dismiss(result)

        def failed(exc: FinanceError) -> bool:
            self.busy = False
            self.query_one("#form-submit", Button).disabled = False
            if isinstance(exc, ValidationError):
                self.show_errors(exc.fields)
                return True
            if isinstance(exc, SessionExpired):
                return False  # app-level handling (back to login)
            self.show_errors({}, str(exc))
            return True

        self.call_db(lambda: self.submit_call(values), done, on_error=failed, group="form")


class ChoiceList(OptionList):
    """OptionList whose page keys cannot crash before the first layout.

    Textual 8.2's ``OptionList`` looks the highlighted option up in a line map that is
    only filled when the list is laid out; a PageUp/PageDown typed at machine speed
    right after the modal opens raises ``KeyError``. Until then, jump to an end.
    """

    def action_page_down(self) -> None:
        try:
            super().action_page_down()
        except KeyError:
            self.action_last()

    def action_page_up(self) -> None:
        try:
            super().action_page_up()
        except KeyError:
            self.action_first()


class ChoiceModal(FinanceModal[str | None]):
    """Pick one of a few values (role, kind): arrows + Enter, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(
        self, title: str, choices: Sequence[tuple[str, str]], current: str | None = None
    ) -> None:
        super().__init__()
        self.choice_title = title
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-dialog"):
            yield Label(literal(self.choice_title), id="choice-title")
            yield ChoiceList(
                *[Option(literal(label), id=value) for label, value in self.choices],
                id="choice-list",
            )
        yield FitFooter()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for _, value in self.choices]
        if self.current in values:
            options.highlighted = values.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---- admin list screens -----------------------------------------------------------
class AdminTableScreen(FinanceScreen, Generic[RowT]):
    """A table of rows (with an ``id``) that only holders of ``PERMISSION`` may manage.

    Without the permission the screen shows one sentence and every key of ``BINDINGS``
    is inert (the core would refuse anyway; this keeps the footer honest). Subclasses
    declare their names, columns and palette commands as data and fill in three hooks:
    :meth:`load_rows` (runs in a worker), :meth:`row_cells` and :meth:`summary_text`.
    """

    PERMISSION: ClassVar[Permission]
    TITLE: ClassVar[str]
    NAME: ClassVar[str]
    """Plural noun: the widget ids (``#NAME-table``, ``-summary``, ``-denied``), the worker
    group and the denial sentence."""
    NOUN: ClassVar[str]
    """Singular noun for "Select a NOUN first"."""
    COLUMNS: ClassVar[tuple[tuple[str, int | None], ...]]
    """``(header, width)``; a width of ``None`` fits the content."""
    PALETTE: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """Command palette entries as ``(title, help, action name without "action_")``."""

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.rows: list[RowT] = []
        self.allowed = session.can(self.PERMISSION)

    def compose(self) -> ComposeResult:
        yield ScreenTitle(self.TITLE)
        yield NavBar(self.NAME)
        if not self.allowed:
            yield Static(
                f"You do not have permission to manage {self.NAME} (admins only).",
                id=f"{self.NAME}-denied",
            )
        else:
            yield Static("", id=f"{self.NAME}-summary")
            yield DataTable(id=f"{self.NAME}-table", cursor_type="row", zebra_stripes=True)
        yield FitFooter()

    def on_mount(self) -> None:
        if not self.allowed:
            return
        table = self.query_one(DataTable)
        for label, width in self.COLUMNS:
            table.add_column(label, width=width)
        table.focus()
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {b.action for b in self.BINDINGS if isinstance(b, Binding)}:
            return self.allowed
        return True

    # ---- app-shell hooks ----------------------------------------------------
    def refresh_data(self) -> None:
        """Another session changed the database: reload, keeping the selection."""
        if self.allowed:
            self.action_refresh()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        if not self.session.can(self.PERMISSION):
            return
        for title, help_text, action in self.PALETTE:
            yield PaletteCommand(title, help_text, getattr(self, f"action_{action}"))

    # ---- loading ------------------------------------------------------------
    def action_refresh(self, select_id: object | None = None) -> None:
        """Reload in a worker; the cursor goes back to ``select_id`` (default: the
        row under it now) when that row is still there."""
        if select_id is None:
            current = self.current_row()
            select_id = current.id if current is not None else None
        self.call_db(
            self.load_rows,
            lambda rows: self._show(rows, select_id),
            group=f"{self.NAME}-load",
            exclusive=True,
        )

    def _show(self, rows: list[RowT], select_id: object | None) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(*self.row_cells(row), key=str(row.id))
        ids = [row.id for row in rows]
        if select_id in ids:
            table.move_cursor(row=ids.index(select_id))
        self.query_one(f"#{self.NAME}-summary", Static).update(self.summary_text(rows))

    # ---- selection ----------------------------------------------------------
    def current_row(self) -> RowT | None:
        """The row under the cursor; ``None`` before the first load or when there is none."""
        if not self.allowed or not self.is_mounted or not self.rows:
            return None
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.rows):
            return self.rows[table.cursor_row]
        return None

    def selected_row(self) -> RowT | None:
        """The row an action works on; without one, says so and gives ``None``."""
        row = self.current_row()
        if row is None:
            self.notify(f"Select a {self.NOUN} first", severity="warning")
        return row

    # ---- what each screen fills in ---------------------------------------------
    def load_rows(self) -> list[RowT]:
        """Fetch every row from the core; runs in a thread worker."""
        raise NotImplementedError

    def row_cells(self, row: RowT) -> Sequence[Any]:
        """One table row's cells, in column order."""
        raise NotImplementedError

    def summary_text(self, rows: list[RowT]) -> str:
        """The line above the table (counts and keys)."""
        raise NotImplementedError
