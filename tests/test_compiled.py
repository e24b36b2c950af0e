"""CompiledSelect: the session check's query with its SQL made once per database. Its
rows must be what peewee gives for the same query, on each engine, for each database."""

from __future__ import annotations

from uuid import UUID

from finance_tui.compiled import SLOT, CompiledSelect
from finance_tui.models import Session, User
from finance_tui.startup import connect

COLUMNS = (Session.jti, Session.expires_at, Session.revoked_at, User.id, User.is_active)


def _query(jti: str):
    return Session.select(*COLUMNS).join(User).where(Session.jti == jti)


def test_rows_are_what_peewee_gives(admin):
    compiled = CompiledSelect(_query, COLUMNS)
    jti = admin.principal.session_jti
    row = compiled.first(jti)
    assert row == _query(jti).tuples().first()
    assert isinstance(row[3], UUID) and row[4] is True and row[2] is None
    assert row[1].year >= 2026  # a datetime, not the text SQLite stores
    assert compiled.first(jti) == row  # the second run reuses the SQL, same answer


def test_the_value_is_a_parameter_never_sql(admin):
    compiled = CompiledSelect(_query, COLUMNS)
    for hostile in (
        "' OR '1'='1",
        "x'; DROP TABLE session; --",
        SLOT,
    ):  # SLOT: the value's stand-in
        assert compiled.first(hostile) is None
    assert compiled.first(admin.principal.session_jti) is not None


def test_another_database_is_read_as_that_database(admin, tmp_path):
    compiled = CompiledSelect(_query, COLUMNS)
    jti = admin.principal.session_jti
    assert compiled.first(jti) is not None
    connect(f"sqlite:///{tmp_path / 'other.db'}")  # no sessions in this one
    assert compiled.first(jti) is None
