"""Categories (admin): list with record counts, add, rename, change kind, archive.

Archived categories keep their records and history but are no longer offered for new
records; the core refuses new records in them."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding

from finance_tui.domain.dto import CategoryRow
from finance_tui.permissions import Permission
from screens.admin_widgets import AdminTableScreen, ChoiceModal, FormField, FormModal
from screens.base import SHARED_STYLES
from screens.widgets import Palette, literal

KIND_CHOICES = (("Income", "income"), ("Expense", "expense"), ("Both", "both"))


class CategoriesScreen(AdminTableScreen[CategoryRow]):
    """Category administration. Needs ``Permission.MANAGE_CATEGORIES``."""

    TITLE = "Categories"
    CSS_PATH = [*SHARED_STYLES, "../styles/categories.tcss"]
    BINDINGS = [
        Binding("n", "create", "Add", id="categories.add"),
        Binding("e", "rename", "Rename", id="categories.rename"),
        Binding("k", "change_kind", "Kind", id="categories.kind"),
        Binding("a", "toggle_archived", "Archive/unarchive", id="categories.archive-unarchive"),
        Binding("f5", "refresh", "Refresh", id="categories.refresh"),
    ]
    PERMISSION = Permission.MANAGE_CATEGORIES
    NAME = "categories"
    NOUN = "category"
    COLUMNS = (("Name", 40), ("Kind", 10), ("Archived", 10), ("Records", 10))
    PALETTE = (
        ("Categories: add", "Create a category (n)", "create"),
        ("Categories: rename", "Rename the selected category (e)", "rename"),
        ("Categories: change kind", "Income, expense or both (k)", "change_kind"),
        ("Categories: archive/unarchive", "The selected category (a)", "toggle_archived"),
    )

    # ---- the table ------------------------------------------------------------
    def load_rows(self) -> list[CategoryRow]:
        return self.session.categories.list(include_archived=True)

    def row_cells(self, row: CategoryRow) -> list[Text]:
        return [
            literal(row.name, style=Palette.muted if row.is_archived else ""),
            Text(row.kind),
            Text("archived" if row.is_archived else "", style="yellow"),
            Text(f"{row.record_count:,}", justify="right"),
        ]

    def summary_text(self, rows: list[CategoryRow]) -> str:
        archived = sum(1 for r in rows if r.is_archived)
        return (
            f"{len(rows)} categories ({archived} archived) · "
            "n add · e rename · k kind · a archive/unarchive"
        )

    def _after_change(self, verb: str) -> Callable[[CategoryRow | None], None]:
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
        row = self.selected_row()
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
        row = self.selected_row()
        if row is None:
            return

        def chosen(kind: str | None) -> None:
            if kind is None or kind == row.kind:
                return
            self.call_db(
                lambda: self.session.categories.set_kind(row.id, kind),
                self._after_change(f"is now for {kind} records"),
            )

        self.app.push_screen(ChoiceModal(f"Kind of {row.name}", KIND_CHOICES, row.kind), chosen)

    def action_toggle_archived(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        archive = not row.is_archived
        self.call_db(
            lambda: self.session.categories.archive(row.id, archive),
            self._after_change("archived" if archive else "restored from the archive"),
        )
