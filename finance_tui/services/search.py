"""Substring search over record notes, served by an index on both engines.

The meaning is the original's: a case-insensitive substring of the notes. A plain
``LIKE '%x%'`` must read every record; here an index finds the candidates:

* SQLite: an FTS5 trigram table (``record_fts``, kept by :mod:`finance_tui.search_index`).
  A phrase query on the trigram index finds candidates; the same ``LIKE`` as before then
  confirms them, so results are exactly those of the plain query.
* PostgreSQL: a ``pg_trgm`` GIN index on ``notes``, which serves ``ILIKE '%x%'``.

Trigrams need 3 characters; shorter text falls back to the plain ``LIKE`` (a scan, which
stops early when the first page fills).
"""

from __future__ import annotations

from peewee import SQL, Database, Expression, SqliteDatabase, fn

from finance_tui.models import Record
from finance_tui.search_index import FTS_TABLE

MIN_TRIGRAM = 3


def fts_phrase(text: str) -> str:
    """FTS5 query matching ``text`` as a contiguous substring (quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def fewer_candidates_than(db: Database, text: str, cap: int) -> bool:
    """True when the SQLite index lists fewer than ``cap`` notes containing ``text``.

    Costs at most ``cap`` index entries; False when the index cannot answer (short text,
    PostgreSQL).
    """
    if not isinstance(db, SqliteDatabase) or len(text) < MIN_TRIGRAM:
        return False
    found = db.execute_sql(
        f"SELECT COUNT(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT ?)",
        (fts_phrase(text), cap),
    ).fetchone()[0]
    return found < cap


def contains_condition(db: Database, text: str) -> Expression:
    """Case-insensitive substring of notes without the index.

    PostgreSQL's ILIKE folds every letter. SQLite's LIKE folds ASCII only, so a needle
    with other letters goes through the ``casefold_contains`` function (registered in
    :mod:`finance_tui.db`); ASCII needles keep the faster built-in LIKE.
    """
    if isinstance(db, SqliteDatabase) and not text.isascii():
        return fn.casefold_contains(Record.notes, text) == 1
    return Record.notes.contains(text)


def notes_condition(db: Database, text: str) -> Expression:
    """Case-insensitive substring of notes, as a condition on ``Record``.

    On SQLite with 3+ characters the FTS index narrows the candidates and the plain
    ``LIKE`` (or ``casefold_contains``) confirms them, deciding the meaning.
    """
    plain = contains_condition(db, text)
    if isinstance(db, SqliteDatabase) and len(text) >= MIN_TRIGRAM:
        # search_id is not a model field (SQLite only); no joined table has that column.
        candidates = SQL(
            f"search_id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)",
            [fts_phrase(text)],
        )
        return candidates & plain
    return plain
