"""Recurring (admin): schedules that create records monthly, weekly or yearly.

Lists the active schedules with their next due date; ``n`` adds one (a form whose
messages come from the core), ``d`` removes the selected one after a confirmation,
``r`` creates what is due now (the app also does that at every login)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.dom import DOMNode

from finance_tui.domain.dto import RecurringRunReport, ScheduleRow
from finance_tui.permissions import Permission
from screens.admin_widgets import AdminTableScreen, FormField, FormModal
from screens.base import SHARED_STYLES
from screens.widgets import ConfirmModal, Palette, fmt_date, literal, money_text

EVERY_CHOICES = (("Every month", "month"), ("Every week", "week"), ("Every year", "year"))
KIND_CHOICES = (("Expense", "expense"), ("Income", "income"))


def run_message(report: RecurringRunReport) -> str:
    """What a run did, in one sentence (the app says it after login too)."""
    noun = "record" if report.created == 1 else "records"
    return f"Recurring: created {report.created} {noun}"


class RecurringScreen(AdminTableScreen[ScheduleRow]):
    """Schedule administration. Needs ``Permission.MANAGE_RECURRING``."""

    TITLE = "Recurring"
    CSS_PATH = [*SHARED_STYLES, "../styles/recurring.tcss"]
    BINDINGS = [
        Binding("n", "create", "Add", id="recurring.add"),
        Binding("d,delete", "remove", "Remove", id="recurring.remove"),
        Binding("r", "run_due", "Run due", id="recurring.run"),
        Binding("f5", "refresh", "Refresh", id="recurring.refresh"),
    ]
    PERMISSION = Permission.MANAGE_RECURRING
    NAME = "recurring"
    NOUN = "schedule"
    COLUMNS = (
        ("#", 3),
        ("Every", 17),
        ("Next due", 10),
        ("Amount", 12),
        ("Category", 12),
        ("Notes", None),
    )
    PALETTE = (
        ("Recurring: add", "Schedule a recurring record (n)", "create"),
        ("Recurring: remove", "Stop the selected schedule (d)", "remove"),
        ("Recurring: run due", "Create the records that are due now (r)", "run_due"),
    )

    # ---- the table ------------------------------------------------------------
    def load_rows(self) -> list[ScheduleRow]:
        return self.session.recurring.list()

    def row_cells(self, row: ScheduleRow) -> list[Text]:
        due = fmt_date(row.next_due) if row.next_due else "finished"
        return [
            Text(str(row.id), justify="right"),
            Text(row.rule),
            Text(due, style="" if row.next_due else Palette.muted),
            money_text(row.amount, row.kind),
            literal(row.category),
            literal(row.notes),
        ]

    def summary_text(self, rows: list[ScheduleRow]) -> str:
        return f"{len(rows)} schedules · n add · d remove · r run due"

    # ---- actions ------------------------------------------------------------
    def action_create(self) -> None:
        recurring = self.session.recurring
        today = self.shell.clock.today()
        form = FormModal(
            "Add recurring record",
            [
                FormField("every", "Every", value="month", choices=EVERY_CHOICES),
                FormField("day", "Day", placeholder="1-31, or mon..sun; blank: start's"),
                FormField("kind", "Kind", value="expense", choices=KIND_CHOICES),
                FormField("amount", "Amount", placeholder="e.g. 1250.00"),
                FormField("category", "Category", placeholder="name"),
                FormField("notes", "Notes"),
                FormField("start", "Start", value=today.isoformat()),
                FormField("end", "End", placeholder="YYYY-MM-DD (optional)"),
            ],
            lambda values: recurring.add(values, today=today),
            submit_label="Add",
        )
        self.app.push_screen(form, self._added)

    def _added(self, row: ScheduleRow | None) -> None:
        if row is not None:
            self.notify(f"Schedule #{row.id} added: {row.rule}", markup=False)
            self.action_refresh(select_id=row.id)

    def action_remove(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        message = (
            f"Remove schedule #{row.id} ({row.rule}, {row.category})?\nThe records it created stay."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_db(lambda: self.session.recurring.remove(row.id), self._removed)

        self.app.push_screen(ConfirmModal(message, yes="Remove"), answered)

    def _removed(self, row: ScheduleRow) -> None:
        self.notify(f"Schedule #{row.id} removed", markup=False)
        self.action_refresh()

    def action_run_due(self) -> None:
        today = self.shell.clock.today()
        self.call_db(lambda: self.session.recurring.run(today), self._ran)

    def _ran(self, report: RecurringRunReport) -> None:
        show_run(self, report, quiet=False)
        self.action_refresh()


def show_run(node: DOMNode, report: RecurringRunReport, *, quiet: bool) -> None:
    """Notify what a run did; ``quiet`` (at login) says nothing when nothing happened."""
    if report.created or not quiet:
        node.app.notify(run_message(report), title="Recurring", markup=False)
    for problem in report.skipped:
        node.app.notify(problem, title="Recurring", severity="warning", markup=False, timeout=10)
