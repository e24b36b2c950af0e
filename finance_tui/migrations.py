"""Versioned schema migrations, applied on start inside one locked transaction.

Each migration is a function ``(db) -> None`` that moves the schema from version N-1 to N.
Append new ones to ``MIGRATIONS``; never edit a migration that has shipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from peewee import Database, PostgresqlDatabase, SqliteDatabase

from finance_tui.models import (
    ALL_MODELS,
    SEED_CATEGORIES,
    Budget,
    Category,
    ImportBatch,
    LoginThrottle,
    Meta,
    SavedView,
    Schedule,
    ScheduleRun,
    SshKey,
    User,
)

SCHEMA_VERSION_KEY = "schema_version"
SIGNING_KEY = "signing_key"
_PG_MIGRATION_LOCK = 0x46494E54  # "FINT": serialises concurrent starts on PostgreSQL


def _v1_initial(db: Database) -> None:
    db.create_tables(ALL_MODELS, safe=True)
    for name, kind in SEED_CATEGORIES:
        Category.insert(name=name, name_lower=name, kind=kind).on_conflict_ignore().execute()
    Meta.insert(key=SIGNING_KEY, value=secrets.token_hex(32)).on_conflict_ignore().execute()


# Chosen with EXPLAIN QUERY PLAN / EXPLAIN on 1,000,000 records (bench/). Every index
# costs ~1.5 us per inserted row, so v2 keeps the set small: sorting by creation time
# gets its index, and peewee's single-column foreign-key indexes, which duplicate the
# leading column of a composite index or serve only a rare user deletion, are dropped.
_V2_NEW_INDEXES = (("record_created_at", "created_at"),)
_V2_DROPPED_INDEXES = (
    "record_category_id",
    "record_created_by_id",
    "record_updated_by_id",
    "record_deleted_by_id",
)


def _v2_search_and_indexes(db: Database) -> None:
    """Substring-search index on notes; record indexes trimmed to what the queries use.

    SQLite: an FTS5 trigram index over ``record.notes``. Records have a UUID key, and FTS5
    needs a stable integer rowid, so ``record.search_id`` (unique integer, filled by a
    trigger when a writer leaves it NULL) is the FTS rowid; triggers keep the index in step
    with every insert, notes change and hard delete, whatever code path writes. Soft
    delete does not touch notes, so the index covers deleted records too (admins search
    them). PostgreSQL: ``pg_trgm`` GIN index on notes, which serves ``ILIKE '%x%'``.
    """
    from finance_tui import search_index

    for name, columns in _V2_NEW_INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "record" ({columns})')
    for name in _V2_DROPPED_INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    search_index.install(db)


def _v3_category_sort_index(db: Database) -> None:
    """Sorting by category reads each category's rows in creation order from one index.

    It replaces (category_id, date): a category filter with a date order or range is
    served as well by the date index (common categories) or by this one (rare ones).
    """
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "record_category_created" ON "record" (category_id, created_at)'
    )
    db.execute_sql('DROP INDEX IF EXISTS "record_category_id_date"')


def _v4_category_amount_index(db: Database) -> None:
    """Amount order within a category filter reads each category from this index.

    Amounts follow the category (food is small, salary large), so neither walking the
    amount index nor sorting a big category's rows serves that page (~0.6 s at 1M).
    """
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "record_category_amount" ON "record" '
        "(category_id, amount, created_at)"
    )


def _v5_session_secret_hash(db: Database) -> None:
    """Sessions gain the hash of a secret only their token carries (NULL for old rows).

    Old rows keep NULL, which verification refuses: their tokens were made from data
    anyone reading the database had, so everyone logs in once more after this upgrade.
    """
    if "secret_hash" not in {column.name for column in db.get_columns("session")}:
        db.execute_sql('ALTER TABLE "session" ADD COLUMN "secret_hash" VARCHAR(64)')


def _v6_import_batches(db: Database) -> None:
    """Imports written in short transactions: a batch table and the record's batch tag.

    The partial index holds only tagged rows (none once an import is published and its
    tags cleared), so it costs nothing to other writers and lets the import clear its
    tags, and a start remove a dead import's rows, in small indexed chunks.
    """
    db.create_tables([ImportBatch], safe=True)
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "record" ADD COLUMN IF NOT EXISTS import_batch INTEGER')
    else:
        columns = {row[1] for row in db.execute_sql('PRAGMA table_info("record")').fetchall()}
        if "import_batch" not in columns:
            db.execute_sql('ALTER TABLE "record" ADD COLUMN import_batch INTEGER')
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "record_import_batch" ON "record" (import_batch) '
        "WHERE import_batch IS NOT NULL"
    )


def _v7_login_throttle(db: Database) -> None:
    """Lockout state per login key (login_throttle); existing user locks carried over.

    Unknown names need throttle rows too, and a lock must be reserved before the
    password check, so the state moves out of ``user`` into its own table.
    """
    from finance_tui.throttle import user_key

    db.create_tables([LoginThrottle], safe=True)
    carried = User.select().where(
        (User.failed_logins > 0) | (User.lockouts > 0) | User.locked_until.is_null(False)
    )
    for user in carried:
        LoginThrottle.insert(
            key=user_key(user.id),
            failures=user.failed_logins,
            lockouts=user.lockouts,
            locked_until=user.locked_until,
        ).on_conflict_ignore().execute()


def _ssh_keys(db: Database) -> None:
    """Public keys per user for ``finance-tui serve ssh`` (ssh_key, unique per user)."""
    db.create_tables([SshKey], safe=True)


def _budgets(db: Database) -> None:
    """Monthly budgets per expense category (budget, one row per category and change)."""
    db.create_tables([Budget], safe=True)


def _saved_views(db: Database) -> None:
    """Saved views per user (saved_view, names unique per owner in any case)."""
    db.create_tables([SavedView], safe=True)


def _recurring_schedules(db: Database) -> None:
    """Recurring records: schedules and the periods they created (unique per period).

    New tables only: the record table (a million rows) is not touched.
    """
    db.create_tables([Schedule, ScheduleRun], safe=True)


def _audit_undo_columns(db: Database) -> None:
    """Audit events name the session that made them and the event an undo reverses.

    Undo walks one session's own changes newest first: ``(session_jti, id)`` finds them
    without a scan, and the unique ``undoes`` makes undoing one change twice impossible.
    Older events keep NULL, so no session can undo changes made before this upgrade.
    """
    columns = {column.name for column in db.get_columns("audit_event")}
    for name, sql_type in (("session_jti", "VARCHAR(64)"), ("undoes", "INTEGER")):
        if name not in columns:
            db.execute_sql(f'ALTER TABLE "audit_event" ADD COLUMN "{name}" {sql_type}')
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "audit_event_session_jti_id" ON "audit_event" (session_jti, id)'
    )
    db.execute_sql(
        'CREATE UNIQUE INDEX IF NOT EXISTS "audit_event_undoes" ON "audit_event" (undoes)'
    )


def _search_count_index(db: Database) -> None:
    """SQLite: counting a text search reads no record rows (~180 ms -> ~70 ms at 1M).

    The search index lists candidate ``search_id``s; the count then confirms each with
    ``is_deleted`` and the ``LIKE`` on notes (and, during an import, ``import_batch``).
    This index holds them all, so SQLite reads them from it instead of fetching every
    candidate's row (+27 MB, ~5 % of the file at 1M). PostgreSQL confirms from its
    pg_trgm bitmap scan; a B-tree on notes would not help it.
    """
    if isinstance(db, SqliteDatabase):
        db.execute_sql(
            'CREATE INDEX IF NOT EXISTS "record_search_notes" ON "record" '
            "(search_id, is_deleted, notes, import_batch)"
        )


MIGRATIONS: list[Callable[[Database], None]] = [
    _v1_initial,
    _v2_search_and_indexes,
    _v3_category_sort_index,
    _v4_category_amount_index,
    _v5_session_secret_hash,
    _v6_import_batches,
    _v7_login_throttle,
    _ssh_keys,
    _budgets,
    _saved_views,
    _recurring_schedules,
    _audit_undo_columns,
    _search_count_index,
]


def schema_version(db: Database) -> int:
    if not db.table_exists("meta"):
        return 0
    row = Meta.get_or_none(Meta.key == SCHEMA_VERSION_KEY)
    return int(row.value) if row else 0


def latest_version() -> int:
    return len(MIGRATIONS)


def apply_migrations(db: Database, target: int | None = None) -> int:
    """Bring the schema to ``target`` (default: latest). Returns the version reached."""
    target = latest_version() if target is None else target
    if schema_version(db) >= target:
        return schema_version(db)
    with db.atomic():
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK,))
        current = schema_version(db)  # re-read under the lock: another process may have won
        for version in range(current + 1, target + 1):
            MIGRATIONS[version - 1](db)
            Meta.insert(key=SCHEMA_VERSION_KEY, value=str(version)).on_conflict(
                conflict_target=[Meta.key], update={Meta.value: str(version)}
            ).execute()
    return target
