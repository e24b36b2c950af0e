"""Categories (admin): list with record counts, add, rename, change kind, archive.

Archived categories keep their records and history but are no longer offered for new
records; the core refuses new records in them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from finance_tui.dto import CategoryRow
from finance_tui.permissions import Permission
from screens.admin_widgets import ChoiceModal, FormField, FormModal
from screens.widgets import literal, run_in_thread

if TYPE_CHECKING:
    from finance_tui.session import SessionController

STYLES = Path(__file__).resolve().parent.parent / "styles"
KIND_CHOICES = (("Income", "income"), ("Expense", "expense"), ("Both", "both"))


class CategoriesScreen(Screen):
    """Category administration. Needs ``Permission.MANAGE_CATEGORIES``."""

    TITLE = "Categories"
    CSS_PATH = STYLES / "categories.tcss"
    BINDINGS = [
        Binding("n", "create", "Add"),
        Binding("e", "rename", "Rename"),
        Binding("k", "change_kind", "Kind"),
        Binding("a", "toggle_archived", "Archive/unarchive"),
        Binding("f5", "refresh", "Refresh"),
    ]

    def __init__(self, session: SessionController) -> None:
        super().__init__()
        self.session = session
        self.rows: list[CategoryRow] = []
        self.allowed = session.can(Permission.MANAGE_CATEGORIES)

    def compose(self) -> ComposeResult:
        yield Header()
        if not self.allowed:
            yield Static(
                "You do not have permission to manage categories (admins only).",
                id="categories-denied",
            )
        else:
            yield Static("", id="categories-summary")
            yield DataTable(id="categories-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        if not self.allowed:
            return
        table = self.query_one(DataTable)
        table.add_column("Name", width=40)
        table.add_column("Kind", width=10)
        table.add_column("Archived", width=10)
        table.add_column("Records", width=10)
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

    def palette_commands(self) -> Iterator[tuple[str, str, Callable[[], None]]]:
        if not self.session.can(Permission.MANAGE_CATEGORIES):
            return
        yield "Categories: add", "Create a category (n)", self.action_create
        yield "Categories: rename", "Rename the selected category (e)", self.action_rename
        yield "Categories: change kind", "Income, expense or both (k)", self.action_change_kind
        yield (
            "Categories: archive/unarchive",
            "The selected category (a)",
            self.action_toggle_archived,
        )

    # ---- loading ------------------------------------------------------------
    def action_refresh(self, select_id: int | None = None) -> None:
        current = select_id if select_id is not None else self._selected_id()
        run_in_thread(
            self,
            lambda: self.session.categories.list(include_archived=True),
            lambda rows: self._show(rows, current),
            group="categories-load",
            exclusive=True,
        )

    def _show(self, rows: list[CategoryRow], select_id: int | None) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                literal(row.name, style="dim" if row.is_archived else ""),
                Text(row.kind),
                Text("archived" if row.is_archived else "", style="yellow"),
                Text(f"{row.record_count:,}", justify="right"),
                key=str(row.id),
            )
        ids = [r.id for r in rows]
        if select_id in ids:
            table.move_cursor(row=ids.index(select_id))
        archived = sum(1 for r in rows if r.is_archived)
        self.query_one("#categories-summary", Static).update(
            f"{len(rows)} categories ({archived} archived) · "
            "n add · e rename · k kind · a archive/unarchive"
        )

    def _selected(self) -> CategoryRow | None:
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.rows):
            return self.rows[table.cursor_row]
        self.notify("Select a category first", severity="warning")
        return None

    def _selected_id(self) -> int | None:
        if not self.is_mounted or not self.rows:
            return None
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.rows):
            return self.rows[table.cursor_row].id
        return None

    def _after_change(self, verb: str):
        def done(row: CategoryRow | None) -> None:
            if row is not None:
                self.notify(f"Category {row.name} {verb}", markup=False)
                self.action_refresh(select_id=row.id)

        return done

    # ---- actions ------------------------------------------------------------
    def action_create(self) -> None:
        categories = self.session.categories
        form = FormModal(
            "Add category",
            [
                FormField("name", "Name"),
                FormField("kind", "Kind", value="both", choices=KIND_CHOICES),
            ],
            lambda v: categories.create(v["name"], v["kind"]),
            submit_label="Add",
        )
        self.app.push_screen(form, self._after_change("added"))

    def action_rename(self) -> None:
        row = self._selected()
        if row is None:
            return
        categories = self.session.categories
        form = FormModal(
            f"Rename {row.name}",
            [FormField("name", "New name", value=row.name)],
            lambda v: categories.rename(row.id, v["name"]),
            submit_label="Rename",
        )
        self.app.push_screen(form, self._after_change("renamed"))

    def action_change_kind(self) -> None:
        row = self._selected()
        if row is None:
            return

        def chosen(kind: str | None) -> None:
            if kind is None or kind == row.kind:
                return
            run_in_thread(
                self,
                lambda: self.session.categories.set_kind(row.id, kind),
                self._after_change(f"is now for {kind} records"),
            )

        self.app.push_screen(ChoiceModal(f"Kind of {row.name}", KIND_CHOICES, row.kind), chosen)

    def action_toggle_archived(self) -> None:
        row = self._selected()
        if row is None:
            return
        archive = not row.is_archived
        run_in_thread(
            self,
            lambda: self.session.categories.archive(row.id, archive),
            self._after_change("archived" if archive else "restored from the archive"),
        )
