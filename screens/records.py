"""Records: a window of rows fed from the query service, a live filter bar, sorting,
and (for admins) create / edit / delete / restore.

The table never holds more than one window (:data:`WINDOW` rows). The cursor moves over
the *whole* result: arrow keys, PageUp/PageDown, Home/End and ``[``/``]`` compute an
absolute position and, when it falls outside the loaded window, a worker reads the
window around it by key (keyset paging from the loaded window's first or last row, the
first page, or the last page in reverse order), so a page a million rows down costs what
the first page costs. A saved record is found the same way, by its key.

Each key action is one database round trip (:meth:`RecordService.window`): parse the
filter bar, read the rows, count them when the summaries can. Otherwise the rows are
shown first and a second worker counts them while the status line says "counting…".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from finance_tui.domain.dto import RecordRow, UndoResult
from finance_tui.domain.filters import SORT_FIELDS, RecordFilter
from finance_tui.domain.paging import Window, WindowRequest
from finance_tui.domain.views import LoadedView, SavedViewRow
from finance_tui.errors import FinanceError, NothingToUndo, ValidationError
from finance_tui.permissions import Permission
from finance_tui.textsafety import visible
from screens.base import (
    SHARED_STYLES,
    FinanceScreen,
    PaletteCommand,
    laid_out_content,
    notify_error,
)
from screens.footer import FitFooter
from screens.views import SavedViewCommands, ViewNameModal, ViewsPicker, quoted
from screens.widgets import (
    ConfirmModal,
    NavBar,
    ScreenTitle,
    TextInput,
    literal,
    record_cells,
)

if TYPE_CHECKING:
    from finance_tui.session import SessionController

WINDOW = 100
DEBOUNCE_SECONDS = 0.3
# Widths include one cell of padding on each side; a date box holds "2026-10-01" and the
# cursor after it (13), so a typed date is never shown as "026-10-01".
FILTER_FIELDS = (
    ("kind", "kind", 10),
    ("category", "category", 12),
    ("date_from", "from", 13),
    ("date_to", "to", 13),
    ("amount_min", "min", 9),
    ("amount_max", "max", 9),
    ("text", "search notes / category", 0),
)
FIELD_LABELS = {
    "kind": "Kind",
    "category": "Category",
    "date_from": "From",
    "date_to": "To",
    "amount_min": "Min amount",
    "amount_max": "Max amount",
    "text": "Search",
}
COLUMNS = (
    ("date", "Date", 10),
    ("kind", "Kind", 7),
    ("category", "Category", 16),
    ("amount", "Amount", 16),
    ("notes", "Notes", 40),  # the six columns fit 120 cells: no horizontal scrollbar
    ("created_by", "By", 14),
)
SORTABLE = {"date", "kind", "category", "amount"}


class RecordTable(DataTable):
    """DataTable whose cursor keys move over the whole result, not just loaded rows."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="record-table.up"),
        Binding("down", "move(1)", "Down", show=False, id="record-table.down"),
        Binding("pageup", "move_page(-1)", "Page up", show=False, id="record-table.page-up"),
        Binding("pagedown", "move_page(1)", "Page down", show=False, id="record-table.page-down"),
        Binding(
            "home,ctrl+home", "jump(0)", "First record", show=False, id="record-table.first-record"
        ),
        Binding(
            "end,ctrl+end", "jump(-1)", "Last record", show=False, id="record-table.last-record"
        ),
    ]

    def action_move(self, delta: int) -> None:
        self.screen.move_by(delta)  # type: ignore[attr-defined]

    def action_move_page(self, direction: int) -> None:
        step = max(self.scrollable_content_region.height - 1, 1)
        self.screen.move_by(direction * step)  # type: ignore[attr-defined]

    def action_jump(self, where: int) -> None:
        self.screen.jump_to(where)  # type: ignore[attr-defined]


def fit_parts(parts: list[tuple[str, bool]], width: int, separator: str = " · ") -> str:
    """Join ``(text, optional)`` parts; leave out optional ones, last first, until the
    line fits ``width`` cells (what remains is never cut in the middle of a number)."""
    kept = list(parts)
    while True:
        line = separator.join(text for text, _ in kept)
        optional = [i for i, (_, may_go) in enumerate(kept) if may_go]
        if cell_len(line) <= width or not optional:
            return line
        del kept[optional[-1]]


