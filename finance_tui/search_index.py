"""The substring-search index on record notes: its DDL, upkeep and checks.

Schema-level code (the migrations install it, ``doctor`` verifies and rebuilds it, bulk
loads suspend its triggers); the queries that use it are in
``finance_tui.services.search``, which explains the meaning.

* SQLite: an FTS5 table with the trigram tokenizer (``record_fts``). Its rowid is
  ``record.search_id``, a unique integer column (records have UUID keys; the implicit
  SQLite rowid is not stable across VACUUM). Triggers fill ``search_id`` for writers that
  leave it NULL and keep the FTS index in step with every insert, notes change and hard
  delete, whichever code path writes (services, bulk import, a hand-written UPDATE). Soft
  delete does not change notes, so deleted records stay indexed (admins search them).
* PostgreSQL: a ``pg_trgm`` GIN index on ``notes``, which serves ``ILIKE '%x%'``.
"""

from __future__ import annotations

from peewee import Database, PostgresqlDatabase, SqliteDatabase

FTS_TABLE = "record_fts"

_SQLITE_TRIGGERS = {
    # A writer that leaves search_id NULL (peewee's Record.create) gets the next one; the
    # UPDATE then fires record_search_upd, which indexes the notes.
    "record_search_fill": """
        CREATE TRIGGER IF NOT EXISTS record_search_fill AFTER INSERT ON record
        WHEN new.search_id IS NULL BEGIN
            UPDATE record SET search_id = (SELECT COALESCE(MAX(search_id), 0) + 1 FROM record)
            WHERE rowid = new.rowid;
        END""",
    "record_search_ins": """
        CREATE TRIGGER IF NOT EXISTS record_search_ins AFTER INSERT ON record
        WHEN new.search_id IS NOT NULL BEGIN
            INSERT INTO record_fts(rowid, notes) VALUES (new.search_id, new.notes);
        END""",
    "record_search_upd": """
        CREATE TRIGGER IF NOT EXISTS record_search_upd AFTER UPDATE OF notes, search_id ON record
        WHEN old.notes IS NOT new.notes OR old.search_id IS NOT new.search_id BEGIN
            INSERT INTO record_fts(record_fts, rowid, notes)
                SELECT 'delete', old.search_id, old.notes WHERE old.search_id IS NOT NULL;
            INSERT INTO record_fts(rowid, notes)
                SELECT new.search_id, new.notes WHERE new.search_id IS NOT NULL;
        END""",
    "record_search_del": """
        CREATE TRIGGER IF NOT EXISTS record_search_del AFTER DELETE ON record
        WHEN old.search_id IS NOT NULL BEGIN
            INSERT INTO record_fts(record_fts, rowid, notes)
                VALUES ('delete', old.search_id, old.notes);
        END""",
}


def _sqlite_columns(db: Database, table: str) -> set[str]:
    return {row[1] for row in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()}


def install(db: Database) -> None:
    """Create the search index (idempotent) and index every existing record."""
    if isinstance(db, SqliteDatabase):
        if "search_id" not in _sqlite_columns(db, "record"):
            db.execute_sql('ALTER TABLE "record" ADD COLUMN search_id INTEGER')
        db.execute_sql("UPDATE record SET search_id = rowid WHERE search_id IS NULL")
        db.execute_sql(
            'CREATE UNIQUE INDEX IF NOT EXISTS "record_search_id" ON "record" (search_id)'
        )
        db.execute_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "notes, content='record', content_rowid='search_id', tokenize='trigram')"
        )
        db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        for sql in _SQLITE_TRIGGERS.values():
            db.execute_sql(sql)
    elif isinstance(db, PostgresqlDatabase):
        db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        db.execute_sql(
            'CREATE INDEX IF NOT EXISTS "record_notes_trgm" ON "record" '
            "USING gin (notes gin_trgm_ops)"
        )


def suspend_triggers(db: Database) -> list[str]:
    """Drop the SQLite search triggers for a bulk load; returns their DDL for resume."""
    found = db.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
        f"({', '.join('?' * len(_SQLITE_TRIGGERS))})",
        list(_SQLITE_TRIGGERS),
    ).fetchall()
    for name, _ in found:
        db.execute_sql(f"DROP TRIGGER {name}")
    return [ddl for _, ddl in found]


def resume_triggers(db: Database, saved: list[str]) -> None:
    for ddl in saved:
        db.execute_sql(ddl)


def index_range(db: Database, first: int, last: int) -> None:
    """Index the notes of records with ``first <= search_id <= last`` (bulk loads)."""
    db.execute_sql(
        f"INSERT INTO {FTS_TABLE}(rowid, notes) SELECT search_id, notes FROM record "
        "WHERE search_id BETWEEN ? AND ?",
        (first, last),
    )


def rebuild(db: Database) -> None:
    """Recreate the index from the records (``finance-tui doctor --rebuild``)."""
    if isinstance(db, SqliteDatabase):
        for name in _SQLITE_TRIGGERS:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
        db.execute_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        install(db)
    elif isinstance(db, PostgresqlDatabase):
        db.execute_sql('DROP INDEX IF EXISTS "record_notes_trgm"')
        install(db)


def verify(db: Database) -> list[str]:
    """Problems with the search index (empty when it is complete and consistent)."""
    problems: list[str] = []
    if isinstance(db, SqliteDatabase):
        tables = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master").fetchall()}
        missing = [n for n in (FTS_TABLE, "record_search_id", *_SQLITE_TRIGGERS) if n not in tables]
        if missing:
            return [f"search index: missing {', '.join(missing)}"]
        nulls = db.execute_sql("SELECT COUNT(*) FROM record WHERE search_id IS NULL").fetchone()[0]
        if nulls:
            problems.append(f"search index: {nulls} records have no search id")
        try:
            # 'integrity-check' with rank 1 also compares the index with the records.
            db.execute_sql(
                f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"
            )
        except Exception as exc:  # the driver reports corruption as an error
            problems.append(f"search index: {exc}")
    elif isinstance(db, PostgresqlDatabase):
        row = db.execute_sql(
            "SELECT indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = 'record_notes_trgm'"
        ).fetchone()
        if row is None:
            problems.append("search index: pg_trgm index record_notes_trgm is missing")
        elif not row[0]:
            problems.append("search index: pg_trgm index record_notes_trgm is invalid")
    return problems
