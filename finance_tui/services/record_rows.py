"""Records as plain rows: one joined SELECT and a fast conversion to ``RecordRow``.

Shared by the record service, the query engine, the dashboard and analytics (kept
apart from :mod:`records` so that the query engine does not import the service).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from peewee import JOIN, ModelSelect

from finance_tui.domain.dto import RecordRow
from finance_tui.models import Category, Record, User, database
from finance_tui.money import from_minor

Creator = User.alias("creator")
Updater = User.alias("updater")
Deleter = User.alias("deleter")


def record_select() -> ModelSelect[Record]:
    """Records with category and user names joined in: one query per page, no N+1.

    Run it with :func:`fetch_rows`; the columns are in :func:`to_row`'s order.
    """
    return (
        Record.select(
            Record.id,
            Record.kind,
            Record.amount,
            Record.category,
            Category.name,
            Record.date,
            Record.notes,
            Creator.username,
            Updater.username,
            Record.created_at,
            Record.updated_at,
            Record.version,
            Record.is_deleted,
            Record.deleted_at,
            Deleter.username,
        )
        .join(Category, on=(Record.category == Category.id))
        .switch(Record)
        .join(Creator, JOIN.LEFT_OUTER, on=(Record.created_by == Creator.id))
        .switch(Record)
        .join(Updater, JOIN.LEFT_OUTER, on=(Record.updated_by == Updater.id))
        .switch(Record)
        .join(Deleter, JOIN.LEFT_OUTER, on=(Record.deleted_by == Deleter.id))
    )


def fetch_rows(query: ModelSelect[Record]) -> list[RecordRow]:
    """Run a :func:`record_select` query on the cursor and build RecordRows directly.

    Peewee's per-row conversion (model instances, or strptime over several formats for
    SQLite timestamps) cost several times the SQL itself on a records page.
    """
    sql, params = query.sql()
    return [to_row(row) for row in database.execute_sql(sql, params).fetchall()]


def _stamp(value: datetime | str) -> datetime:
    """SQLite hands timestamps back as text, PostgreSQL as datetimes."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _stamp_or_none(value: datetime | str | None) -> datetime | None:
    return None if value is None else _stamp(value)


def to_row(row: tuple) -> RecordRow:
    """A raw :func:`record_select` row (either engine's types) as a RecordRow."""
    (rid, kind, amount, category_id, category, day, notes, creator, updater, created_at,
     updated_at, version, is_deleted, deleted_at, deleter) = row  # fmt: skip
    return RecordRow(
        id=rid if isinstance(rid, UUID) else UUID(str(rid)),
        kind=kind,
        amount=from_minor(amount),
        category_id=category_id,
        category=category,
        date=day if isinstance(day, date) else date.fromisoformat(str(day)),
        notes=notes,
        created_by=creator,
        updated_by=updater,
        created_at=_stamp(created_at),
        updated_at=_stamp(updated_at),
        version=version,
        is_deleted=bool(is_deleted),
        deleted_at=_stamp_or_none(deleted_at),
        deleted_by=deleter,
    )
