"""Saved views in the core: save, list, load, rename, delete; per-user isolation,
names, dropped categories, audit, the migration and the CLI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from finance_tui.db import write_transaction
from finance_tui.errors import NotFound, ValidationError, ViewExists
from finance_tui.migrations import MIGRATIONS, latest_version, schema_version
from finance_tui.models import AuditEvent, Category, SavedView

TODAY = date(2026, 11, 25)
FIELDS = {"kind": "expense", "category": "food,rent", "date_from": "-30", "amount_min": "5"}


def _category(name: str) -> Category:
    return Category.get(Category.name_lower == name)


def _archive(name: str) -> None:
    with write_transaction():
        Category.update(is_archived=True).where(Category.name_lower == name).execute()


def test_a_saved_view_loads_with_its_filter_and_sort(admin):
    row = admin.views.save("Monthly food", FIELDS, sort="amount", descending=False, today=TODAY)
    assert row.name == "Monthly food"
    assert row.summary == "expense · food,rent · from -30 · min 5 · by amount ▲"
    loaded = admin.views.load("monthly FOOD", today=TODAY)
    assert loaded.name == "Monthly food"
    assert loaded.warnings == ()
    assert loaded.fields == FIELDS
    flt = loaded.filter
    assert flt.kind == "expense"
    assert flt.categories == (_category("food").id, _category("rent").id)
    assert flt.date_from == date(2026, 10, 26)  # relative dates stay relative
    assert flt.amount_min == Decimal("5")
    assert (flt.sort, flt.descending) == ("amount", False)
    later = admin.views.load("Monthly food", today=date(2026, 12, 31))
    assert later.filter.date_from == date(2026, 12, 1)


def test_every_role_keeps_views_and_sees_only_its_own(sessions):
    for role, session in sessions.items():
        session.views.save("mine", {"text": role}, today=TODAY)
    for role, session in sessions.items():
        assert [v.name for v in session.views.list()] == ["mine"]
        assert session.views.load("mine").filter.text == role


def test_nobody_reads_renames_or_deletes_another_users_view(sessions, counts):
    viewer, admin = sessions["viewer"], sessions["admin"]
    viewer.views.save("private", {"text": "secret"}, today=TODAY)
    before = counts()
    for attempt in (
        lambda: admin.views.load("private"),
        lambda: admin.views.rename("private", "taken"),
        lambda: admin.views.delete("private"),
    ):
        with pytest.raises(NotFound, match="you have no saved view named 'private'"):
            attempt()
    assert admin.views.list() == []
    assert counts() == before
    # the same name is free for someone else, and stays separate
    admin.views.save("private", {"text": "mine"}, today=TODAY)
    assert viewer.views.load("private").filter.text == "secret"
    assert admin.views.load("private").filter.text == "mine"


def test_saving_an_existing_name_needs_replace(admin):
    admin.views.save("Food", {"category": "food"}, today=TODAY)
    with pytest.raises(ViewExists) as caught:
        admin.views.save("FOOD", {"category": "rent"}, today=TODAY)
    assert caught.value.fields == {"name": "you already have a view named 'Food'"}
    assert admin.views.load("food").fields == {"category": "food"}
    row = admin.views.save("FOOD", {"category": "rent"}, replace_existing=True, today=TODAY)
    assert [v.name for v in admin.views.list()] == ["FOOD"]
    assert row.summary == "rent · by date ▼"
    assert SavedView.select().count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "is required"),
        ("   ", "is required"),
        ("x" * 61, "must be at most 60 characters"),
        ("evil\x1b[2Jname", "control character"),
        ("tab\there", "control character"),
        ("rtl\u202eoverride", "U+202E"),
    ],
)
def test_bad_names_are_refused_and_nothing_changes(admin, counts, name, message):
    admin.views.save("ok", {}, today=TODAY)
    before = counts()
    with pytest.raises(ValidationError) as caught:
        admin.views.save(name, {}, today=TODAY)
    assert message in caught.value.fields["name"]
    with pytest.raises(ValidationError) as caught:
        admin.views.rename("ok", name)
    assert message in caught.value.fields["name"]
    assert counts() == before


def test_an_invalid_filter_is_not_saved(admin, counts):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        admin.views.save("bad", {"date_from": "soon", "category": "nosuch"}, today=TODAY)
    assert set(caught.value.fields) == {"date_from", "category"}
    assert "unknown category 'nosuch'" in caught.value.fields["category"]
    with pytest.raises(ValidationError, match="unknown sort field"):
        admin.views.save("bad", {}, sort="colour", today=TODAY)
    _archive("food")
    with pytest.raises(ValidationError, match="'food' is archived; a saved view cannot keep it"):
        admin.views.save("bad", {"category": "food"}, today=TODAY)
    assert counts() == before


def test_a_view_whose_category_was_archived_loads_and_says_what_it_dropped(admin):
    admin.views.save("Food and rent", {"category": "food,rent", "kind": "expense"}, today=TODAY)
    _archive("food")
    loaded = admin.views.load("food and rent", today=TODAY)
    assert loaded.warnings == ("dropped archived category 'food'",)
    assert loaded.filter.categories == (_category("rent").id,)
    assert loaded.fields == {"kind": "expense", "category": "rent"}
    assert loaded.filter.kind == "expense"
    _archive("rent")
    loaded = admin.views.load("food and rent", today=TODAY)
    assert loaded.warnings == (
        "dropped archived category 'food'",
        "dropped archived category 'rent'",
        "the view now shows every category",
    )
    assert loaded.filter.categories == ()
    assert "category" not in loaded.fields


def test_a_renamed_category_is_kept_and_a_removed_one_is_named(admin):
    admin.views.save("v", {"category": "food,other"}, today=TODAY)
    other = _category("other")
    with write_transaction():
        Category.update(name="Groceries", name_lower="groceries").where(
            Category.name_lower == "food"
        ).execute()
        other.delete_instance()
    loaded = admin.views.load("v", today=TODAY)
    assert loaded.fields == {"category": "Groceries"}
    assert loaded.filter.categories == (_category("groceries").id,)
    assert loaded.warnings == ("dropped category 'other', which no longer exists",)


def test_a_stored_value_no_longer_valid_is_dropped_and_named(admin):
    admin.views.save("v", {"text": "lunch", "date_from": "2026-01-01"}, today=TODAY)
    view = SavedView.get()
    spec = json.loads(view.spec)
    spec["fields"]["date_from"] = "someday"
    spec["sort"] = "colour"
    SavedView.update(spec=json.dumps(spec)).execute()
    loaded = admin.views.load("v", today=TODAY)
    assert loaded.fields == {"text": "lunch"}
    assert loaded.filter.date_from is None and loaded.filter.text == "lunch"
    assert (loaded.sort, loaded.descending) == ("date", True)
    assert loaded.warnings[0] == "dropped the unknown sort 'colour'"
    assert loaded.warnings[1].startswith("dropped date_from 'someday': is not a date")


def test_rename_and_delete(admin):
    admin.views.save("one", {"text": "a"}, today=TODAY)
    admin.views.save("two", {"text": "b"}, today=TODAY)
    with pytest.raises(ValidationError, match="you already have a view named 'two'"):
        admin.views.rename("one", "TWO")
    assert admin.views.rename("one", "ONE").name == "ONE"  # a change of case only
    assert admin.views.rename("ONE", "First").name == "First"
    assert [v.name for v in admin.views.list()] == ["First", "two"]
    assert admin.views.load("first").filter.text == "a"
    assert admin.views.delete("TWO").name == "two"
    assert [v.name for v in admin.views.list()] == ["First"]
    with pytest.raises(NotFound):
        admin.views.delete("two")
    with pytest.raises(NotFound):
        admin.views.rename("nope", "x")


def test_every_change_is_audited(admin):
    admin.views.save("v", {"text": "a"}, today=TODAY)
    admin.views.save("v", {"text": "b"}, replace_existing=True, today=TODAY)
    admin.views.rename("v", "w")
    admin.views.delete("w")
    events = list(
        AuditEvent.select().where(AuditEvent.action.startswith("view_")).order_by(AuditEvent.id)
    )
    assert [e.action for e in events] == ["view_save", "view_save", "view_rename", "view_delete"]
    assert {e.entity_type for e in events} == {"saved_view"}
    assert json.loads(events[0].after)["fields"] == {"text": "a"}
    assert json.loads(events[1].before)["fields"] == {"text": "a"}
    assert json.loads(events[1].after)["fields"] == {"text": "b"}
    assert (json.loads(events[2].before), json.loads(events[2].after)) == (
        {"name": "v"},
        {"name": "w"},
    )
    assert json.loads(events[3].before)["name"] == "w"
    assert all(e.actor_name == "root" for e in events)


def test_a_deleted_users_views_go_with_them(admin, make_user):
    from finance_tui.models import User

    bob = make_user("viewer", "bob")
    bob.views.save("b", {}, today=TODAY)
    with write_transaction():
        User.delete().where(User.username == "bob").execute()
    assert SavedView.select().count() == 0


def test_the_migration_is_idempotent(db):
    assert schema_version(db) == latest_version()
    migrate = next(m for m in MIGRATIONS if m.__name__ == "_saved_views")
    db.execute_sql('DROP TABLE "saved_view"')
    migrate(db)
    migrate(db)
    assert db.table_exists("saved_view")
    indexes = {index.name: index for index in db.get_indexes("saved_view")}
    assert any(index.unique and "name_lower" in index.columns for index in indexes.values())


# ---- command line -----------------------------------------------------------------
def test_cli_lists_views_and_exports_with_one(admin, db_url, run_cli):
    from test_tui_support import seed

    seed(12)
    admin.views.save("Rent", {"category": "rent"}, sort="amount", descending=False)
    admin.views.save("Esc\u00e9", {"text": "note 1"})
    code, out, err = run_cli(
        ["view", "list", "--db", db_url, "--user", "root"], "correct-horse-1\n"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Escé\tsearch note 1 · by date ▼",
        "Rent\trent · by amount ▲",
    ]
    args = ["export", "-", "--view", "rent", "--db", db_url, "--user", "root"]
    code, out, err = run_cli(args, "correct-horse-1\n")
    assert code == 0, err
    lines = out.splitlines()[1:]
    assert [line.split(",")[4] for line in lines] == ["rent"] * 3
    amounts = [Decimal(line.split(",")[3]) for line in lines]
    assert amounts == sorted(amounts)
    # an option given with --view overrides that part of the view
    code, out, _ = run_cli([*args, "--max", "30"], "correct-horse-1\n")
    assert [Decimal(line.split(",")[3]) for line in out.splitlines()[1:]] == amounts[:1]


def test_cli_names_what_a_view_dropped_and_refuses_an_unknown_one(admin, db_url, run_cli):
    admin.views.save("Food", {"category": "food"})
    _archive("food")
    args = ["export", "-", "--view", "Food", "--db", db_url, "--user", "root"]
    code, _, err = run_cli(args, "correct-horse-1\n")
    assert code == 0
    assert "warning: view 'Food': dropped archived category 'food'" in err
    code, out, err = run_cli([*args[:3], "nope", *args[4:]], "correct-horse-1\n")
    assert (code, out) == (1, "")
    assert err.strip() == "error: you have no saved view named 'nope'"


def test_cli_prints_hostile_names_escaped(admin, db_url, run_cli):
    with write_transaction():
        SavedView.create(
            owner=admin.principal.user_id,
            name="a\x1b[31mred",
            name_lower="a\x1b[31mred",
            spec=json.dumps({"fields": {"text": "x"}}),
        )
    code, out, _ = run_cli(["view", "list", "--db", db_url, "--user", "root"], "correct-horse-1\n")
    assert code == 0
    assert "\x1b" not in out
    assert "a\\x1b[31mred" in out
