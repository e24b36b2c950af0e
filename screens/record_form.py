"""The record form (modal) and the read-only record view.

Fast entry: Enter moves to the next field and saves on the last one; "save and add
another" (Ctrl+N) keeps kind, category and date. The core validates; its field messages
appear beside the fields and nothing typed is lost. A version conflict names who changed
the record and offers to reload it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from finance_tui.domain.dto import CategoryRow, RecordRow
from finance_tui.domain.values import DateError, parse_date, text_problem
from finance_tui.errors import ConflictError, FinanceError, SessionExpired, ValidationError
from finance_tui.textsafety import visible
from screens.base import FinanceModal
from screens.footer import FitFooter
from screens.widgets import (
    ConfirmModal,
    FormRow,
    Palette,
    StoredInput,
    TextInput,
    fmt_date,
    fmt_dt,
    literal,
    money_text,
)

if TYPE_CHECKING:
    from finance_tui.session import SessionController

FIELDS = ("kind", "amount", "category", "date", "notes")


class KindToggle(Widget, can_focus=True):
    """income / expense switch: ``i``, ``e``, space or arrows; Enter moves on."""

    BINDINGS = [
        Binding("i", "set('income')", "Income", show=False, id="kind-toggle.income"),
        Binding("e", "set('expense')", "Expense", show=False, id="kind-toggle.expense"),
        Binding(
            "space,left,right",
            "toggle_kind",
            "Toggle kind",
            show=False,
            id="kind-toggle.toggle-kind",
        ),
        Binding("enter", "next", "Next", show=False, id="kind-toggle.next"),
    ]

    value: reactive[str] = reactive("expense")

    class Changed(Message):
        def __init__(self, toggle: KindToggle, value: str) -> None:
            super().__init__()
            self.toggle = toggle
            self.value = value

    def render(self) -> Text:
        text = Text()
        for kind, key in (("income", "i"), ("expense", "e")):
            chosen = self.value == kind
            mark = "(•)" if chosen else "( )"
            style = f"bold {Palette.of(kind)}" if chosen else Palette.muted
            text.append(f"{mark} {kind} [{key}]   ", style=style)
        return text

    def watch_value(self, value: str) -> None:
        self.post_message(self.Changed(self, value))

    def action_set(self, kind: str) -> None:
        self.value = kind

    def action_toggle_kind(self) -> None:
        # Not `action_toggle`: that is Textual's own `toggle('attribute')` action.
        self.value = "income" if self.value == "expense" else "expense"

    def action_next(self) -> None:
        self.screen.focus_next()

    def on_click(self) -> None:
        self.action_toggle_kind()


class DateInput(TextInput):
    """Date field: ISO, ``today``, ``yesterday``, ``-3`` / ``+2`` days from today.

    Every character is typed (focus selects the remembered date, so ``-3`` replaces it);
    Up / Down step the date shown by a day, and ``-`` / ``+`` alone mean yesterday /
    tomorrow. Enter shows the date a shortcut stands for.
    """

    BINDINGS = [
        Binding("up", "step(1)", "+1 day", key_display="↑", id="date-input.next-day"),
        Binding("down", "step(-1)", "-1 day", key_display="↓", id="date-input.previous-day"),
    ]

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def action_step(self, days: int) -> None:
        """Move the date in the field by ``days`` (an empty field steps from today)."""
        try:
            current = parse_date(self.value or "today", self.today)
        except DateError:
            return  # not a date: Enter or save says why
        self.value = (current + timedelta(days=days)).isoformat()
        self.cursor_position = len(self.value)

    def resolved(self) -> date:
        """The date the field stands for; raises :class:`DateError`."""
        return parse_date(relative_shorthand(self.value), self.today)


def relative_shorthand(text: str) -> str:
    """``-`` / ``+`` alone mean one day back / ahead (as ``-1`` / ``+1``)."""
    stripped = text.strip()
    return f"{stripped}1" if stripped in ("-", "+") else text


def names_for_kind(categories: list[CategoryRow], kind: str) -> list[str]:
    """The names a record of ``kind`` may use: its own kind's categories and "both"."""
    return [c.name for c in categories if c.kind in (kind, "both")]


def completed_category(typed: str, names: list[str]) -> str:
    """The category name that ``typed`` stands for: an exact match in any case, or the
    only name it is a prefix of; otherwise ``typed`` unchanged (the core reports it).

    A name is also matched as shown (:func:`visible`): an accepted suggestion for an old
    name holding a control character maps back to the stored name.
    """
    wanted = typed.strip().lower()
    if not wanted:
        return typed

    def forms(name: str) -> tuple[str, str]:
        return name.lower(), visible(name).lower()

    exact = [n for n in names if wanted in forms(n)]
    matches = exact or [n for n in names if any(f.startswith(wanted) for f in forms(n))]
    return matches[0] if len(matches) == 1 else typed


