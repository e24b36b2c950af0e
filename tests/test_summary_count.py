"""Counts answered from the monthly summaries equal counting the rows.

The records screen asks for the total of every filter; for kind, categories and whole
months the summaries answer it without reading the records, so both must always agree:
with deleted records, edits that move a record to another month or category, and an
unpublished import whose rows nobody may see yet.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from finance_tui.db import write_transaction
from finance_tui.demo import create_demo
from finance_tui.domain.filters import RecordFilter
from finance_tui.models import Category, Record
from finance_tui.services import imports
from finance_tui.services.bulk import NewRecord, insert_tuples
from finance_tui.services.query import count_rows, run_count, summary_count

TODAY = date(2026, 11, 25)


@pytest.fixture
def books(admin):
    """Demo records, some deleted and some edited through the services, plus the rows
    of an import that has not been published."""
    create_demo(400, seed=11, today=TODAY)
    ids = [r.id for r in Record.select(Record.id).order_by(Record.id).limit(30)]
    for record_id in ids[:10]:
        admin.records.delete(record_id)
    moved_to = Category.get(Category.name_lower == "health")
    for record_id in ids[10:20]:
        version = admin.records.get(record_id).version
        admin.records.update(
            record_id,
            version,
            {"date": "2025-02-28", "category": moved_to.name, "kind": "expense"},
            today=TODAY,
        )
    batch = imports.start(admin.principal, "pending.csv")
    with write_transaction():
        insert_tuples(
            [NewRecord("expense", 500, moved_to.id, date(2025, 2, 10), "hidden", f"p{i}").as_tuple()
             for i in range(7)],
            admin.principal.user_id,
            import_batch=batch,
        )  # fmt: skip
    return admin


def _whole_month_filters() -> list[RecordFilter]:
    categories = [c.id for c in Category.select().order_by(Category.id)]
    return [
        RecordFilter(),
        RecordFilter(kind="income"),
        RecordFilter(kind="expense"),
        RecordFilter(categories=tuple(categories[:1])),
        RecordFilter(categories=tuple(categories[1:4]), kind="expense"),
        RecordFilter(date_from=date(2025, 2, 1), date_to=date(2025, 2, 28)),
        RecordFilter(date_from=date(2025, 1, 1)),
        RecordFilter(date_to=date(2025, 12, 31), kind="expense"),
        RecordFilter(date_from=date(2024, 2, 1), date_to=date(2024, 2, 29)),  # leap year
        RecordFilter(date_from=date(2030, 1, 1)),  # nothing there
    ]


def test_summaries_answer_whole_month_filters_exactly(books):
    for flt in _whole_month_filters():
        from_summaries = summary_count(flt)
        assert from_summaries is not None, flt
        assert from_summaries == count_rows(flt), flt
        assert run_count(flt) == from_summaries


def test_the_unpublished_import_and_deleted_records_are_not_counted(books):
    february = RecordFilter(date_from=date(2025, 2, 1), date_to=date(2025, 2, 28))
    rows_there = (
        Record.select()
        .where(
            Record.date.between(date(2025, 2, 1), date(2025, 2, 28)),
            Record.is_deleted == False,  # noqa: E712
        )
        .count()
    )
    assert summary_count(february) == rows_there - 7  # the 7 import rows are hidden


@pytest.mark.parametrize(
    "flt",
    [
        RecordFilter(text="coffee"),
        RecordFilter(date_from=date(2025, 2, 2)),
        RecordFilter(date_to=date(2025, 2, 27)),
        RecordFilter(amount_min=Decimal("1")),
        RecordFilter(amount_max=Decimal("100")),
        RecordFilter(include_deleted=True),
        RecordFilter(only_deleted=True),
    ],
    ids=["text", "mid-month start", "mid-month end", "min", "max", "deleted too", "trash"],
)
def test_other_filters_count_the_rows(books, flt):
    assert summary_count(flt) is None
    assert run_count(flt) == count_rows(flt)
