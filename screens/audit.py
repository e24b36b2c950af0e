"""Audit log (admin): every change and login, filterable by action, actor and date
range, paged in the database, with a detail pane showing the before/after JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from finance_tui.domain.dto import AuditRow, Page
from finance_tui.domain.filters import AuditFilter
from finance_tui.domain.values import DateError, parse_date, search_text_problem
from finance_tui.permissions import Permission
from screens.base import SHARED_STYLES, FinanceScreen, PaletteCommand
from screens.footer import FitFooter
from screens.scroll_pane import ScrollPane
from screens.widgets import NavBar, ScreenTitle, TextInput, fmt_dt, literal

if TYPE_CHECKING:
    from finance_tui.session import SessionController

PAGE_SIZE = 50


def describe_event(row: AuditRow) -> str:
    """The detail pane's plain text: header fields, then before/after as indented JSON."""
    lines = [
        f"Event #{row.id}",
        f"at:     {fmt_dt(row.at)}",
        f"actor:  {row.actor}",
        f"action: {row.action}",
        f"entity: {row.entity_type} {row.entity_id}".rstrip(),
    ]
    if row.undoes is not None:
        lines.append(f"undoes: event #{row.undoes}")
    for title, data in (("before", row.before), ("after", row.after)):
        lines.append("")
        if data is None:
            lines.append(f"{title}: —")
        else:
            lines.append(f"{title}:")
            lines.append(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    return "\n".join(lines)


class AuditScreen(FinanceScreen):
    """Read-only audit trail. Needs ``Permission.VIEW_AUDIT``."""

    TITLE = "Audit log"
    CSS_PATH = [*SHARED_STYLES, "../styles/audit.tcss"]
    BINDINGS = [
        Binding("slash", "focus_filters", "Filter", id="audit.filter"),
        Binding("escape", "clear_filters", "Clear filters", id="audit.clear-filters"),
        Binding("right_square_bracket", "page(1)", "Next page", id="audit.next-page"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="audit.prev-page"),
        Binding("f5", "refresh", "Refresh", id="audit.refresh"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.allowed = session.can(Permission.VIEW_AUDIT)
        self.filter = AuditFilter(limit=PAGE_SIZE)
        self.page: Page[AuditRow] | None = None

    @property
    def today(self) -> date:
        """For relative dates ("-7"): the shell's clock (fixed in tests)."""
        return self.shell.clock.today()

    def refresh_data(self) -> None:
        """Another session wrote (and so audited) something: reload this page."""
        if self.allowed:
            self.action_refresh()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        if not self.session.can(Permission.VIEW_AUDIT):
            return
        yield PaletteCommand(
            "Audit: filter", "Focus the audit filters (/)", self.action_focus_filters
        )
        yield PaletteCommand(
            "Audit: clear filters", "Show every event (Esc)", self.action_clear_filters
        )

    def compose(self) -> ComposeResult:
        yield ScreenTitle(self.TITLE)
        yield NavBar("audit")
        if not self.allowed:
            yield Static(
                "You do not have permission to view the audit log (admins only).",
                id="audit-denied",
            )
            yield FitFooter()
            return
        with Horizontal(id="audit-filters"):
            yield Select([], prompt="any action", id="audit-action")
            yield TextInput(placeholder="actor (username)", id="audit-actor")
            yield TextInput(placeholder="from: YYYY-MM-DD / -7", id="audit-from")
            yield TextInput(placeholder="to: YYYY-MM-DD / today", id="audit-to")
        yield Static("", id="audit-status")
        with Horizontal(id="audit-body"):
            yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
            with ScrollPane(id="audit-detail-pane"):
                yield Static("", id="audit-detail")
        yield FitFooter()

    def on_mount(self) -> None:
        if not self.allowed:
            return
        table = self.query_one(DataTable)
        table.add_column("At (UTC)", width=16)
        table.add_column("Actor", width=12)
        table.add_column("Action", width=20)
        table.add_column("Entity", width=9)
        table.focus()
        self.call_db(self.session.audit.actions, self._set_actions, group="audit-actions")
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {b.action.split("(")[0] for b in self.BINDINGS if isinstance(b, Binding)}:
            return self.allowed
        return True

    def _set_actions(self, actions: list[str]) -> None:
        select = self.query_one("#audit-action", Select)
        current = select.value
        select.set_options([(literal(name), name) for name in actions])
        if current is not Select.NULL and current in actions:
            select.value = current

    # ---- loading ------------------------------------------------------------
    def load(self) -> None:
        flt = self.filter
        self.call_db(
            lambda: self.session.audit.list(flt),
            self._show,
            group="audit-load",
            exclusive=True,
        )

    def _show(self, page: Page[AuditRow]) -> None:
        self.page = page
        table = self.query_one(DataTable)
        table.clear()
        for row in page.rows:
            table.add_row(
                Text(f"{row.at:%Y-%m-%d %H:%M}"),
                literal(row.actor),
                literal(row.action),
                literal(row.entity_type),
                key=str(row.id),
            )
        total = page.total or 0
        if total:
            first, last = page.offset + 1, page.offset + len(page.rows)
            pages = (total + page.limit - 1) // page.limit
            where = (
                f"events {first}–{last} of {total:,} · page {page.offset // page.limit + 1}/{pages}"
            )
        else:
            where = "no events match"
        active = self._describe_filter()
        self.query_one("#audit-status", Static).update(
            literal(f"{where}{' · ' + active if active else ''} · [ ] page · / filter · Esc clear")
        )
        self._show_detail(page.rows[0] if page.rows else None)

    def _describe_filter(self) -> str:
        f = self.filter
        parts = [
            f"action={f.action}" if f.action else "",
            f"actor={f.actor}" if f.actor else "",
            f"from {f.date_from}" if f.date_from else "",
            f"to {f.date_to}" if f.date_to else "",
        ]
        return ", ".join(p for p in parts if p)

    def _show_detail(self, row: AuditRow | None) -> None:
        detail = self.query_one("#audit-detail", Static)
        detail.update(literal(describe_event(row), single_line=False) if row else "")

    @on(DataTable.RowHighlighted, "#audit-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.page and 0 <= event.cursor_row < len(self.page.rows):
            self._show_detail(self.page.rows[event.cursor_row])

    # ---- filters ------------------------------------------------------------
    def _read_filters(self) -> AuditFilter | None:
        errors: dict[str, str] = {}
        dates: dict[str, date | None] = {}
        for name, widget_id in (("date_from", "#audit-from"), ("date_to", "#audit-to")):
            box = self.query_one(widget_id, Input)
            text = box.value.strip()
            dates[name] = None
            box.remove_class("bad-date")
            if text:
                try:
                    dates[name] = parse_date(text, self.today)
                except DateError as exc:
                    errors[name] = str(exc)
                    box.add_class("bad-date")
        if dates["date_from"] and dates["date_to"] and dates["date_from"] > dates["date_to"]:
            errors["date_to"] = "must not be before the start date"
            self.query_one("#audit-to", Input).add_class("bad-date")
        actor = self.query_one("#audit-actor", Input).value.strip()
        if problem := search_text_problem(actor):
            errors["actor"] = problem
        if errors:
            message = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in errors.items())
            self.notify(f"Filter not applied — {message}", severity="error", markup=False)
            return None
        action = self.query_one("#audit-action", Select).value
        return AuditFilter(
            action=None if action is Select.NULL else str(action),
            actor=actor or None,
            date_from=dates["date_from"],
            date_to=dates["date_to"],
            offset=0,
            limit=PAGE_SIZE,
        )

    def apply_filters(self) -> None:
        flt = self._read_filters()
        if flt is not None:
            self.filter = flt
            self.load()

    @on(Input.Submitted, "#audit-filters Input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filters()
        self.query_one(DataTable).focus()

    @on(Select.Changed, "#audit-action")
    def _action_changed(self) -> None:
        self.apply_filters()

    def action_focus_filters(self) -> None:
        self.query_one("#audit-action", Select).focus()

    def action_clear_filters(self) -> None:
        for widget_id in ("#audit-actor", "#audit-from", "#audit-to"):
            box = self.query_one(widget_id, Input)
            box.value = ""
            box.remove_class("bad-date")
        select = self.query_one("#audit-action", Select)
        with select.prevent(Select.Changed):
            select.clear()
        self.filter = AuditFilter(limit=PAGE_SIZE)
        self.load()
        self.query_one(DataTable).focus()

    def action_page(self, step: int) -> None:
        if self.page is None:
            return
        offset = self.filter.offset + step * PAGE_SIZE
        if offset < 0 or offset >= (self.page.total or 0):
            self.notify("No more pages that way", severity="warning")
            return
        self.filter = replace(self.filter, offset=offset)
        self.load()

    def action_refresh(self) -> None:
        self.call_db(self.session.audit.actions, self._set_actions, group="audit-actions")
        self.load()
