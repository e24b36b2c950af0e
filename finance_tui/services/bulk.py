"""Fast insertion of many already-validated records (demo data, CSV import).

Runs inside the caller's transaction. SQLite uses the driver's ``executemany``
(peewee's insert_many is ~8x slower at this volume) with ``search_id`` assigned here, so
the search-index trigger indexes each row without an extra UPDATE; PostgreSQL uses
``COPY``. Summary deltas are applied once per batch, in the same transaction, except
for rows of an import batch (``import_batch``): they stay invisible, and out of the
summaries, until the import publishes them (:mod:`imports`).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from itertools import islice
from typing import NamedTuple

from finance_tui import search_index
from finance_tui.db import current_database, is_postgres
from finance_tui.models import Record, database, utcnow
from finance_tui.services import summaries

BATCH = 20_000
_COLUMNS = (
    "id",
    "kind",
    "amount",
    "category_id",
    "date",
    "notes",
    "created_by_id",
    "updated_by_id",
    "created_at",
    "updated_at",
    "is_deleted",
    "version",
    "import_fingerprint",
    "import_batch",
)

# (kind, amount_minor, category_id, date, notes, fingerprint, created_at or None)
RowTuple = tuple[str, int, int, date, str, str | None, datetime | None]
Progress = Callable[[int], None]


class NewRecord(NamedTuple):
    """A record to insert. A tuple in :data:`RowTuple` order: an import makes one per
    row, and a named tuple costs a third of a frozen dataclass to make and none to
    turn into the insert's tuple."""

    kind: str
    amount_minor: int
    category_id: int
    date: date
    notes: str = ""
    fingerprint: str | None = None
    created_at: datetime | None = None

    def as_tuple(self) -> RowTuple:
        return self


