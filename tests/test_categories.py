"""Categories: admins create, rename, re-kind and archive; archived ones take no new records."""

from __future__ import annotations

import json

import pytest
from conftest import table_counts

from finance_tui.errors import NotFound, ValidationError
from finance_tui.models import AuditEvent, Category

REC = {"kind": "expense", "amount": "9.99", "category": "food", "date": "2026-11-03"}


def _refused(call, field: str) -> str:
    before = table_counts()
    with pytest.raises(ValidationError) as err:
        call()
    assert set(err.value.fields) == {field}, err.value.fields
    assert table_counts() == before
    return err.value.fields[field]


def _event(action: str) -> AuditEvent:
    return (
        AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id.desc()).get()
    )


def test_seeded_categories_listed_for_everyone(sessions):
    names = [(c.name, c.kind) for c in sessions["viewer"].categories.list()]
    assert names == [
        ("food", "expense"),
        ("investment", "both"),
        ("other", "both"),
        ("rent", "expense"),
        ("salary", "income"),
    ]
    income = [c.name for c in sessions["viewer"].categories.list(kind="income")]
    assert income == ["investment", "other", "salary"]
    _refused(lambda: sessions["viewer"].categories.list(kind="savings"), "kind")


def test_record_counts_follow_live_records(sessions):
    admin = sessions["admin"]
    a = admin.records.create(REC)
    admin.records.create(REC)
    admin.records.delete(a.id)
    counts = {c.name: c.record_count for c in sessions["viewer"].categories.list()}
    assert counts["food"] == 1 and counts["rent"] == 0


def test_create(sessions):
    admin = sessions["admin"]
    row = admin.categories.create("  Travel   abroad ", "expense")
    assert (row.name, row.kind, row.is_archived) == ("Travel abroad", "expense", False)
    assert json.loads(_event("category_create").after) == {
        "name": "Travel abroad",
        "kind": "expense",
        "is_archived": False,
    }
    assert admin.records.create({**REC, "category": "travel ABROAD"}).category == "Travel abroad"
    assert admin.categories.create("tab\there").name == "tab here"  # whitespace runs: one space


@pytest.mark.parametrize(
    ("name", "kind", "field", "message"),
    [
        ("FOOD", "expense", "name", "already exists"),
        ("", "both", "name", "is required"),
        ("   ", "both", "name", "is required"),
        ("x" * 51, "both", "name", "at most 50"),
        ("2026", "both", "name", "only digits"),
        ("esc\x1b[31m", "both", "name", "a control character (U+001B) at position 4"),
        ("del\x7f", "both", "name", "a control character (U+007F) at position 4"),
        ("csi\x9b2J", "both", "name", "a control character (U+009B) at position 4"),
        ("fs\x1cx", "both", "name", "a control character (U+001C) at position 3"),
        ("nel\x85x", "both", "name", "a control character (U+0085) at position 4"),
        ("cr\rx", "both", "name", "a control character (U+000D) at position 3"),
        ("rlo\u202eevil", "both", "name", "bidirectional control character (U+202E)"),
        ("iso\u2066x", "both", "name", "bidirectional control character (U+2066)"),
        ("Gifts", "transfer", "kind", "income, expense or both"),
    ],
)
def test_create_rejected(sessions, name, kind, field, message):
    assert message in _refused(lambda: sessions["admin"].categories.create(name, kind), field)


def test_rename(sessions):
    admin = sessions["admin"]
    food = Category.get(Category.name_lower == "food")
    rec = admin.records.create(REC)
    row = admin.categories.rename(food.id, "Groceries")
    assert row.name == "Groceries"
    assert admin.records.get(rec.id).category == "Groceries"  # records follow the category
    event = _event("category_update")
    assert (
        json.loads(event.before)["name"] == "food"
        and json.loads(event.after)["name"] == "Groceries"
    )
    assert (
        admin.categories.rename(food.id, "GROCERIES").name == "GROCERIES"
    )  # case change of itself
    assert "already exists" in _refused(lambda: admin.categories.rename(food.id, "Rent"), "name")
    with pytest.raises(NotFound):
        admin.categories.rename(999999, "Nowhere")


def test_archive_and_unarchive(sessions):
    admin, viewer = sessions["admin"], sessions["viewer"]
    rent = Category.get(Category.name_lower == "rent")
    old = admin.records.create({**REC, "category": "rent"})
    row = admin.categories.archive(rent.id)
    assert row.is_archived
    assert "rent" not in [c.name for c in viewer.categories.list()]
    assert "rent" in [c.name for c in viewer.categories.list(include_archived=True)]
    event = _event("category_archive")
    assert (
        json.loads(event.before)["is_archived"] is False
        and json.loads(event.after)["is_archived"] is True
    )
    # No new records in it, and no moving records into it...
    with pytest.raises(ValidationError, match="archived"):
        admin.records.create({**REC, "category": "rent"})
    other = admin.records.create(REC)
    with pytest.raises(ValidationError, match="archived"):
        admin.records.update(other.id, other.version, {"category": "rent"})
    # ...but its existing records stay visible and can still be corrected.
    assert viewer.records.get(old.id).category == "rent"
    fixed = admin.records.update(old.id, old.version, {"notes": "still editable", "amount": "10"})
    assert fixed.notes == "still editable"
    admin.categories.archive(rent.id, False)
    assert admin.records.create({**REC, "category": "rent"}).category == "rent"


def test_set_kind(sessions):
    admin = sessions["admin"]
    other = Category.get(Category.name_lower == "other")
    assert admin.categories.set_kind(other.id, "income").kind == "income"
    with pytest.raises(ValidationError, match="not expense"):
        admin.records.create({**REC, "category": "other"})
    assert "income, expense or both" in _refused(
        lambda: admin.categories.set_kind(other.id, "all"), "kind"
    )


def test_set_kind_refused_when_records_would_not_fit(sessions):
    admin = sessions["admin"]
    inv = Category.get(Category.name_lower == "investment")
    rec = admin.records.create({**REC, "category": "investment"})  # an expense
    admin.records.delete(rec.id)  # even deleted: it could be restored
    message = _refused(lambda: admin.categories.set_kind(inv.id, "income"), "kind")
    assert "1 record(s) that are not income" in message
    assert admin.categories.set_kind(inv.id, "expense").kind == "expense"


def test_simultaneous_creation_of_the_same_category_is_a_clean_refusal(sessions, make_user):
    import threading

    admins = [sessions["admin"], make_user("admin", name="carol")]
    for attempt in range(3):
        name = f"Hobby{attempt}"
        barrier = threading.Barrier(2)
        outcomes = []

        def create(actor, name=name, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                actor.categories.create(name, "expense")
                outcomes.append("ok")
            except ValidationError as exc:
                outcomes.append(sorted(exc.fields))
            except Exception as exc:  # noqa: BLE001 - reported below
                outcomes.append(repr(exc))

        threads = [threading.Thread(target=create, args=(a,)) for a in admins]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes, key=str) == sorted(["ok", ["name"]], key=str), outcomes
        assert Category.select().where(Category.name_lower == name.lower()).count() == 1
