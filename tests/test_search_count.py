"""The count of a text search: exact (deleted and unpublished-import rows left out) and,
on SQLite, answered from indexes alone (no record row read, however many match)."""

from __future__ import annotations

from datetime import date

import pytest

from finance_tui.db import is_sqlite
from finance_tui.domain.filters import RecordFilter
from finance_tui.models import Category, ImportBatch, Record, database
from finance_tui.services import query
from finance_tui.services.bulk import NewRecord, insert_records

NOTES = ["Groceries at Lidl", "LIDL express", "Café crème", "Bus ticket", "lidl-ish café"]


def _seed(admin, repeat: int = 4) -> None:
    food = Category.get(Category.name_lower == "food").id
    rows = [
        NewRecord("expense", 100 + i, food, date(2025, 1 + i % 12, 1 + i % 28), text)
        for i, text in enumerate(NOTES * repeat)
    ]
    with database.atomic():
        insert_records(rows, admin.principal.user_id)


def _plan(flt: RecordFilter) -> list[str]:
    sql, params = query.count_statement(flt)
    rows = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return [row[-1] for row in rows]


def _hide(record_ids: list, state: str = "pending") -> ImportBatch:
    """Tag records as rows of an import in ``state`` (as a running import leaves them)."""
    batch = ImportBatch.create(state=state)
    Record.update(import_batch=batch.id).where(Record.id.in_(record_ids)).execute()
    return batch


def _lidl_ids() -> list:
    return [r.id for r in Record.select().where(Record.notes.contains("lidl"))]


@pytest.mark.parametrize(
    "flt",
    [
        RecordFilter(text="lidl"),
        RecordFilter(text="café"),  # non-ASCII: confirmed by casefold_contains
        RecordFilter(text="lidl", only_deleted=True),
    ],
    ids=["ascii", "non-ascii", "only-deleted"],
)
def test_text_count_reads_no_record_rows(admin, flt):
    """Candidates from the search index are confirmed from record_search_notes (deleted
    flag, notes, import batch): no record row is fetched, none scanned. (With deleted
    rows included, no test on ``is_deleted`` leads SQLite there: it keeps the unique
    search_id index and reads the rows, as before.)"""
    if not is_sqlite():
        pytest.skip("SQLite's plan; PostgreSQL confirms in its pg_trgm bitmap scan")
    _seed(admin)
    _hide(_lidl_ids()[:1])  # an unpublished import: the subtracted count runs too
    plan = _plan(flt)
    assert any("COVERING INDEX record_search_notes" in step for step in plan), plan
    assert not [s for s in plan if "SCAN t1" in s or "USING INDEX" in s or "PRIMARY KEY" in s]


def test_text_count_leaves_out_deleted_and_unpublished_rows(admin):
    _seed(admin)  # 12 notes contain "lidl" (any case), 8 contain "café"
    ids = _lidl_ids()
    assert query.count_rows(RecordFilter(text="lidl")) == len(ids) == 12
    assert query.count_rows(RecordFilter(text="CAFÉ")) == 8
    record = admin.records.get(ids[0])
    admin.records.delete(record.id, record.version)
    batch = _hide(ids[1:4])
    assert query.count_rows(RecordFilter(text="lidl")) == 8
    assert query.count_rows(RecordFilter(text="lidl", include_deleted=True)) == 9
    assert query.count_rows(RecordFilter(text="lidl", only_deleted=True)) == 1
    ImportBatch.update(state="published").where(ImportBatch.id == batch.id).execute()
    assert query.count_rows(RecordFilter(text="lidl")) == 11


def _vm_steps(flt: RecordFilter) -> int:
    """SQLite virtual-machine instructions run by :func:`query.count_rows`."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    connection = database.connection()
    connection.set_progress_handler(tick, 1)
    try:
        query.count_rows(flt)
    finally:
        connection.set_progress_handler(None, 1)
    return steps[0]


def test_unpublished_rows_are_counted_only_while_an_import_is_unpublished(admin):
    """With no unpublished import the subtracted count is skipped: with a text filter
    SQLite plans it through the search index, which cost as much as the count itself."""
    if not is_sqlite():
        pytest.skip("counts SQLite's virtual-machine steps")
    _seed(admin, repeat=40)
    flt = RecordFilter(text="lidl")
    alone = _vm_steps(flt)
    batch = ImportBatch.create(state="pending")  # an import that has written no row yet
    while_importing = _vm_steps(flt)
    assert alone < 0.7 * while_importing, (alone, while_importing)
    ImportBatch.update(state="done").where(ImportBatch.id == batch.id).execute()
    assert _vm_steps(flt) < 0.7 * while_importing


def test_search_count_index_holds_what_the_count_confirms(db):
    if not is_sqlite():
        pytest.skip("the covering index is SQLite's; PostgreSQL keeps its pg_trgm index")
    rows = database.execute_sql("PRAGMA index_info('record_search_notes')").fetchall()
    assert [row[2] for row in rows] == ["search_id", "is_deleted", "notes", "import_batch"]
