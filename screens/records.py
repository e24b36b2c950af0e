"""Records: a window of rows fed from the query service, a live filter bar, sorting,
and (for admins) create / edit / delete / restore.

The table never holds more than one window (:data:`WINDOW` rows). The cursor moves over
the *whole* result: arrow keys, PageUp/PageDown, Home/End and ``[``/``]`` compute an
absolute position and, when it falls outside the loaded window, a worker fetches the
window around it. Deep positions are read from the nearer end (the order reversed),
so End on a million rows costs no more than Home.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from finance_tui.domain.dto import RecordRow
from finance_tui.domain.filters import SORT_FIELDS, RecordFilter
from finance_tui.errors import FinanceError, ValidationError
from finance_tui.permissions import Permission
from screens.base import FinanceScreen, PaletteCommand, forget, notify_error
from screens.widgets import (
    ConfirmModal,
    FitFooter,
    NavBar,
    ScreenTitle,
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
    CSS_PATH = "../styles/records.tcss"
    AUTO_FOCUS = "#records-table"
    HELP = (
        "Enter opens the highlighted record (in the form for admins). "
        "Filters apply as you type. Dates: 2026-11-25, today, yesterday, -3. "
        "Amounts: 1234.5 or 1,234.50. Several categories: food,rent. "
        "Click a column header to sort by it. Admins: a adds a record from one line "
        "such as 12.50 fo lunch."
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
        Binding("f5", "reload", "Refresh", show=False, id="records.refresh"),
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
        self.filter_error = ""
        self._debounce: Timer | None = None
        self.last_form_defaults: dict[str, str] = {}

    # ---- layout ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenTitle("Records", id="records-title")
        yield NavBar("records")
        with Horizontal(id="filter-bar"):
            for name, placeholder, width in FILTER_FIELDS:
                box = Input(placeholder=placeholder, id=f"filter-{name}", classes="filter")
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
        if action in ("new", "edit", "delete", "quick_add"):
            return writer and not self.trash
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

    # ---- loading ---------------------------------------------------------------
    def refresh_data(self) -> None:
        """Live refresh: another session changed something; keep the cursor position."""
        self.reload(keep_position=True)

    def action_reload(self) -> None:
        self.reload(keep_position=True)

    def reload(self, *, keep_position: bool) -> None:
        """Reload with the current filter.

        From the top, the first rows and the count are fetched in parallel (the count
        is the slow part at a million rows); keeping a deeper position needs the count
        first to find the window again. Each load is an exclusive worker of one group:
        a newer load (reload, page, sort, filter) cancels the one under way, so a stale
        result never replaces a newer one.
        """
        target = self.cursor_pos if keep_position else 0
        if target > 0:
            self._load_at(self.flt, target)
            return
        self.counted = False
        self._load_from_top(self.flt)

    @work(exclusive=True, group="records-load")
    async def _load_at(self, flt: RecordFilter, target: int) -> None:
        records = self.session.records

        def call() -> tuple[int, int, list[RecordRow]]:
            total = records.count(flt)
            position = min(target, max(total - 1, 0))
            offset = _window_start(position, total)
            return total, offset, _fetch(records, flt, offset, total)

        try:
            total, offset, rows = await self.shell.run_db(call)
        except FinanceError as exc:
            notify_error(self, exc)
            return
        self.total, self.counted = total, True
        self._show(offset, rows, min(target, max(total - 1, 0)))

    @work(exclusive=True, group="records-load")
    async def _load_from_top(self, flt: RecordFilter) -> None:
        records = self.session.records
        counting = asyncio.ensure_future(self.shell.run_db(lambda: records.count(flt)))
        try:
            rows = await self.shell.run_db(lambda: _fetch(records, flt, 0, 0))
            if not self.counted:
                self.total = len(rows)  # provisional until the count arrives
            self._show(0, rows, 0)
            total = await counting
        except FinanceError as exc:
            notify_error(self, exc)
            return
        finally:
            forget(counting)
        self.total, self.counted = total, True
        self._update_status()

    def _load_window(self, position: int) -> None:
        self._fetch_window(self.flt, self.total, position)

    @work(exclusive=True, group="records-load")
    async def _fetch_window(self, flt: RecordFilter, total: int, position: int) -> None:
        offset = _window_start(position, total)
        records = self.session.records
        try:
            rows = await self.shell.run_db(lambda: _fetch(records, flt, offset, total))
        except FinanceError as exc:
            notify_error(self, exc)
            return
        self._show(offset, rows, position)

    def _show(self, offset: int, rows: list[RecordRow], position: int) -> None:
        self.window_start = offset
        self.rows = rows
        table = self.query_one(RecordTable)
        table.clear()
        for row in rows:
            table.add_row(*self._cells(row), key=str(row.id))
        self.cursor_pos = position
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
        status = self.query_one("#records-status", Static)
        width = status.content_region.width or self.app.size.width
        self.query_one("#records-status", Static).update(
            Text(fit_parts(self._status_parts(), width))
        )
        self.query_one("#records-title", ScreenTitle).update(
            "Records — trash" if self.trash else "Records"
        )

    def on_resize(self) -> None:
        self._update_status()

    # ---- cursor over the whole result --------------------------------------------
    def move_by(self, delta: int) -> None:
        self.jump_to(max(0, min(self.cursor_pos + delta, self.total - 1)))

    def jump_to(self, position: int) -> None:
        if self.total <= 0:
            return
        if position < 0:
            position = self.total - 1
        position = max(0, min(position, self.total - 1))
        if self.window_start <= position < self.window_start + len(self.rows):
            self.cursor_pos = position
            self.query_one(RecordTable).move_cursor(row=position - self.window_start, animate=False)
            self._update_status()
        else:
            self._load_window(position)

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
        raw = self.filter_values()
        today = self.shell.clock.today()
        base = self.flt

        def call() -> RecordFilter:
            parsed = self.session.record_filter(raw, today=today)
            return replace(
                parsed,
                sort=base.sort,
                descending=base.descending,
                only_deleted=self.trash,
                limit=WINDOW,
            )

        def done(flt: RecordFilter) -> None:
            self._show_filter_errors({})
            if flt != self.flt:
                self.flt = flt
                self.reload(keep_position=False)

        def failed(exc: FinanceError) -> bool:
            if isinstance(exc, ValidationError):
                self._show_filter_errors(exc.fields)
                return True
            return False

        self.call_db(call, done, on_error=failed, group="records-filter", exclusive=True)

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
        self.reload(keep_position=False)

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

    def _open_form(self, row: RecordRow | None) -> None:
        from screens.record_form import RecordForm

        form = RecordForm(
            self.session,
            record=row,
            defaults=self.last_form_defaults,
            on_saved=self._saved,
        )
        self.app.push_screen(form)

    def _saved(self, row: RecordRow, defaults: dict[str, str]) -> None:
        """Reload with the saved record selected (where the filter and sort put it)."""
        self.last_form_defaults = defaults
        flt, records = self.flt, self.session.records

        def located(position: int | None) -> None:
            if position is not None:
                self.cursor_pos = position
            self.reload(keep_position=True)

        self.call_db(
            lambda: records.position(flt, row),
            located,
            group="records-locate",
        )

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
                lambda _: self.reload(keep_position=True),
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

    def action_restore(self) -> None:
        row = self.current_row()
        if row is None or not self.check_action("restore", ()):
            return
        self.call_db(
            lambda: self.session.records.restore(row.id),
            lambda _: self.reload(keep_position=True),
            success="Record restored",
            group="records-write",
        )


def _window_start(position: int, total: int) -> int:
    """Start of the window that shows ``position`` a quarter of the way down."""
    return max(0, min(position - WINDOW // 4, total - WINDOW))


def _fetch(records: Any, flt: RecordFilter, offset: int, total: int) -> list[RecordRow]:
    """Rows ``offset .. offset+WINDOW`` of the result, reading from the nearer end."""
    limit = min(WINDOW, max(total - offset, 0)) or WINDOW
    if total and offset > total // 2:
        reverse_offset = max(total - offset - limit, 0)
        flipped = replace(flt, descending=not flt.descending)
        page = records.list(flipped.page(reverse_offset, limit), with_total=False)
        return list(reversed(page.rows))
    return records.list(flt.page(offset, limit), with_total=False).rows
