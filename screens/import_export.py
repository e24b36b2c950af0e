"""CSV in the TUI: the Import screen (admins) and the Export dialog of the records screen.

Both run the core's streaming import/export (``session.csv``) in a thread worker and
show a progress bar with rows/s and ETA; the screen stays responsive and the work can be
cancelled (a cancelled import writes nothing, a cancelled export leaves no file). The
Import screen adds a column-mapping step: after reading the file's header, each record
field gets a drop-down of the file's columns, pre-filled with the best guess.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)

from finance_tui.config import user_path
from finance_tui.domain.csv_options import (
    ExportCancelled,
    ExportReport,
    ImportCancelled,
    ImportOptions,
    ImportRejected,
    ImportReport,
    format_progress,
    guess_columns,
)
from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import FinanceError
from finance_tui.permissions import Permission
from screens.base import SHARED_STYLES, FinanceModal, FinanceScreen, PaletteCommand
from screens.footer import FitFooter
from screens.widgets import (
    ConfirmModal,
    NavBar,
    ScreenTitle,
    TextInput,
    TickBox,
    literal,
)

if TYPE_CHECKING:
    from finance_tui.session import SessionController

MAPPED_FIELDS = ("date", "kind", "amount", "category", "notes", "id")
PROGRESS_EVERY = 0.1  # seconds between progress updates sent to the UI thread
RAW_LABEL = "Raw text (no spreadsheet protection)"


class _Progress:
    """Throttled progress callback for a worker thread; also cancels on app shutdown."""

    def __init__(
        self,
        node: Widget,
        target: Callable[[int, int | None, float], None],
        cancel: threading.Event,
    ) -> None:
        self.node = node
        self.target = target
        self.cancel = cancel
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        try:
            self.node.app.call_from_thread(self.target, done, total, now - self.started)
        except RuntimeError:  # the app is shutting down: stop the work, write nothing
            self.cancel.set()


class ImportScreen(FinanceScreen):
    """Pick a file, check the column mapping, import with progress; see the report."""

    TITLE = "Import"
    CSS_PATH = [*SHARED_STYLES, "../styles/import_export.tcss"]
    # Below 100 columns the options and the column mapping take their compact form.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#import-file"
    HELP = (
        "Type the CSV file's path and press Enter to read its columns; check which column "
        "holds each field (a signed amount without a kind column is fine: negative = "
        "expense). Leave delimiter and encoding empty to detect them; give a date format "
        "such as %d/%m/%Y for non-ISO dates. Import is all or nothing unless 'Skip invalid "
        "rows' is ticked; importing the same file twice adds nothing. A text that "
        "export protected with a leading ' (because it begins with = + - @ TAB CR or ') "
        "loses that ' again, unless 'Raw text' is ticked. Escape cancels a running "
        "import (nothing is written)."
    )
    BINDINGS = [
        Binding("ctrl+r", "read_columns", "Read columns", id="import.read-columns"),
        Binding("ctrl+s", "start", "Import", id="import.import"),
        Binding("escape", "cancel", "Cancel import", id="import.cancel-import"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.header: list[str] = []
        self.running = False
        self.cancel_event = threading.Event()
        self.report: ImportReport | None = None
        self.outcome = ""

    # ---- layout ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ScreenTitle("Import CSV", id="import-title")
        yield NavBar("import")
        with Vertical(id="import-form"):
            with Horizontal(classes="import-row"):
                yield Label("File", classes="import-label")
                yield TextInput(placeholder="path/to/records.csv", id="import-file")
                yield Button("Read columns", id="import-read")
            with Horizontal(classes="import-row"):
                yield Label("Delimiter", classes="import-label")
                yield TextInput(placeholder="auto", id="import-delimiter", classes="import-small")
                yield Label("Encoding", classes="import-label")
                yield TextInput(placeholder="auto", id="import-encoding", classes="import-small")
                yield Label("Date format", classes="import-label")
                yield TextInput(placeholder="YYYY-MM-DD", id="import-date-format")
            with Horizontal(classes="import-row", id="import-checks"):
                yield TickBox("Skip invalid rows", id="import-skip")
                yield TickBox("Create categories", id="import-create")
                yield TickBox("Dry run (write nothing)", id="import-dry")
            yield Static("Columns: read the file to check them", id="import-columns-note")
            with Horizontal(id="import-mapping"):
                for field in MAPPED_FIELDS:
                    with Vertical(classes="import-map"):
                        yield Label(field, classes="import-map-label")
                        yield Select(
                            [], prompt="(none)", id=f"map-{field}", classes="import-select"
                        )
            with Horizontal(classes="import-row", id="import-buttons"):
                yield Button("Import", id="import-start", variant="primary")
                yield Button("Cancel", id="import-cancel", variant="warning", disabled=True)
                yield TickBox(RAW_LABEL, id="import-raw")  # no room left in the row above
        yield ProgressBar(id="import-progress", show_eta=False)
        yield Static("", id="import-rate")
        yield Static("", id="import-summary")
        yield DataTable(id="import-errors", cursor_type="row", zebra_stripes=True)
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#import-progress", ProgressBar).display = False  # until a run starts
        table = self.query_one("#import-errors", DataTable)
        table.add_column("Line", key="line", width=7)
        table.add_column("Field", key="field", width=12)
        table.add_column("Problem", key="problem")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        if action in ("start", "read_columns"):
            return self.session.can(Permission.IMPORT_CSV) and not self.running
        return True

    def palette_commands(self) -> Iterator[PaletteCommand]:
        if self.session.can(Permission.IMPORT_CSV) and not self.running:
            yield PaletteCommand(
                "Import the file", "Start importing the chosen CSV file", self.action_start
            )

    # ---- reading the header (column-mapping step) ---------------------------------
    def _value(self, name: str) -> str:
        return self.query_one(f"#import-{name}", Input).value.strip()

    @on(Input.Submitted, "#import-file")
    @on(Button.Pressed, "#import-read")
    def action_read_columns(self) -> None:
        path = self._value("file")
        if not path:
            self._say("Type the path of a CSV file first", error=True)
            return
        encoding = self._value("encoding") or None
        delimiter = self._value("delimiter") or None

        def call() -> tuple[list[str], str, str]:
            return self.session.csv.preview_header(path, encoding=encoding, delimiter=delimiter)

        def failed(exc: FinanceError) -> bool:
            self._say(str(exc), error=True)
            return False

        self.call_db(call, self._show_header, on_error=failed, group="import-header")

    def _show_header(self, result: tuple[list[str], str, str]) -> None:
        header, delimiter, encoding = result
        self.header = header
        guess = guess_columns(header)
        options = [(literal(name or f"(column {i + 1})"), name) for i, name in enumerate(header)]
        for field in MAPPED_FIELDS:
            select = self.query_one(f"#map-{field}", Select)
            select.set_options(options)
            if field in guess:
                select.value = header[guess[field]]
        shown = "TAB" if delimiter == "\t" else delimiter
        note = f"{len(header)} columns, delimiter {shown!r}, encoding {encoding}"
        missing = [f for f in ("date", "amount", "category") if f not in guess]
        if missing:
            note += f" — choose the column for: {', '.join(missing)}"
        elif "kind" not in guess:
            note += " — no kind column: the amount's sign gives the kind"
        self.query_one("#import-columns-note", Static).update(literal(note))

    def mapping(self) -> dict[str, str]:
        """{field: header} for every field whose column was chosen."""
        chosen: dict[str, str] = {}
        for field in MAPPED_FIELDS:
            value = self.query_one(f"#map-{field}", Select).value
            if isinstance(value, str) and value:
                chosen[field] = value
        return chosen

    def options(self) -> ImportOptions:
        return ImportOptions(
            mapping=self.mapping(),
            delimiter=self._value("delimiter") or None,
            encoding=self._value("encoding") or None,
            date_format=self._value("date-format") or None,
            skip_invalid=self.query_one("#import-skip", Checkbox).value,
            create_categories=self.query_one("#import-create", Checkbox).value,
            dry_run=self.query_one("#import-dry", Checkbox).value,
            raw=self.query_one("#import-raw", Checkbox).value,
            today=self.shell.clock.today(),
        )

    # ---- running ------------------------------------------------------------------
    @on(Button.Pressed, "#import-start")
    def action_start(self) -> None:
        if self.running:
            return
        path = self._value("file")
        if not path:
            self._say("Type the path of a CSV file first", error=True)
            return
        options = self.options()
        self.cancel_event = threading.Event()
        progress = _Progress(self, self._progress, self.cancel_event)
        self._set_running(True)
        self._clear_report()
        self._say(f"Importing {path} …")

        def call() -> ImportReport:
            return self.session.csv.import_file(
                path, options, progress=progress, cancel=self.cancel_event
            )

        self.call_db(
            call, self._finished, on_error=self._failed, group="import-run", exclusive=True
        )

    @on(Button.Pressed, "#import-cancel")
    def action_cancel(self) -> None:
        if self.running:
            self.cancel_event.set()
            self._say("Cancelling … nothing will be written")

    def on_unmount(self) -> None:
        self.cancel_event.set()

    def _progress(self, done: int, total: int | None, elapsed: float) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=total, progress=done)
        self.query_one("#import-rate", Static).update(
            format_progress("imported", done, total, elapsed)
        )

    def _finished(self, report: ImportReport) -> None:
        self._set_running(False)
        self.report = report
        self.outcome = "dry run" if report.dry_run else "imported"
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=max(report.rows, 1), progress=max(report.rows, 1))
        self.query_one("#import-rate", Static).update(f"{report.rows:,} rows read")
        suffix = " — dry run, nothing written" if report.dry_run else ""
        lines = [report.summary() + suffix, *report.lines()]
        self._say("\n".join(lines))
        self._fill_errors(report)
        self.app.notify(report.summary(), markup=False)

    def _failed(self, exc: FinanceError) -> bool:
        self._set_running(False)
        self.query_one("#import-rate", Static).update("")
        self.query_one("#import-progress", ProgressBar).display = False
        if isinstance(exc, ImportRejected):
            self.report = exc.report
            self.outcome = "rejected"
            details = [line for line in exc.report.lines() if not line.startswith("line ")]
            self._say("\n".join([exc.headline + " — nothing was written", *details]), True)
            self._fill_errors(exc.report)
            self.query_one("#import-errors", DataTable).focus()
            return True
        if isinstance(exc, ImportCancelled):
            self.outcome = "cancelled"
            self._say(str(exc), error=True)
            return True
        self.outcome = "failed"
        self._say(str(exc), error=True)
        return False  # also shown as a notification (and handles an expired session)

    # ---- helpers ------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        self.running = running
        for widget in self.query("#import-form Input, #import-form Checkbox, Select"):
            widget.disabled = running
        self.query_one("#import-start", Button).disabled = running
        self.query_one("#import-read", Button).disabled = running
        self.query_one("#import-cancel", Button).disabled = not running
        self.refresh_bindings()

    def _clear_report(self) -> None:
        self.report = None
        self.outcome = ""
        self.query_one("#import-errors", DataTable).clear()
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True

    def _fill_errors(self, report: ImportReport) -> None:
        table = self.query_one("#import-errors", DataTable)
        table.clear()
        for error in report.errors:
            table.add_row(
                Text(str(error.line), justify="right"),
                literal(error.field),
                literal(error.message),
            )

    def _say(self, message: str, error: bool = False) -> None:
        summary = self.query_one("#import-summary", Static)
        summary.update(literal(message, single_line=False))
        summary.set_class(error, "-error")

    @property
    def summary_text(self) -> str:
        content = self.query_one("#import-summary", Static).content
        return content.plain if isinstance(content, Text) else str(content)


class ExportModal(FinanceModal[ExportReport | None]):
    """Export what the records screen's filter shows (every page) to a CSV file."""

    CSS_PATH = [*SHARED_STYLES, "../styles/import_export.tcss"]
    BINDINGS = [Binding("escape", "close", "Cancel", id="export.cancel")]

    def __init__(
        self, session: SessionController, flt: RecordFilter, *, default_path: str | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.flt = replace(flt, offset=0)
        self.default_path = default_path or "records.csv"
        self.running = False
        self.cancel_event = threading.Event()
        self.total: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Static("Export records to CSV", id="export-title")
            yield Static(literal(describe_filter(self.flt)), id="export-filter")
            with Horizontal(classes="import-row"):
                yield Label("File", classes="import-label")
                yield TextInput(self.default_path, id="export-file")
            yield TickBox(RAW_LABEL, id="export-raw")
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static("", id="export-rate")
            yield Static("", id="export-message")
            with Horizontal(id="export-buttons"):
                yield Button("Export", id="export-start", variant="primary")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-progress", ProgressBar).display = False  # until it starts
        self.query_one("#export-file", Input).focus()
        self.call_db(
            lambda: self.session.records.count(self.flt),
            self._counted,
            on_error=lambda exc: True,  # the export itself reports any refusal
            group="export-count",
        )

    def _counted(self, total: int) -> None:
        self.total = total
        word = "record" if total == 1 else "records"
        self.query_one("#export-title", Static).update(f"Export {total:,} {word} to CSV")

    @on(Input.Submitted, "#export-file")
    @on(Button.Pressed, "#export-start")
    def start(self) -> None:
        if self.running:
            return
        path = Path(self.query_one("#export-file", Input).value.strip() or "records.csv")
        if _exists(path):

            def answered(yes: bool | None) -> None:
                if yes:
                    self._run(path)

            self.app.push_screen(
                ConfirmModal(f"{path} exists. Overwrite it?", yes="Overwrite"), answered
            )
            return
        self._run(path)

    def _run(self, path: Path) -> None:
        self.running = True
        self.cancel_event = threading.Event()
        progress = _Progress(self, self._progress, self.cancel_event)
        self.query_one("#export-start", Button).disabled = True
        self.query_one("#export-file", Input).disabled = True
        raw_box = self.query_one("#export-raw", Checkbox)
        raw_box.disabled = True
        raw = raw_box.value  # read here: the worker thread must not touch widgets
        self.query_one("#export-progress", ProgressBar).display = True
        self._say(f"Exporting to {path} …")

        def call() -> ExportReport:
            return self.session.csv.export(
                self.flt,
                user_path(path),
                progress=progress,
                cancel=self.cancel_event,
                raw=raw,
            )

        self.call_db(call, self._finished, on_error=self._failed, group="export-run")

    def _progress(self, done: int, total: int | None, elapsed: float) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=total, progress=done)
        self.query_one("#export-rate", Static).update(
            format_progress("exported", done, total, elapsed)
        )

    def _finished(self, report: ExportReport) -> None:
        self.running = False
        self.app.notify(report.summary(), markup=False)
        self.dismiss(report)

    def _failed(self, exc: FinanceError) -> bool:
        self.running = False
        self.query_one("#export-start", Button).disabled = False
        self.query_one("#export-file", Input).disabled = False
        self.query_one("#export-raw", Checkbox).disabled = False
        self.query_one("#export-rate", Static).update("")
        self.query_one("#export-progress", ProgressBar).display = False
        self._say(str(exc))
        return isinstance(exc, ExportCancelled)

    def _say(self, message: str) -> None:
        self.query_one("#export-message", Static).update(literal(message, single_line=False))

    @on(Button.Pressed, "#export-cancel")
    def action_close(self) -> None:
        if self.running:
            self.cancel_event.set()
            self._say("Cancelling … no file will be written")
            return
        self.dismiss(None)

    def on_unmount(self) -> None:
        self.cancel_event.set()