REQUIRED = ("amount", "category", "date")


class RecordForm(FinanceModal[RecordRow | None]):
    """New or edit. ``on_saved(row, defaults)`` runs after each successful save.

    A new record always starts at Kind (after ``n`` and after Ctrl+N alike, the kind
    already set to the last one used), so the same keys enter every record; an edit
    starts at Amount. ``template`` (duplicate) prefills a new record from a stored one,
    dated today: it starts at Amount too, the field a copy most often changes.
    """

    TITLE = "Record form"
    HELP = (
        "Enter moves to the next field (an empty required field stays and says why) "
        "and saves on Notes. Kind: i income, e expense, Space toggles. Category: a unique "
        "prefix completes on Enter, → accepts the suggestion. Date: 2026-11-25, today, "
        "yesterday, -3 (three days ago), +2; - or + alone is yesterday / tomorrow; "
        "↑ / ↓ step the date by a day. Typing into a filled field replaces it. "
        "Escape asks before dropping unsaved changes."
    )
    # Below 32 rows every field is one line high, so the form fits 80x24 whole.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="record-form.save"),
        Binding("ctrl+n", "save_another", "Save + another", id="record-form.save-another"),
        Binding("escape", "cancel", "Cancel", id="record-form.cancel"),
        Binding("f1,question_mark", "app.help", "Help", key_display="F1", id="record-form.help"),
    ]

    def __init__(
        self,
        session: SessionController,
        *,
        record: RecordRow | None = None,
        defaults: dict[str, str] | None = None,
        on_saved: Callable[[RecordRow, dict[str, str]], None] | None = None,
        template: RecordRow | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.record = record
        self.template = None if record else template
        self.defaults = dict(defaults or {})
        self.on_saved = on_saved
        self.categories: list[CategoryRow] = []
        self.busy = False
        self.saved_count = 0
        self.last_saved: RecordRow | None = None
        self._pristine: dict[str, str] = {}

    # ---- layout ----------------------------------------------------------------
    @property
    def today(self) -> date:
        """Relative dates in the form count from the shell's clock (fixed in tests)."""
        return self.shell.clock.today()

    def _title(self) -> str:
        if self.record:
            return "Edit record"
        return "New record — copy, dated today" if self.template else "New record"

    def _initial(self) -> dict[str, str]:
        """What the fields start with: the record, a copy of the template dated today,
        or the remembered defaults."""
        source = self.record or self.template
        if source is None:
            return {
                "kind": self.defaults.get("kind", "expense"),
                "amount": "",
                "category": self.defaults.get("category", ""),
                "date": self.defaults.get("date", self.today.isoformat()),
                "notes": "",
            }
        return {
            "kind": source.kind,
            "amount": f"{source.amount:.2f}",
            "category": source.category,
            "date": fmt_date(source.date) if self.record else self.today.isoformat(),
            "notes": source.notes,
        }

    def compose(self) -> ComposeResult:
        rec = self.record
        start = self._initial()
        title = self._title()
        kind = KindToggle(id="field-kind")
        kind.value = start["kind"]
        amount = TextInput(start["amount"], placeholder="1234.50 or 1,234.50", id="field-amount")
        category = StoredInput(
            start["category"],
            placeholder="start typing; → accepts the suggestion",
            id="field-category",
        )
        when = DateInput(
            start["date"],
            placeholder="YYYY-MM-DD, today, yesterday, -3",
            id="field-date",
            today=self.today,
        )
        notes = StoredInput(start["notes"], placeholder="optional", id="field-notes")
        with Vertical(id="form-dialog"):
            yield Label(title, id="form-title")
            if rec:
                yield Static(
                    literal(
                        f"created by {rec.created_by or '—'} · last change "
                        f"{fmt_dt(rec.updated_at)} by {rec.updated_by or '—'} · v{rec.version}"
                    ),
                    id="form-meta",
                )
            yield FormRow("Kind", kind, name="kind")
            yield FormRow("Amount", amount, name="amount")
            yield FormRow("Category", category, name="category")
            yield FormRow("Date", when, name="date")
            yield FormRow("Notes", notes, name="notes")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Reload", id="form-reload", variant="warning")
                yield Button("Save", variant="primary", id="form-save")
                if rec is None:
                    yield Button("Save + another", id="form-another")
                yield Button("Cancel", id="form-cancel")
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#form-reload").display = False
        self._flag_stored_notes()
        first = "#field-amount" if self.record or self.template else "#field-kind"
        self.query_one(first).focus()
        self._pristine = self.values()
        session = self.session
        self.call_db(
            lambda: session.categories.list(),
            self._categories_loaded,
            group="form-categories",
        )

    def _flag_stored_notes(self) -> None:
        """Notes stored before today's checks may hold a control character: say so at
        once (the box shows a stand-in), rather than only when a save is refused."""
        source = self.record or self.template
        notes = source.notes if source else ""
        if problem := text_problem(notes, multiline=True):
            self.query_one("#row-notes", FormRow).set_error(
                f"{problem} (shown as a stand-in); edit the notes to save"
            )

    def _categories_loaded(self, categories: list[CategoryRow]) -> None:
        self.categories = categories
        self._update_suggester()

    def _names_for_kind(self) -> list[str]:
        return names_for_kind(self.categories, self.query_one(KindToggle).value)

    def _update_suggester(self) -> None:
        self.query_one("#field-category", Input).suggester = SuggestFromList(
            [visible(name) for name in self._names_for_kind()], case_sensitive=False
        )

    @on(KindToggle.Changed)
    def _kind_changed(self) -> None:
        if self.categories:
            self._update_suggester()

    # ---- values and errors ---------------------------------------------------------
    def values(self) -> dict[str, str]:
        return {
            "kind": self.query_one(KindToggle).value,
            "amount": self.query_one("#field-amount", Input).value,
            "category": self.query_one("#field-category", StoredInput).typed,
            "date": relative_shorthand(self.query_one("#field-date", Input).value),
            "notes": self.query_one("#field-notes", StoredInput).typed,
        }

    def show_errors(self, errors: dict[str, str], general: str = "") -> None:
        leftovers = [f"{k}: {v}" for k, v in errors.items() if k not in FIELDS]
        for name in FIELDS:
            self.query_one(f"#row-{name}", FormRow).set_error(errors.get(name, ""))
        message = " · ".join(m for m in [general, *leftovers] if m)
        self.query_one("#form-error", Static).update(literal(message, single_line=False))
        for name in FIELDS:
            if name in errors:
                self.query_one(f"#field-{name}").focus()
                break

    def field_error(self, name: str) -> str:
        return self.query_one(f"#row-{name}", FormRow).error

    @property
    def changed(self) -> bool:
        """Has anything been typed since the form opened (or last saved / reloaded)?"""
        return self.values() != self._pristine

    # ---- keys -------------------------------------------------------------------
    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        box = event.input
        if box.id == "field-category":
            self._complete_category(self.query_one("#field-category", StoredInput))
        problem = self._entry_problem(box)
        name = (box.id or "").removeprefix("field-")
        if name in FIELDS:
            self.query_one(f"#row-{name}", FormRow).set_error(problem)
        if problem:
            return  # stay: the next thing typed still belongs here
        if box.id == "field-notes":
            self.action_save()
        else:
            self.focus_next()

    def _entry_problem(self, box: Input) -> str:
        """Why Enter may not leave ``box`` (empty and required, or not a date); "" if it may."""
        name = (box.id or "").removeprefix("field-")
        if name in REQUIRED and not box.value.strip():
            return "is required"
        if isinstance(box, DateInput):
            try:
                box.value = box.resolved().isoformat()  # show the date "-3" stands for
            except DateError as exc:
                return str(exc)
        return ""

    def _complete_category(self, box: StoredInput) -> None:
        """Enter on a unique prefix (or a case variant) fills in the category's name."""
        typed = box.typed
        name = completed_category(typed, self._names_for_kind())
        if name != typed:
            box.set_stored(name)

    @on(Button.Pressed, "#form-save")
    def _pressed_save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-another")
    def _pressed_another(self) -> None:
        self.action_save_another()

    @on(Button.Pressed, "#form-cancel")
    def _pressed_cancel(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#form-reload")
    def _pressed_reload(self) -> None:
        self.reload_record()

    def action_cancel(self) -> None:
        """Close; with unsaved changes, only after the user agreed to drop them."""
        if not self.changed:
            self.dismiss(self.last_saved)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(self.last_saved)

        self.app.push_screen(
            ConfirmModal("Discard the changes to this record?", yes="Discard", no="Keep editing"),
            answered,
        )

    def action_save(self) -> None:
        self._save(another=False)

    def action_save_another(self) -> None:
        if self.record is not None:
            self._save(another=False)
        else:
            self._save(another=True)

    # ---- saving ----------------------------------------------------------------
    def _save(self, *, another: bool) -> None:
        if self.busy:
            return
        self._complete_category(self.query_one("#field-category", StoredInput))
        values = self.values()
        self.busy = True
        self.show_errors({})
        session, record, today = self.session, self.record, self.today
        names_loaded = bool(self.categories)

        def call() -> RecordRow:
            if not names_loaded:  # typed ahead of the category list: complete here
                names = names_for_kind(session.categories.list(), values["kind"])
                values["category"] = completed_category(values["category"], names)
            if record is None:
                return session.records.create(values, today=today)
            changes = {k: v for k, v in values.items()}
            return session.records.update(record.id, record.version, changes, today=today)

        def done(row: RecordRow) -> None:
            self.busy = False
            self.saved_count += 1
            self.last_saved = row
            defaults = {"kind": row.kind, "category": row.category, "date": row.date.isoformat()}
            if self.on_saved is not None:
                self.on_saved(row, defaults)
            verb = "updated" if record else "saved"
            self.app.notify(
                f"Record {verb}: {row.date} {row.kind} {row.amount:,.2f} {visible(row.category)}",
                markup=False,
            )
            if another:
                self._reset_for_next(row)
            else:
                self.dismiss(row)

        def failed(exc: FinanceError) -> bool:
            self.busy = False
            if isinstance(exc, ValidationError):
                self.show_errors(exc.fields)
                return True
            if isinstance(exc, ConflictError):
                self.show_errors({}, f"{exc} — press Reload to load the current version.")
                self.query_one("#form-reload").display = True
                return True
            if isinstance(exc, SessionExpired):
                return False  # the app returns to the login screen
            self.show_errors({}, str(exc))
            return True

        self.call_db(call, done, on_error=failed, group="form-save")

    def _reset_for_next(self, row: RecordRow) -> None:
        """Keep kind, category and date; clear amount and notes; start at Kind, as ``n`` does."""
        self.query_one("#field-amount", Input).value = ""
        self.query_one("#field-notes", StoredInput).set_stored("")
        self.query_one("#form-title", Label).update(
            f"New record — {self.saved_count} saved, enter the next"
        )
        self.query_one(KindToggle).focus()
        self._pristine = self.values()

    def reload_record(self) -> None:
        """After a conflict: load the current version (the user chose to drop theirs)."""
        if self.record is None:
            return
        session, rid = self.session, self.record.id

        def done(row: RecordRow) -> None:
            self.record = row
            self.query_one(KindToggle).value = row.kind
            self.query_one("#field-amount", Input).value = f"{row.amount:.2f}"
            self.query_one("#field-category", StoredInput).set_stored(row.category)
            self.query_one("#field-date", Input).value = row.date.isoformat()
            self.query_one("#field-notes", StoredInput).set_stored(row.notes)
            self.query_one("#form-reload").display = False
            meta = self.query("#form-meta")
            if meta:
                meta.first(Static).update(
                    literal(
                        f"created by {row.created_by or '—'} · last change "
                        f"{fmt_dt(row.updated_at)} by {row.updated_by or '—'} · v{row.version}"
                    )
                )
            self.show_errors({}, f"Reloaded version {row.version}; edit and save again.")
            self._flag_stored_notes()
            self._pristine = self.values()

        self.call_db(lambda: session.records.get(rid), done, group="form-reload")


class RecordView(FinanceModal[None]):
    """Read-only view of one record (viewers, analysts, and the trash)."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="record-view.close")]

    def __init__(self, record: RecordRow) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        rec = self.record
        rows = [
            ("Kind", Text(rec.kind, style="red" if rec.kind == "expense" else "green")),
            ("Amount", money_text(rec.amount, rec.kind)),
            ("Category", literal(rec.category)),
            ("Date", Text(fmt_date(rec.date))),
            ("Notes", literal(rec.notes, single_line=False)),
            ("Created", literal(f"{fmt_dt(rec.created_at)} by {rec.created_by or '—'}")),
            ("Changed", literal(f"{fmt_dt(rec.updated_at)} by {rec.updated_by or '—'}")),
            ("Version", Text(str(rec.version))),
        ]
        if rec.is_deleted:
            rows.append(
                ("Deleted", literal(f"{fmt_dt(rec.deleted_at)} by {rec.deleted_by or '—'}"))
            )
        with Vertical(id="view-dialog"):
            yield Label("Record", id="view-title")
            for label, value in rows:
                with Horizontal(classes="view-row"):
                    yield Label(label, classes="view-label")
                    yield Static(value, classes="view-value")
            yield Static(Text("Escape closes", style=Palette.muted), id="view-hint")

    def action_close(self) -> None:
        self.dismiss()
