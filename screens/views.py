"""Saved views of the records screen: the name dialog (save, rename), the picker
(recall, rename, delete) and the palette's "View: NAME" entries.

The view service keeps each user's views to themselves; these dialogs only show its
answers. Names are other people's text as far as the terminal is concerned (a name
from before a rule, or typed elsewhere), so they are always shown through
:func:`screens.widgets.literal` / :func:`finance_tui.textsafety.visible`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.widgets import DataTable, Input, Label, Static

from finance_tui.domain.views import MAX_VIEW_NAME, SavedViewRow
from finance_tui.errors import FinanceError, ValidationError, ViewExists
from finance_tui.textsafety import visible
from screens.base import SHARED_STYLES, FinanceModal, shell_of
from screens.widgets import ConfirmModal, TextInput, literal

if TYPE_CHECKING:
    from finance_tui.session import SessionController

SaveCall = Callable[[str, bool], SavedViewRow]
PICKER_HINT = "Enter applies · r rename · d delete · Esc closes"
EMPTY = "No saved views yet: w on the records screen saves the current filter and sort."


def quoted(name: str) -> str:
    """A view's name for a sentence: quoted, with control characters made visible."""
    return f"'{visible(name)}'"


def error_text(exc: FinanceError, labels: Mapping[str, str]) -> str:
    """A refusal in one line: the name's problem alone, a filter's with its box's label."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    return " · ".join(
        message if field == "name" else f"{labels.get(field, field)} {message}"
        for field, message in exc.fields.items()
    )


class ViewNameModal(FinanceModal[SavedViewRow | None]):
    """Asks for a view's name and runs ``submit(name, replace)`` on the database pool.

    A name that is taken (:class:`ViewExists`) asks whether to replace that view; any
    other refusal stays in the dialog under the name, with what was typed kept.
    """

    CSS_PATH = [*SHARED_STYLES, "../styles/view_name.tcss"]
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="view-name.cancel")]

    def __init__(
        self,
        title: str,
        submit: SaveCall,
        *,
        initial: str = "",
        labels: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.submit = submit
        self.initial = initial
        self.labels = dict(labels or {})

    def compose(self) -> ComposeResult:
        with Vertical(id="view-name-dialog"):
            yield Label(literal(self.dialog_title), id="view-name-title")
            yield TextInput(
                visible(self.initial),
                placeholder="name of the view",
                max_length=MAX_VIEW_NAME,
                id="view-name-input",
            )
            yield Static("", id="view-name-error")
            yield Static("Enter saves · Esc cancels", id="view-name-hint")

    def on_mount(self) -> None:
        self.query_one("#view-name-input", Input).focus()

    @property
    def error(self) -> str:
        content = self.query_one("#view-name-error", Static).content
        return getattr(content, "plain", str(content))

    def _show_error(self, exc: FinanceError) -> bool:
        if isinstance(exc, ViewExists):
            self._ask_to_replace(exc.name)
            return True
        self.query_one("#view-name-error", Static).update(literal(error_text(exc, self.labels)))
        return True

    @on(Input.Submitted, "#view-name-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._run(event.value, replace=False)

    def _run(self, name: str, *, replace: bool) -> None:
        self.query_one("#view-name-error", Static).update("")
        self.call_db(
            lambda: self.submit(name, replace),
            self._done,
            on_error=self._show_error,
            group="view-name",
            exclusive=True,
        )

    def _done(self, row: SavedViewRow) -> None:
        self.dismiss(row)

    def _ask_to_replace(self, existing: str) -> None:
        typed = self.query_one("#view-name-input", Input).value

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(typed, replace=True)

        message = f"You already have a view named {quoted(existing)}. Replace it?"
        self.app.push_screen(ConfirmModal(message, yes="Replace"), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ViewsPicker(FinanceModal[str | None]):
    """The user's saved views; dismisses with the name of the one to apply."""

    CSS_PATH = [*SHARED_STYLES, "../styles/views.tcss"]
    BINDINGS = [
        Binding("escape", "close", "Close", id="views.close"),
        Binding("r", "rename", "Rename", id="views.rename"),
        Binding("d,delete", "delete", "Delete", id="views.delete"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.rows: list[SavedViewRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="views-dialog"):
            yield Label("Saved views", id="views-title")
            yield DataTable(id="views-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="views-detail")
            yield Static(EMPTY, id="views-empty")
            yield Static(PICKER_HINT, id="views-hint")

    def on_mount(self) -> None:
        table = self.query_one("#views-table", DataTable)
        table.add_column("Name", key="name", width=22)
        table.add_column("Shows", key="shows", width=44)
        table.focus()
        self.reload()

    def reload(self, select: str | None = None) -> None:
        views = self.session.views
        self.call_db(views.list, partial(self._show, select=select), group="views-list")

    def _show(self, rows: list[SavedViewRow], select: str | None = None) -> None:
        self.rows = rows
        table = self.query_one("#views-table", DataTable)
        table.clear()
        for row in rows:
            table.add_row(literal(row.name), literal(row.summary), key=str(row.id))
        names = [row.name.lower() for row in rows]
        if select is not None and select.lower() in names:
            table.move_cursor(row=names.index(select.lower()), animate=False)
        table.display = bool(rows)
        self.query_one("#views-empty", Static).display = not rows
        self._describe_selected()

    @on(DataTable.RowHighlighted, "#views-table")
    def _describe_selected(self) -> None:
        """The highlighted view's whole description (the table's column may cut it)."""
        row = self.selected()
        detail = self.query_one("#views-detail", Static)
        detail.update(literal(f"Shows {row.summary}") if row else "")
        detail.display = row is not None

    def selected(self) -> SavedViewRow | None:
        table = self.query_one("#views-table", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected, "#views-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.selected()
        if row is not None:
            self.dismiss(row.name)

    def action_rename(self) -> None:
        row = self.selected()
        if row is None:
            return
        views = self.session.views

        def renamed(result: SavedViewRow | None) -> None:
            if result is not None:
                self.app.notify(f"Renamed to {quoted(result.name)}", markup=False)
                self.reload(select=result.name)

        dialog = ViewNameModal(
            f"Rename the view {quoted(row.name)}",
            lambda name, _replace: views.rename(row.name, name),
            initial=row.name,
        )
        self.app.push_screen(dialog, renamed)

    def action_delete(self) -> None:
        row = self.selected()
        if row is None:
            return
        views = self.session.views

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_db(
                    lambda: views.delete(row.name),
                    lambda _: self.reload(),
                    success=f"Deleted the view {quoted(row.name)}",
                    group="views-write",
                )

        message = f"Delete your saved view {quoted(row.name)}?\n\n{row.summary}"
        self.app.push_screen(ConfirmModal(message, yes="Delete"), answered)

    def action_close(self) -> None:
        self.dismiss(None)


def plain_highlight(matcher: Matcher, title: str) -> Content:
    """``matcher.highlight`` without reading ``title`` as markup (a view named
    ``[b]x`` shows exactly that)."""
    content = Content(title)
    score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    if score:
        for offset in offsets:
            if not title[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class SavedViewCommands(Provider):
    """Palette entries "View: NAME" for the user's saved views, read afresh each time
    the palette opens; choosing one applies it to the records screen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.names: list[str] = []

    async def startup(self) -> None:
        session = getattr(self.screen, "session", None)
        if session is None or not hasattr(self.screen, "recall_view"):
            return
        try:
            rows = await shell_of(self.screen).run_db(session.views.list)
        except FinanceError:
            return  # no entries; the screen's own commands still work
        self.names = [row.name for row in rows]

    def _commands(self) -> list[tuple[str, Callable[[], Any]]]:
        recall = getattr(self.screen, "recall_view", None)
        if recall is None:
            return []
        return [(f"View: {visible(name)}", partial(recall, name)) for name in self.names]

    async def discover(self) -> Hits:
        for title, callback in self._commands():
            yield DiscoveryHit(Content(title), callback, text=title, help=HELP)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, plain_highlight(matcher, title), callback, text=title, help=HELP)


HELP = "Apply this saved view's filter and sort"
