"""Categories screen: add, rename, kind, archive reflected in the database; snapshot."""

from __future__ import annotations

from test_tui_admin_support import SIZE, HostApp, in_shell, notifications, settle, sqlite_only
from test_tui_support import make_app
from textual.widgets import DataTable, Input, Select, Static

from finance_tui.models import Category
from screens.admin_widgets import ChoiceModal, FormModal
from screens.categories import CategoriesScreen


def _names(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def _cell(app, name: str, column: int) -> str:
    table = app.screen.query_one(DataTable)
    return str(table.get_row_at(_names(app).index(name))[column])


async def _select(pilot, name: str) -> None:
    pilot.app.screen.query_one(DataTable).move_cursor(row=_names(pilot.app).index(name))
    await pilot.pause()


def _cat(name: str) -> Category:
    return Category.get(Category.name_lower == name.lower())


async def test_add_rename_kind_archive(admin):
    for day in ("2026-11-02", "2026-11-03"):
        admin.records.create({"kind": "expense", "amount": "5", "category": "food", "date": day})
    app = HostApp(lambda: CategoriesScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _names(app) == ["food", "investment", "other", "rent", "salary"]
        assert _cell(app, "food", 3) == "2"
        assert _cell(app, "rent", 3) == "0"

        # Add: a duplicate name is a field error and writes nothing.
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-name", Input).value = "FOOD"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.error_of("name") == "a category named 'FOOD' already exists"
        assert Category.select().count() == 5

        form.query_one("#field-name", Input).value = "  Travel  "
        form.query_one("#field-kind", Select).value = "expense"
        await pilot.press("ctrl+s")
        await settle(pilot)
        travel = _cat("travel")
        assert (travel.name, travel.kind, travel.is_archived) == ("Travel", "expense", False)
        assert "Category Travel added" in notifications(app)
        assert "Travel" in _names(app)

        # Rename (Enter in the only field submits).
        await _select(pilot, "Travel")
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#field-name", Input).value = "Trips"
        await pilot.press("enter")
        await settle(pilot)
        assert _cat("trips").id == travel.id
        assert "Trips" in _names(app) and "Travel" not in _names(app)

        # Change kind: Income, Expense, Both → from expense, down once = Both.
        await _select(pilot, "Trips")
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert _cat("trips").kind == "both"
        assert _cell(app, "Trips", 1) == "both"

        # Archive and unarchive food (records are kept).
        await _select(pilot, "food")
        await pilot.press("a")
        await settle(pilot)
        assert _cat("food").is_archived is True
        assert _cell(app, "food", 2) == "archived"
        assert "Category food archived" in notifications(app)
        await pilot.press("a")
        await settle(pilot)
        assert _cat("food").is_archived is False
        assert _cell(app, "food", 2) == ""


async def test_rename_to_blank_is_refused(admin):
    app = HostApp(lambda: CategoriesScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select(pilot, "rent")
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#field-name", Input).value = "   "
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        assert app.screen.error_of("name") == "is required"
        assert _cat("rent").name == "rent"


async def test_analyst_cannot_manage_categories(sessions):
    app = HostApp(lambda: CategoriesScreen(sessions["analyst"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.screen.query(DataTable)
        assert "permission" in str(app.screen.query_one("#categories-denied", Static).render())
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CategoriesScreen)


def test_categories_snapshot(snap_compare, db_url, admin, tmp_path):
    sqlite_only(db_url)
    admin.records.create(
        {"kind": "income", "amount": "100", "category": "salary", "date": "2026-11-01"}
    )
    admin.categories.create("[b]Markup[/b] stays literal", "expense")
    admin.categories.archive(_cat("rent").id)
    app = make_app(tmp_path, admin)
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("categories"))
