"""The monthly summary stays equal to a brute-force recomputation after any sequence of
writes, and the summary-based dashboard equals the plain-SQL one for any period."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui.domain.periods import PERIODS, resolve_period
from finance_tui.errors import FinanceError
from finance_tui.models import Category, MonthlyTotal, Record, database
from finance_tui.services import summaries
from finance_tui.services.bulk import NewRecord, insert_records
from finance_tui.services.dashboard import compute_fast, compute_plain, split_period

KIND_OF = {"salary": ("income",), "food": ("expense",), "rent": ("expense",)}
BASE = date(2025, 1, 1)
SPAN_DAYS = 400  # ~13 months: plenty of month edges

days = st.integers(0, SPAN_DAYS).map(lambda n: BASE + timedelta(days=n))
amounts = st.integers(1, 500_000).map(lambda cents: Decimal(cents) / 100)
category_names = st.sampled_from(["salary", "food", "rent", "investment", "other"])


@st.composite
def record_data(draw) -> dict:
    name = draw(category_names)
    kind = draw(st.sampled_from(KIND_OF.get(name, ("income", "expense"))))
    return {
        "kind": kind,
        "amount": str(draw(amounts)),
        "category": name,
        "date": draw(days).isoformat(),
        "notes": draw(st.sampled_from(["", "lunch", "Rent May", "bonus"])),
    }


operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), record_data()),
        st.tuples(st.just("update"), st.integers(0, 10_000), record_data()),
        st.tuples(st.just("delete"), st.integers(0, 10_000)),
        st.tuples(st.just("restore"), st.integers(0, 10_000)),
        st.tuples(st.just("bulk"), st.lists(record_data(), min_size=1, max_size=4)),
    ),
    min_size=1,
    max_size=12,
)


def _apply(admin, op) -> None:
    ids = [r.id for r in Record.select(Record.id).order_by(Record.created_at, Record.id)]
    name = op[0]
    if name == "create":
        admin.records.create(op[1])
    elif name == "update" and ids:
        rid = ids[op[1] % len(ids)]
        rec = Record.get_by_id(rid)
        if not rec.is_deleted:
            admin.records.update(rid, rec.version, op[2])
    elif name in ("delete", "restore") and ids:
        rid = ids[op[1] % len(ids)]
        rec = Record.get_by_id(rid)
        if rec.is_deleted == (name == "restore"):
            getattr(admin.records, name)(rid)
    elif name == "bulk":
        cats = {c.name_lower: c.id for c in Category.select()}
        rows = [
            NewRecord(
                d["kind"],
                int(Decimal(d["amount"]) * 100),
                cats[d["category"]],
                date.fromisoformat(d["date"]),
                d["notes"],
            )
            for d in op[1]
        ]
        with database.atomic():
            insert_records(rows, admin.principal.user_id)


def brute_force() -> dict[tuple[date, int, str], tuple[int, int]]:
    """The summary recomputed in Python from every live record."""
    cells: dict[tuple[date, int, str], list[int]] = {}
    for rec in Record.select().where(Record.is_deleted == False):  # noqa: E712
        day = rec.date if isinstance(rec.date, date) else date.fromisoformat(str(rec.date))
        slot = cells.setdefault((day.replace(day=1), rec.category_id, rec.kind), [0, 0])
        slot[0] += 1
        slot[1] += rec.amount
    return {key: (n, t) for key, (n, t) in cells.items()}


def stored() -> dict[tuple[date, int, str], tuple[int, int]]:
    return {k: v for k, v in summaries.stored_rows().items() if v != (0, 0)}


periods = st.one_of(
    st.tuples(st.sampled_from([p for p in PERIODS if p != "custom"]), st.none(), st.none()),
    st.tuples(st.just("custom"), st.none() | days, st.none() | days),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, today=days, period=periods)
def test_summary_equals_brute_force_and_fast_dashboard_equals_plain(admin, ops, today, period):
    for op in ops:
        # Refused writes (e.g. a kind the category does not take) change nothing.
        with contextlib.suppress(FinanceError):
            _apply(admin, op)
    assert stored() == brute_force()
    assert summaries.verify() == []
    name, date_from, date_to = period
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    resolved = resolve_period(name, today, date_from, date_to)
    assert compute_fast(today, resolved) == compute_plain(today, resolved)


def test_rebuild_repairs_a_corrupted_summary(admin):
    for day in ("2025-01-31", "2025-02-01", "2025-02-15"):
        admin.records.create(
            {"kind": "expense", "amount": "10.50", "category": "food", "date": day}
        )
    MonthlyTotal.update(total=MonthlyTotal.total + 7).execute()
    MonthlyTotal.insert(
        month=date(2020, 1, 1), category=1, kind="income", count=3, total=9
    ).execute()
    problems = summaries.verify()
    assert len(problems) == 3
    assert any("2020-01" in p for p in problems)
    with database.atomic():
        summaries.rebuild()
    assert summaries.verify() == []
    assert stored() == brute_force()


@pytest.mark.parametrize(
    ("date_from", "date_to", "full", "partial"),
    [
        (None, None, (None, None), []),
        (date(2025, 1, 1), date(2025, 3, 31), (date(2025, 1, 1), date(2025, 4, 1)), []),
        (
            date(2025, 1, 15),
            date(2025, 3, 10),
            (date(2025, 2, 1), date(2025, 3, 1)),
            [(date(2025, 1, 15), date(2025, 1, 31)), (date(2025, 3, 1), date(2025, 3, 10))],
        ),
        (date(2025, 1, 15), date(2025, 1, 20), None, [(date(2025, 1, 15), date(2025, 1, 20))]),
        (
            date(2025, 1, 15),
            date(2025, 2, 20),
            None,
            [(date(2025, 1, 15), date(2025, 1, 31)), (date(2025, 2, 1), date(2025, 2, 20))],
        ),
        (
            None,
            date(2025, 2, 27),
            (None, date(2025, 2, 1)),
            [(date(2025, 2, 1), date(2025, 2, 27))],
        ),
        (
            date(2024, 2, 29),
            None,
            (date(2024, 3, 1), None),
            [(date(2024, 2, 29), date(2024, 2, 29))],
        ),
        (date(2024, 12, 1), date(2024, 12, 31), (date(2024, 12, 1), date(2025, 1, 1)), []),
    ],
)
def test_split_period_reads_whole_months_from_the_summary(date_from, date_to, full, partial):
    assert split_period(date_from, date_to) == (full, partial)
