"""Optimistic concurrency (docs/ARCHITECTURE.md: Data model): a write naming a stale version is refused with who
changed the record and when; the first writer's change survives."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from finance_tui.errors import ConflictError, NotFound, ValidationError
from finance_tui.models import AuditEvent, Record, utcnow
from finance_tui.services import summaries

NEW = {"kind": "expense", "amount": "20.00", "category": "food", "date": "2026-11-10"}


@pytest.fixture
def two_admins(admin, make_user):
    return admin, make_user("admin", name="carol")


def _events(action: str) -> int:
    return AuditEvent.select().where(AuditEvent.action == action).count()


def test_second_update_with_stale_version_is_refused(two_admins):
    root, carol = two_admins
    rec = root.records.create(NEW)
    seen_by_root = root.records.get(rec.id)
    seen_by_carol = carol.records.get(rec.id)
    assert seen_by_root.version == seen_by_carol.version == 1
    first = root.records.update(rec.id, seen_by_root.version, {"amount": "21.00"})
    assert first.version == 2 and first.updated_by == "root"
    with pytest.raises(ConflictError) as err:
        carol.records.update(rec.id, seen_by_carol.version, {"notes": "carol was here"})
    conflict = err.value
    assert conflict.changed_by == "root"
    assert conflict.current_version == 2
    assert abs(conflict.changed_at - first.updated_at) < timedelta(seconds=1)
    message = str(conflict)
    assert "root" in message and f"{first.updated_at:%Y-%m-%d %H:%M}" in message
    assert "reload" in message
    after = carol.records.get(rec.id)
    assert (after.amount, after.notes, after.version) == (Decimal("21.00"), "", 2)
    assert _events("record_update") == 1
    # After reloading, carol's change goes through on top of root's.
    final = carol.records.update(rec.id, after.version, {"notes": "carol was here"})
    assert (final.amount, final.notes, final.version, final.updated_by) == (
        Decimal("21.00"),
        "carol was here",
        3,
        "carol",
    )
    assert summaries.verify() == []


def test_delete_with_stale_version_is_refused(two_admins):
    root, carol = two_admins
    rec = root.records.create(NEW)
    stale = carol.records.get(rec.id)
    root.records.update(rec.id, rec.version, {"amount": "5.00"})
    with pytest.raises(ConflictError) as err:
        carol.records.delete(rec.id, stale.version)
    assert err.value.changed_by == "root" and err.value.current_version == 2
    still = root.records.get(rec.id)
    assert not still.is_deleted and still.amount == Decimal("5.00")
    assert _events("record_delete") == 0
    carol.records.delete(rec.id, still.version)
    assert root.records.get(rec.id).is_deleted
    assert summaries.verify() == []


def test_update_of_a_record_deleted_meanwhile(two_admins):
    root, carol = two_admins
    rec = root.records.create(NEW)
    stale = carol.records.get(rec.id)
    root.records.delete(rec.id, rec.version)
    with pytest.raises(NotFound):
        carol.records.update(rec.id, stale.version, {"amount": "1"})
    with pytest.raises(ValidationError, match="already deleted"):
        carol.records.delete(rec.id)
    assert Record.get_by_id(rec.id).amount == 2000


def test_stale_version_after_delete_and_restore(two_admins):
    root, carol = two_admins
    rec = root.records.create(NEW)
    root.records.delete(rec.id)
    restored = root.records.restore(rec.id)
    assert restored.version == 3 and not restored.is_deleted
    with pytest.raises(ConflictError) as err:
        carol.records.update(rec.id, rec.version, {"amount": "1"})
    assert err.value.current_version == 3


def test_bad_version_argument(two_admins):
    root, _ = two_admins
    rec = root.records.create(NEW)
    for bad in ("1", None, 1.0, True):
        with pytest.raises(ValidationError) as err:
            root.records.update(rec.id, bad, {"amount": "1"})
        assert "version" in err.value.fields
    with pytest.raises(ConflictError):
        root.records.update(rec.id, 7, {"amount": "1"})


def test_racing_updates_exactly_one_wins(two_admins):
    """Eight threads update the same version at once: one wins, seven get a conflict."""
    root, carol = two_admins
    rec = root.records.create(NEW)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        session = root if i % 2 else carol
        barrier.wait()
        try:
            session.records.update(rec.id, 1, {"amount": f"{30 + i}.00"})
            result = "won"
        except ConflictError:
            result = "conflict"
        except Exception as exc:  # anything else is a failure of the test
            result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    final = Record.get_by_id(rec.id)
    assert final.version == 2
    assert _events("record_update") == 1
    assert summaries.verify() == []


def test_conflict_names_someone_else_when_updater_is_gone(two_admins):
    """If the last updater's account row is gone the message still reads well."""
    root, carol = two_admins
    rec = root.records.create(NEW)
    Record.update(updated_by=None, version=5, updated_at=utcnow()).where(
        Record.id == rec.id
    ).execute()
    with pytest.raises(ConflictError, match="someone else"):
        carol.records.update(rec.id, 1, {"amount": "3"})