class RecordsScreen(FinanceScreen):
    """Browse, filter, sort; admins also write. Needs ``Permission.VIEW_RECORDS``."""

    TITLE = "Records"
    CSS_PATH = [*SHARED_STYLES, "../styles/records.tcss"]
    COMMANDS = FinanceScreen.COMMANDS | {SavedViewCommands}
    AUTO_FOCUS = "#records-table"
    HELP = (
        "Enter opens the highlighted record (in the form for admins). "
        "Filters apply as you type. Dates: 2026-11-25, today, yesterday, -3. "
        "Amounts: 1234.5 or 1,234.50. Several categories: food,rent. "
        "Click a column header to sort by it. "
        "w saves the filter and sort as a view of yours; v (or Ctrl+P, View:) applies one. "
        "Admins: c copies the highlighted record into a new one dated today; "
        "Ctrl+Z undoes your last change of this session (again for the one before); "
        "a adds a record from one line such as 12.50 fo lunch."
    )
    BINDINGS = [
        Binding("slash", "focus_search", "Search", key_display="/", id="records.search"),
        Binding("f", "focus_filters", "Filter", id="records.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="records.clear-filter"),
        Binding("s", "next_sort", "Sort", id="records.sort"),
        Binding("o", "reverse_sort", "Order", id="records.order"),
        Binding(
            "left_square_bracket",
            "page(-1)",
            "Prev page",
            show=False,
            key_display="[",
            id="records.prev-page",
        ),
        Binding(
            "right_square_bracket",
            "page(1)",
            "Next page",
            show=False,
            key_display="]",
            id="records.next-page",
        ),
        Binding("n", "new", "New", id="records.new"),
        Binding("a", "quick_add", "Quick add", show=False, id="records.quick-add"),
        Binding("e", "edit", "Edit", id="records.edit"),
        Binding("d", "delete", "Delete", id="records.delete"),
        Binding("t", "trash", "Trash", id="records.trash"),
        Binding("u", "restore", "Restore", id="records.restore"),
        Binding("x", "export", "Export", id="records.export"),
        Binding("c", "duplicate", "Duplicate", show=False, id="records.duplicate"),
        Binding("ctrl+z", "undo", "Undo my last change", show=False, id="records.undo"),
        Binding("f5", "reload", "Refresh", show=False, id="records.refresh"),
        Binding("w", "save_view", "Save view", show=False, id="records.save-view"),
        Binding("v", "views", "Views", show=False, id="records.views"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.flt = RecordFilter(limit=WINDOW)
        self.trash = False
        self.total = 0
        self.counted = False  # False while the count for the current filter is running
        self.window_start = 0
        self.rows: list[RecordRow] = []
        self.cursor_pos = 0
        # Where a key move is taking the cursor while its window loads: the next key
        # moves on from there, not from the row the cursor leaves (see ``move_by``).
        self.moving_to: int | None = None
        self.filter_error = ""
        self._debounce: Timer | None = None
        self.last_form_defaults: dict[str, str] = {}
        self._undo_running = False
        self._undo_pending = 0

    # ---- layout ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenTitle("Records", id="records-title")
        yield NavBar("records")
        with Horizontal(id="filter-bar"):
            for name, placeholder, width in FILTER_FIELDS:
                box = TextInput(placeholder=placeholder, id=f"filter-{name}", classes="filter")
                if width:
                    box.styles.width = width
                yield box
        yield Static("", id="filter-message")
        table = RecordTable(id="records-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="records-status")
        yield FitFooter()

    def on_mount(self) -> None:
        table = self.query_one(RecordTable)
        for key, label, width in COLUMNS:
            table.add_column(self._header(key, label), key=key, width=width)
        table.focus()
        self.reload(keep_position=False)

    def _header(self, key: str, label: str) -> Text:
        if key == self.flt.sort:
            arrow = " ▼" if self.flt.descending else " ▲"
            return Text(label + arrow, style="bold", justify="right" if key == "amount" else "left")
        return Text(label, justify="right" if key == "amount" else "left")

    def _relabel_columns(self) -> None:
        table = self.query_one(RecordTable)
        for key, label, _ in COLUMNS:
            column = table.columns.get(key)  # type: ignore[call-overload]
            if column is not None:
                column.label = self._header(key, label)
        table.refresh()

    # ---- permissions -----------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        writer = self.session.can(Permission.WRITE_RECORDS)
        if action in ("new", "edit", "delete", "duplicate", "quick_add"):
            return writer and not self.trash
        if action == "undo":
            return writer
        if action == "restore":
            return writer and self.trash
        if action == "trash":
            return self.session.can(Permission.VIEW_DELETED)
        if action == "export":
            return self.session.can(Permission.EXPORT_CSV)
        return True

    def palette_commands(self) -> Iterator[PaletteCommand]:
        if self.session.can(Permission.WRITE_RECORDS) and not self.trash:
            yield PaletteCommand("New record", "Enter a new income or expense", self.action_new)
            yield PaletteCommand(
                "Quick add", "One line such as 12.50 fo lunch is a record", self.action_quick_add
            )
            yield PaletteCommand(
                "Duplicate record",
                "A new record like the highlighted one, dated today (c)",
                self.action_duplicate,
            )
        if self.session.can(Permission.WRITE_RECORDS):
            yield PaletteCommand(
                "Undo my last change",
                "Reverse this session's newest record change, again for the one before (ctrl+z)",
                self.action_undo,
            )
        if self.session.can(Permission.VIEW_DELETED):
            label = "Leave trash" if self.trash else "Trash (deleted records)"
            yield PaletteCommand(label, "Show deleted records (restore with u)", self.action_trash)
        if self.session.can(Permission.EXPORT_CSV):
            yield PaletteCommand(
                "Export CSV",
                "Write the records of the current filter to a file",
                self.action_export,
            )
        yield PaletteCommand("Clear filters", "Show every record", self.action_clear_filter)
        yield PaletteCommand(
            "Save view", "Keep this filter and sort under a name (w)", self.action_save_view
        )
        yield PaletteCommand(
            "Saved views", "Apply, rename or delete your saved views (v)", self.action_views
        )

    # ---- loading ---------------------------------------------------------------
    def refresh_data(self) -> None:
        """Live refresh: another session changed something; keep the cursor position."""
        self.reload(keep_position=True)

    def action_reload(self) -> None:
        self.reload(keep_position=True)

    def reload(self, *, keep_position: bool, recount: bool = True) -> None:
        """Reload with the current filter: from the top, or (``keep_position``) around
        the cursor's record, read by key. ``recount=False`` keeps a known total (a sort
        change shows the same records)."""
        row = self.current_row() if keep_position else None
        if row is not None:
            self._reseek_around(row, self.cursor_pos)
            return
        count = "no" if not recount and self.counted else "cheap"
        self.counted = self.counted and count == "no"
        self.moving_to = None
        self._load(self._request("first", count=count), 0)

    def _request(self, anchor: str, **fields: Any) -> WindowRequest:
        return WindowRequest(self.flt, anchor, total=self.total if self.counted else None, **fields)

    def _reseek_around(self, row: RecordRow, target: int) -> None:
        """The window around ``row`` (saved, deleted, restored or under the cursor), by
        key; the rows on screen place it without counting (see :func:`known_positions`)."""
        known = known_positions(self.rows, self.window_start, row)
        request = self._request("around", row=row, before_rows=WINDOW // 4, known=known)
        self.moving_to = None
        self._load(request, target)

    @work(exclusive=True, group="records-load")
    async def _load(self, request: WindowRequest, target: int) -> None:
        """One key action's window in one database round trip; a newer load cancels
        this one, and a result for another filter than the current one is dropped."""
        records = self.session.records
        try:
            window = await self.fetch(lambda: records.window(request))
        except FinanceError as exc:
            self.moving_to = None
            notify_error(self, exc)
            return
        if window.flt == self.flt:
            self._apply(window, request, target)

    def _apply(self, window: Window, request: WindowRequest, target: int) -> None:
        """Show ``window``; the total from it, or from a count started now."""
        if window.total is not None:
            self.total, self.counted = window.total, True
        elif request.count != "no":
            self.counted = False
        if not self.counted:
            self.total = window.start + len(window.rows)  # provisional until counted
        if window.found is not None:
            target = window.start + window.found
        last = window.start + len(window.rows) - 1
        self._show(window.start, window.rows, max(0, min(target, last)))
        if not self.counted:
            self._count(window.flt)

    @work(exclusive=True, group="records-count")
    async def _count(self, flt: RecordFilter) -> None:
        """The total the summaries cannot give (free text, amounts, days, the trash),
        counted after the rows are shown: the status line says "counting…" meanwhile,
        and keys keep working (pages move by key, without the total)."""
        records = self.session.records
        try:
            total = await self.fetch(lambda: records.count(flt))
        except FinanceError as exc:
            notify_error(self, exc)
            return
        if flt == self.flt:
            self.total, self.counted = total, True
            self._update_status()

    def _show(self, offset: int, rows: list[RecordRow], position: int) -> None:
        self.window_start = offset
        self.rows = rows
        table = self.query_one(RecordTable)
        table.clear()
        for row in rows:
            table.add_row(*self._cells(row), key=str(row.id))
        self.cursor_pos = position
        self.moving_to = None
        if rows:
            table.move_cursor(row=max(0, min(position - offset, len(rows) - 1)), animate=False)
        self._update_status()

    def _cells(self, row: RecordRow) -> list[Any]:
        who = row.deleted_by if self.trash else row.created_by
        return [*record_cells(row), literal(who or "")]

    def _status_parts(self) -> list[tuple[str, bool]]:
        """The status line's parts in order, each with whether it may be left out when
        the line is too wide (a million records make every number seven digits)."""
        parts: list[tuple[str, bool]] = []
        noun = "deleted record" if self.trash else "record"
        if not self.counted:
            parts.append((f"counting {noun}s…", False))
            if self.rows:
                parts.append((f"#{self.cursor_pos + 1:,}", False))
        else:
            parts.append((f"{self.total:,} {noun}{'' if self.total == 1 else 's'}", False))
        if self.counted and self.total:
            parts.append((f"#{self.cursor_pos + 1:,} of {self.total:,}", False))
            first, last = self.window_start + 1, self.window_start + len(self.rows)
            parts.append((f"rows {first:,}–{last:,} loaded", True))
        order = "descending" if self.flt.descending else "ascending"
        parts.append((f"sorted by {self.flt.sort} ({order})", False))
        if self.trash:
            parts.append(("TRASH — u restores", False))
        return parts

    def _update_status(self) -> None:
        """Runs on every cursor move. Both bars are one line high (records.tcss,
        widgets.tcss), so new text is painted in place, without a layout of the screen."""
        status = self.query_one("#records-status", Static)
        width = laid_out_content(status)[0] or self.app.size.width
        status.update(Text(fit_parts(self._status_parts(), width)), layout=False)
        self.query_one("#records-title", ScreenTitle).update(
            "Records — trash" if self.trash else "Records", layout=False
        )

    def on_resize(self) -> None:
        self._update_status()

    # ---- cursor over the whole result --------------------------------------------
    def move_by(self, delta: int) -> None:
        """Move from where the cursor is going: ``[`` twice while the first page loads
        goes two pages back, not one."""
        start = self.cursor_pos if self.moving_to is None else self.moving_to
        self.jump_to(max(0, min(start + delta, self.total - 1)))

    def jump_to(self, position: int) -> None:
        if self.total <= 0:
            return
        if position < 0:
            position = self.total - 1
        position = max(0, min(position, self.total - 1))
        if self.window_start <= position < self.window_start + len(self.rows):
            if self.moving_to is not None:  # back inside the rows shown: that load is moot
                self.workers.cancel_group(self, "records-load")
                self.moving_to = None
            self.cursor_pos = position
            self.query_one(RecordTable).move_cursor(row=position - self.window_start, animate=False)
            self._update_status()
        else:
            self._load_window(position)

    def _load_window(self, position: int) -> None:
        """Load the window that shows ``position`` (outside the loaded one), by key from
        the loaded window's edge, or the first / last page: the same cost at any depth.
        Only a jump further than a window from the loaded one (no key makes it) is read
        by OFFSET, from the nearer end."""
        anchor, index = seek_plan(position, self.window_start, len(self.rows), self.total)
        if anchor in ("after", "before"):
            row = self.rows[index]
            request = self._request(anchor, row=row, position=self.window_start + index)
        elif anchor == "offset":
            request = self._request("offset", offset=_window_start(position, self.total))
        else:
            request = self._request(anchor)
        self._load(replace(request, count="no"), position)
        self.moving_to = position

    def action_page(self, direction: int) -> None:
        self.move_by(direction * WINDOW)

    @on(DataTable.RowHighlighted, "#records-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.rows and 0 <= event.cursor_row < len(self.rows):
            self.cursor_pos = self.window_start + event.cursor_row  # mouse clicks land here too
            self._update_status()

    def current_row(self) -> RecordRow | None:
        index = self.cursor_pos - self.window_start
        if 0 <= index < len(self.rows):
            return self.rows[index]
        return None

    # ---- filter bar --------------------------------------------------------------
    @on(Input.Changed, ".filter")
    def _filter_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self.apply_filter)

    @on(Input.Submitted, ".filter")
    def _filter_submitted(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.apply_filter()
        self.query_one(RecordTable).focus()

    def filter_values(self) -> dict[str, str]:
        return {
            name: self.query_one(f"#filter-{name}", Input).value for name, _, _ in FILTER_FIELDS
        }

    def apply_filter(self) -> None:
        """Parse the filter bar, read the first rows and (when cheap) count them, in
        one database round trip; a filter equal to the one shown changes nothing."""
        request = self._request(
            "first",
            raw=self.filter_values(),
            today=self.shell.clock.today(),
            count="cheap",
        )
        self._load_filter(request)

    @work(exclusive=True, group="records-filter")
    async def _load_filter(self, request: WindowRequest) -> None:
        records = self.session.records
        try:
            window = await self.fetch(lambda: records.window(request))
        except ValidationError as exc:
            self._show_filter_errors(exc.fields)
            return
        except FinanceError as exc:
            notify_error(self, exc)
            return
        self._show_filter_errors({})
        if not window.changed:
            return
        if _view_of(window.flt) != _view_of(self.flt):
            self.apply_filter()  # sorted or switched to the trash meanwhile: read again
            return
        self.workers.cancel_group(self, "records-load")  # pages of the old filter
        self.flt = window.flt
        self._apply(window, request, 0)

    def _show_filter_errors(self, errors: dict[str, str]) -> None:
        for name, _, _ in FILTER_FIELDS:
            self.query_one(f"#filter-{name}", Input).set_class(name in errors, "-invalid")
        message = " · ".join(
            f"{FIELD_LABELS.get(name, name)} {text}" for name, text in errors.items()
        )
        self.filter_error = message
        widget = self.query_one("#filter-message", Static)
        widget.update(literal(message))
        widget.set_class(bool(message), "-error")

    def action_focus_search(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def action_focus_filters(self) -> None:
        self.query_one("#filter-kind", Input).focus()

    def action_clear_filter(self) -> None:
        boxes = [self.query_one(f"#filter-{name}", Input) for name, _, _ in FILTER_FIELDS]
        had_text = any(box.value for box in boxes)
        for box in boxes:
            with box.prevent(Input.Changed):
                box.value = ""
        if self._debounce is not None:
            self._debounce.stop()
        self._show_filter_errors({})
        self.query_one(RecordTable).focus()
        if had_text or self.flt != RecordFilter(
            sort=self.flt.sort,
            descending=self.flt.descending,
            only_deleted=self.trash,
            limit=WINDOW,
        ):
            self.apply_filter()

    # ---- sorting -----------------------------------------------------------------
    def action_next_sort(self) -> None:
        order = [f for f in SORT_FIELDS if f in SORTABLE]
        current = order.index(self.flt.sort) if self.flt.sort in order else -1
        self.sort_by(order[(current + 1) % len(order)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.flt.sort, descending=not self.flt.descending)

    @on(DataTable.HeaderSelected, "#records-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key not in SORTABLE:
            return
        if key == self.flt.sort:
            self.sort_by(key, descending=not self.flt.descending)
        else:
            self.sort_by(key)

    def sort_by(self, field: str, *, descending: bool | None = None) -> None:
        if descending is None:
            descending = field in ("date", "amount")  # newest / largest first
        self.flt = replace(self.flt, sort=field, descending=descending)
        self._relabel_columns()
        self.reload(keep_position=False, recount=False)

    # ---- opening and writing -------------------------------------------------------
    @on(DataTable.RowSelected, "#records-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.current_row()
        if row is None:
            return
        if self.session.can(Permission.WRITE_RECORDS) and not self.trash:
            self._open_form(row)
        else:
            from screens.record_form import RecordView

            self.app.push_screen(RecordView(row))

    def action_new(self) -> None:
        if not self.check_action("new", ()):
            return
        self._open_form(None)

    def action_quick_add(self) -> None:
        """One line per record (``12.50 fo lunch``); the list shows each one saved."""
        if not self.check_action("quick_add", ()):
            return
        from screens.quick_add import QuickAddModal

        def saved(row: RecordRow) -> None:
            self._saved(row, self.last_form_defaults)  # the form keeps its own defaults

        self.app.push_screen(QuickAddModal(self.session, on_saved=saved))

    def action_edit(self) -> None:
        row = self.current_row()
        if row is None or not self.check_action("edit", ()):
            return
        self._open_form(row)

    def action_duplicate(self) -> None:
        row = self.current_row()
        if row is None or not self.check_action("duplicate", ()):
            return
        self._open_form(None, template=row)

    def _open_form(self, row: RecordRow | None, *, template: RecordRow | None = None) -> None:
        from screens.record_form import RecordForm

        form = RecordForm(
            self.session,
            record=row,
            defaults=self.last_form_defaults,
            on_saved=self._saved,
            template=template,
        )
        self.app.push_screen(form)

    def _saved(self, row: RecordRow, defaults: dict[str, str]) -> None:
        """Reload with the saved record selected where the filter and sort put it: the
        window is read around it by key, at any depth."""
        self.last_form_defaults = defaults
        self._select(row)

    def _select(self, row: RecordRow) -> None:
        """Reload with ``row`` selected where the filter and sort put it (if they show
        it): the window is read around it by key, at any depth."""
        self._reseek_around(row, self.cursor_pos)

    def action_delete(self) -> None:
        row = self.current_row()
        if row is None or not self.check_action("delete", ()):
            return
        message = (
            f"Delete this record?\n\n{row.date}  {row.kind}  {row.amount:,.2f}  {row.category}\n"
            f"{row.notes}\n\nIt goes to the trash (t) and can be restored."
        )

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            self.call_db(
                lambda: self.session.records.delete(row.id, row.version),
                lambda _: self._reseek_around(row, self.cursor_pos),
                success="Record deleted (restore it from the trash)",
                group="records-write",
            )

        self.app.push_screen(ConfirmModal(message, yes="Delete"), answered)

    def action_trash(self) -> None:
        if not self.check_action("trash", ()):
            return
        self.trash = not self.trash
        self.flt = replace(self.flt, only_deleted=self.trash)
        self.refresh_bindings()
        self.reload(keep_position=False)

    def action_export(self) -> None:
        if not self.check_action("export", ()):
            return
        from screens.import_export import export_records

        export_records(self, self.session, self.flt)

    # ---- undo ------------------------------------------------------------------------
    def action_undo(self) -> None:
        """Undo this session's last record change; presses during one queue up, so each
        press undoes exactly one change, in order."""
        if not self.check_action("undo", ()):
            return
        self._undo_pending += 1
        if not self._undo_running:
            self._undo_next()

    def _undo_next(self) -> None:
        self._undo_pending -= 1
        self._undo_running = True
        session, today = self.session, self.shell.clock.today()

        def done(result: UndoResult) -> None:
            self._undo_running = False
            self.app.notify(result.message, markup=False)
            if self._undo_pending > 0:
                self._undo_next()
            else:
                self._select(result.record)

        def failed(exc: FinanceError) -> bool:
            self._undo_running = False
            self._undo_pending = 0  # stop at a refusal: the message needs reading first
            self.reload(keep_position=True)
            if isinstance(exc, NothingToUndo):
                self.app.notify(str(exc), markup=False)
                return True
            return False

        self.call_db(
            lambda: session.undo.undo_last(today=today), done, on_error=failed, group="records-undo"
        )

    def action_restore(self) -> None:
        row = self.current_row()
        if row is None or not self.check_action("restore", ()):
            return
        self.call_db(
            lambda: self.session.records.restore(row.id),
            lambda _: self._reseek_around(row, self.cursor_pos),
            success="Record restored",
            group="records-write",
        )

    # ---- saved views -------------------------------------------------------------
    def action_save_view(self) -> None:
        """Ask for a name; the filter bar's text and the sort are saved as they are."""
        fields, views = self.filter_values(), self.session.views
        sort, descending, today = self.flt.sort, self.flt.descending, self.shell.clock.today()

        def save(name: str, replace_existing: bool) -> SavedViewRow:
            return views.save(
                name,
                fields,
                sort=sort,
                descending=descending,
                replace_existing=replace_existing,
                today=today,
            )

        def saved(row: SavedViewRow | None) -> None:
            if row is not None:
                self.app.notify(f"Saved the view {quoted(row.name)}", markup=False)

        dialog = ViewNameModal("Save this filter and sort as a view", save, labels=FIELD_LABELS)
        self.app.push_screen(dialog, saved)

    def action_views(self) -> None:
        def chosen(name: str | None) -> None:
            if name is not None:
                self.recall_view(name)

        self.app.push_screen(ViewsPicker(self.session), chosen)

    def recall_view(self, name: str) -> None:
        """Apply the saved view ``name`` (from the picker or the palette)."""
        views, today = self.session.views, self.shell.clock.today()
        self.call_db(lambda: views.load(name, today=today), self.apply_view, group="views-load")

    def apply_view(self, view: LoadedView) -> None:
        """Show the view's text in the filter bar and load its filter and sort; say
        what it had to drop (an archived category, a value no longer valid)."""
        if self._debounce is not None:
            self._debounce.stop()
        for field, _, _ in FILTER_FIELDS:
            box = self.query_one(f"#filter-{field}", Input)
            with box.prevent(Input.Changed):
                box.value = visible(view.fields.get(field, ""))
        self._show_filter_errors({})
        self.flt = replace(view.filter, only_deleted=self.trash, limit=WINDOW)
        self._relabel_columns()
        self.query_one(RecordTable).focus()
        self.reload(keep_position=False)
        message = f"Applied the view {quoted(view.name)}"
        if view.warnings:
            lines = "\n".join(f"• {visible(warning)}" for warning in view.warnings)
            self.app.notify(f"{message}:\n{lines}", severity="warning", markup=False, timeout=10)
        else:
            self.app.notify(message, markup=False)


def _window_start(position: int, total: int) -> int:
    """Start of the window that shows ``position`` a quarter of the way down."""
    return max(0, min(position - WINDOW // 4, total - WINDOW))


def _view_of(flt: RecordFilter) -> tuple[str, bool, bool]:
    """What the screen sets on the filter besides the filter bar."""
    return flt.sort, flt.descending, flt.only_deleted


def seek_plan(position: int, start: int, size: int, total: int) -> tuple[str, int]:
    """How to reach ``position`` from the window ``start .. start + size``: ``("after",
    i)`` / ``("before", i)`` seek from the window's row ``i``, chosen so ``position``
    lands about a quarter of the way down; ``first`` / ``last`` pages; or ``offset``
    for a jump further than one window."""
    wanted = _window_start(position, total)
    if wanted == 0:
        return "first", 0
    if wanted + WINDOW >= total:
        return "last", 0
    end = start + size
    if size and end <= position < end + WINDOW:
        return "after", max(min(wanted - 1, end - 1), start) - start
    if size and start - WINDOW <= position < start:
        return "before", min(max(wanted + WINDOW, start), end - 1) - start
    return "offset", 0


def known_positions(rows: list[RecordRow], start: int, row: RecordRow) -> dict[UUID, int]:
    """Positions of the window's rows, not counting ``row`` (the rows after it move up
    one): where they stand whatever became of ``row`` (saved elsewhere, deleted)."""
    known: dict[UUID, int] = {}
    passed = 0
    for index, other in enumerate(rows):
        if other.id == row.id:
            passed = 1
            continue
        known[other.id] = start + index - passed
    return known