def time_ordered_uuids() -> Iterator[str]:
    """UUIDv7 (RFC 9562): millisecond time, then a counter and random bits, increasing.

    Keys that increase append to the primary-key B-tree instead of landing on random
    pages, which keeps a million-row load fast; they are still valid, unique UUIDs.
    """
    import random
    import time

    bits = random.Random(int.from_bytes(os.urandom(16), "big")).getrandbits
    millis = time.time_ns() // 1_000_000
    counter = bits(10)
    while True:
        counter += 1
        if counter >= 1 << 12:  # 12-bit counter overflow: move to the next millisecond
            millis, counter = millis + 1, 0
        tail = bits(62)
        value = (millis << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | tail
        yield f"{value:032x}"  # how peewee stores a UUID on SQLite; PostgreSQL parses it


def _batches(rows: Iterable[RowTuple], size: int) -> Iterator[list[RowTuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_records(rows: Iterable[NewRecord], actor_id: uuid.UUID | None) -> int:
    """Insert rows (call inside a write transaction). Returns the number inserted."""
    return insert_tuples((r.as_tuple() for r in rows), actor_id)


def insert_tuples(
    rows: Iterable[RowTuple],
    actor_id: uuid.UUID | None,
    *,
    progress: Progress | None = None,
    defer_indexes: bool = False,
    import_batch: int | None = None,
) -> int:
    """Insert plain tuples (the fast path for millions of rows); see :data:`RowTuple`.

    Rows in date order insert fastest: most record indexes then grow at their ends.
    ``defer_indexes`` (SQLite, empty table only) builds the indexes once at the end, which
    holds the write lock for the build: only for a database nobody else uses yet (demo).
    ``import_batch`` tags the rows as part of that unpublished import (no summary update).
    """
    if is_postgres():
        return _insert_postgres(rows, actor_id, progress, import_batch)
    return _insert_sqlite(rows, actor_id, progress, defer_indexes, import_batch)


def _apply_summaries(batch: list[RowTuple], import_batch: int | None) -> None:
    if import_batch is None:
        summaries.apply((r[3], r[2], r[0], 1, r[1]) for r in batch)


def _insert_sqlite(
    rows: Iterable[RowTuple],
    actor_id: uuid.UUID | None,
    progress: Progress | None,
    defer_indexes: bool,
    import_batch: int | None,
) -> int:
    columns = (*_COLUMNS, "search_id")
    table = Record._meta.table_name
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
    actor = actor_id.hex if actor_id else None
    now = str(utcnow())
    cursor = database.cursor()
    next_id = cursor.execute("SELECT COALESCE(MAX(search_id), 0) FROM record").fetchone()[0] + 1
    inserted = 0
    # The per-row search trigger costs ~4x the insert itself: index each batch in one
    # statement instead. Dropping triggers is transactional, and this transaction holds
    # SQLite's write lock, so no other writer can insert without them meanwhile.
    triggers = search_index.suspend_triggers(current_database())
    deferred = _defer_indexes(cursor) if defer_indexes and next_id == 1 else []
    new_id = time_ordered_uuids()
    for batch in _batches(rows, BATCH):
        params = []
        for kind, amount, category_id, day, notes, fingerprint, created in batch:
            stamp = str(created) if created else now
            params.append(
                (
                    next(new_id),
                    kind,
                    amount,
                    category_id,
                    day.isoformat(),
                    notes,
                    actor,
                    actor,
                    stamp,
                    stamp,
                    0,
                    1,
                    fingerprint,
                    import_batch,
                    next_id,
                )
            )
            next_id += 1
        cursor.executemany(sql, params)
        search_index.index_range(current_database(), next_id - len(batch), next_id - 1)
        _apply_summaries(batch, import_batch)
        inserted += len(batch)
        if progress:
            progress(inserted)
    if deferred:
        _build_indexes(cursor, deferred)
    search_index.resume_triggers(current_database(), triggers)
    return inserted


def _defer_indexes(cursor: sqlite3.Cursor) -> list[str]:
    """Drop the non-unique record indexes of an empty table; returns their DDL.

    Building an index once over the loaded rows is cheaper than growing it row by row
    (a first load of 1M records: ~20 % faster). Only for an empty table: rebuilding
    the indexes of existing records would cost more than it saves. Unique indexes stay,
    so duplicates are still refused as they arrive. Transactional, like the triggers.
    """
    found = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'record' "
        "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
    ).fetchall()
    for name, _ in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [ddl for _, ddl in found]


def _build_indexes(cursor: sqlite3.Cursor, ddl: list[str]) -> None:
    """Create the deferred indexes, sorting through temporary files: with the usual
    ``temp_store=memory`` the sort of a million-row index is held in RAM, and memory
    would grow with the size of the load instead of staying flat."""
    before = cursor.execute("PRAGMA temp_store").fetchone()[0]
    cursor.execute("PRAGMA temp_store = FILE")
    try:
        for statement in ddl:
            cursor.execute(statement)
    finally:
        cursor.execute(f"PRAGMA temp_store = {int(before)}")


def _insert_postgres(
    rows: Iterable[RowTuple],
    actor_id: uuid.UUID | None,
    progress: Progress | None,
    import_batch: int | None,
) -> int:
    table = Record._meta.table_name
    now = utcnow()
    inserted = 0
    cursor = database.cursor()
    new_id = time_ordered_uuids()
    copy_sql = f'COPY "{table}" ({", ".join(_COLUMNS)}) FROM STDIN'
    for batch in _batches(rows, BATCH):
        with cursor.copy(copy_sql) as copy:
            for kind, amount, category_id, day, notes, fingerprint, created in batch:
                stamp = created or now
                copy.write_row(
                    (
                        next(new_id),
                        kind,
                        amount,
                        category_id,
                        day,
                        notes,
                        actor_id,
                        actor_id,
                        stamp,
                        stamp,
                        False,
                        1,
                        fingerprint,
                        import_batch,
                    )
                )
        _apply_summaries(batch, import_batch)
        inserted += len(batch)
        if progress:
            progress(inserted)
    return inserted