def _exists(path: Path) -> bool:
    """Whether to ask before overwriting; a name the file system refuses is not there
    (the export then says why it cannot write it)."""
    try:
        return user_path(path).exists()
    except (OSError, ValueError, FinanceError):
        return False


def _deleted_part(flt: RecordFilter) -> list[str]:
    if flt.only_deleted:
        return ["deleted records only"]
    return ["including deleted"] if flt.include_deleted else []


def _range_parts(flt: RecordFilter) -> list[str]:
    parts: list[str] = []
    if flt.date_from or flt.date_to:
        parts.append(f"dates {flt.date_from or '…'} to {flt.date_to or '…'}")
    if flt.amount_min is not None or flt.amount_max is not None:
        low = flt.amount_min if flt.amount_min is not None else "…"
        high = flt.amount_max if flt.amount_max is not None else "…"
        parts.append(f"amounts {low} to {high}")
    return parts


def describe_filter(flt: RecordFilter) -> str:
    """One line saying which records the export will contain."""
    parts = _deleted_part(flt)
    if flt.kind:
        parts.append(flt.kind)
    if flt.categories:
        parts.append(f"{len(flt.categories)} categor{'y' if len(flt.categories) == 1 else 'ies'}")
    parts += _range_parts(flt)
    if flt.text:
        parts.append(f"matching {flt.text!r}")
    order = "descending" if flt.descending else "ascending"
    what = ", ".join(parts) if parts else "all records"
    return f"Records shown by the current filter ({what}), every page, sorted by {flt.sort} {order}"


def export_records(screen: FinanceScreen, session: SessionController, flt: RecordFilter) -> None:
    """Open the export dialog (used by the records screen's Export action)."""
    name = f"records-{screen.shell.clock.today():%Y%m%d}.csv"
    screen.app.push_screen(ExportModal(session, flt, default_path=name))
