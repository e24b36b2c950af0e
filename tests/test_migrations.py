"""Upgrading a database that holds data from the previous schema (v1) to the latest."""

from __future__ import annotations

import time
from datetime import date, timedelta

import jwt
import pytest
from conftest import PASSWORD, PG_URL

from finance_tui import search_index
from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import SessionExpired
from finance_tui.migrations import (
    MIGRATIONS,
    SIGNING_KEY,
    _v5_session_secret_hash,
    apply_migrations,
    latest_version,
    schema_version,
)
from finance_tui.models import ALL_MODELS, Meta, Record, Session, User, database, utcnow
from finance_tui.services import summaries
from finance_tui.services.query import run_query
from finance_tui.services.users import bootstrap_admin
from finance_tui.session import SessionController
from finance_tui.startup import connect


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def v1_url(request, tmp_path):
    """A database migrated to schema v1 only."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        db = connect(url, migrate=False)
    else:
        url = PG_URL
        db = connect(url, migrate=False)
        with db.atomic():
            for table in [m._meta.table_name for m in reversed(ALL_MODELS)] + db.get_tables():
                db.execute_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    apply_migrations(db, target=1)
    yield url
    database.close()


def _index_names(db) -> set[str]:
    return {index.name for index in db.get_indexes("record")}


def test_upgrade_from_v1_keeps_data_and_indexes_it(v1_url):
    db = database.obj
    assert schema_version(db) == 1
    bootstrap_admin("root", "root@example.com", PASSWORD)
    admin = SessionController.login("root", PASSWORD)
    old = [
        admin.records.create(
            {
                "kind": "expense",
                "amount": f"{n}.25",
                "category": "food",
                "date": f"2025-0{n}-1{n}",
                "notes": note,
            }
        )
        for n, note in [(1, "Groceries at Lidl"), (2, "Coffee beans"), (3, "lidl again")]
    ]
    admin.records.delete(old[1].id)
    assert "record_category_id" in _index_names(db)

    db = connect(v1_url)  # the app's start: applies the pending migrations
    assert schema_version(db) == latest_version() >= 2
    names = _index_names(db)
    assert "record_created_at" in names
    assert "record_category_id" not in names
    if db.__class__.__name__.startswith("Postgres"):
        assert "record_notes_trgm" in names
    assert search_index.verify(db) == []
    assert summaries.verify() == []

    found = run_query(RecordFilter(text="LIDL"))
    assert sorted(r.notes for r in found.rows) == ["Groceries at Lidl", "lidl again"]
    assert run_query(RecordFilter(text="beans")).total == 0
    assert run_query(RecordFilter(text="beans", include_deleted=True)).total == 1

    admin = SessionController.login("root", PASSWORD)
    new = admin.records.create(
        {
            "kind": "income",
            "amount": "7",
            "category": "salary",
            "date": date(2025, 4, 1),
            "notes": "Lidl payout",
        }
    )
    assert len(run_query(RecordFilter(text="lidl")).rows) == 3
    admin.records.update(old[0].id, old[0].version, {"notes": "market"})
    assert {r.id for r in run_query(RecordFilter(text="lidl")).rows} == {old[2].id, new.id}
    assert search_index.verify(db) == []
    assert Record.select().count() == 4


def test_migrating_twice_changes_nothing(v1_url):
    db = connect(v1_url)
    before = _index_names(db)
    assert apply_migrations(db) == latest_version()
    assert _index_names(db) == before


def test_session_secret_migration_signs_old_sessions_out(v1_url):
    """Before the secret hash, a token was jti + user id signed with the key in the
    database. After upgrading, such a session is refused with "log in again"."""
    db = database.obj
    db.execute_sql('ALTER TABLE "session" DROP COLUMN "secret_hash"')  # the pre-upgrade table
    before = MIGRATIONS.index(_v5_session_secret_hash)
    apply_migrations(db, target=before)
    bootstrap_admin("root", "root@example.com", PASSWORD)
    user_id = str(User.get().id)
    now = utcnow()
    Session.insert(  # names only the columns the old table has
        jti="oldjti", user=user_id, issued_at=now, expires_at=now + timedelta(hours=1)
    ).execute()
    old_token = jwt.encode(
        {"sub": user_id, "jti": "oldjti", "iat": int(time.time()), "exp": int(time.time()) + 3600},
        Meta.get(Meta.key == SIGNING_KEY).value,
        algorithm="HS256",
    )

    db = connect(v1_url)
    assert schema_version(db) == latest_version()
    assert "secret_hash" in {column.name for column in db.get_columns("session")}
    assert Session.get_by_id("oldjti").secret_hash is None
    with pytest.raises(SessionExpired, match="security upgrade.*log in again"):
        SessionController.resume(old_token)
    fresh = SessionController.login("root", PASSWORD)
    assert SessionController.resume(fresh.token).principal.username == "root"
    _v5_session_secret_hash(db)  # idempotent: the column is there, nothing happens
