"""Analytics service: every figure against a brute-force recomputation from the records."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance_tui.db import write_transaction
from finance_tui.errors import NotFound, PermissionDenied, ValidationError
from finance_tui.models import Category, Record
from finance_tui.money import from_minor
from finance_tui.services import summaries
from finance_tui.services.analytics import (
    add_months,
    change,
    last_of_month,
    previous_period,
    range_totals,
)
from finance_tui.services.bulk import NewRecord, insert_records

TODAY = date(2026, 11, 25)
FIRST = date(2024, 9, 1)
LAST = date(2026, 12, 31)  # a few future-dated records in this month and the next


def _seed(admin, rng: random.Random, count: int = 400) -> None:
    """Random live records over 28 months, then some deleted and some edited ones."""
    cats = list(Category.select())
    span = (LAST - FIRST).days
    rows = []
    for _ in range(count):
        cat = rng.choice(cats)
        kind = cat.kind if cat.kind != "both" else rng.choice(["income", "expense"])
        rows.append(
            NewRecord(
                kind=kind,
                amount_minor=rng.randint(1, 5_000_000),
                category_id=cat.id,
                date=FIRST + timedelta(days=rng.randint(0, span)),
            )
        )
    with write_transaction():
        insert_records(rows, admin.principal.user_id)
    ids = [r.id for r in Record.select(Record.id).order_by(Record.id)]
    for rid in rng.sample(ids, 30):
        admin.records.delete(rid)
    live = [r for r in Record.select().where(Record.is_deleted == False)]  # noqa: E712
    for rec in rng.sample(live, 10):
        admin.records.update(rec.id, rec.version, {"date": "2026-11-03", "amount": "77.01"})
    assert summaries.verify() == []


def _live() -> list[Record]:
    return list(Record.select().where(Record.is_deleted == False))  # noqa: E712


def _brute(records, start: date, end: date, category_id: int | None = None):
    out = {"income": [0, 0], "expense": [0, 0]}
    for r in records:
        if start <= r.date <= end and (category_id is None or r.category_id == category_id):
            out[r.kind][0] += 1
            out[r.kind][1] += r.amount
    return out


@pytest.fixture
def seeded(sessions):
    _seed(sessions["admin"], random.Random(20261125))
    return sessions


def test_range_totals_match_brute_force_for_random_ranges(seeded):
    records = _live()
    rng = random.Random(7)
    cats = [c.id for c in Category.select()] + [None]
    ranges = [
        (date(2026, 11, 1), date(2026, 11, 30)),  # one whole month
        (date(2025, 1, 1), date(2025, 12, 31)),  # a whole year
        (date(2026, 11, 3), date(2026, 11, 3)),  # one day
        (date(2025, 2, 15), date(2025, 3, 14)),  # spans two partial months
        (date(2024, 1, 1), date(2027, 6, 30)),  # beyond the data on both sides
    ]
    for _ in range(40):
        a = FIRST + timedelta(days=rng.randint(-40, 900))
        ranges.append((a, a + timedelta(days=rng.randint(0, 400))))
    for start, end in ranges:
        for cat in (None, rng.choice(cats)):
            got = range_totals(start, end, cat)
            want = _brute(records, start, end, cat)
            for kind in ("income", "expense"):
                assert list(got.get(kind, (0, 0))) == want[kind], (start, end, cat, kind)


def test_compare_custom_and_named_periods(seeded):
    analyst = seeded["analyst"]
    records = _live()
    result = analyst.analytics.compare(
        "custom", today=TODAY, date_from=date(2026, 3, 10), date_to=date(2026, 4, 20)
    )
    assert (result.current.date_from, result.current.date_to) == (
        date(2026, 3, 10),
        date(2026, 4, 20),
    )
    assert (result.previous.date_from, result.previous.date_to) == (
        date(2026, 1, 27),
        date(2026, 3, 9),
    )
    cur = _brute(records, date(2026, 3, 10), date(2026, 4, 20))
    prev = _brute(records, date(2026, 1, 27), date(2026, 3, 9))
    assert result.current.income == from_minor(cur["income"][1])
    assert result.current.expense == from_minor(cur["expense"][1])
    assert result.current.income_count == cur["income"][0]
    assert result.previous.expense == from_minor(prev["expense"][1])
    net_now = cur["income"][1] - cur["expense"][1]
    net_before = prev["income"][1] - prev["expense"][1]
    assert result.net.current == from_minor(net_now)
    assert result.net.delta == from_minor(net_now - net_before)
    expected_pct = (Decimal(net_now - net_before) * 100 / abs(Decimal(net_before))).quantize(
        Decimal("0.01")
    )
    assert result.net.pct == expected_pct
    assert result.income.delta == from_minor(cur["income"][1] - prev["income"][1])

    last = analyst.analytics.compare("last_month", today=TODAY)
    assert (last.current.date_from, last.current.date_to) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (last.previous.date_from, last.previous.date_to) == (date(2026, 9, 1), date(2026, 9, 30))
    sep = _brute(records, date(2026, 9, 1), date(2026, 9, 30))
    assert last.previous.income == from_minor(sep["income"][1])
    assert last.expense.previous == from_minor(sep["expense"][1])

    month = seeded["admin"].analytics.compare("this_month", today=TODAY)
    nov = _brute(records, date(2026, 11, 1), date(2026, 11, 30))
    assert month.current.count == nov["income"][0] + nov["expense"][0]
    assert month.current.expense == from_minor(nov["expense"][1])


def test_trends_12_and_24_months(seeded):
    records = _live()
    for months in (12, 24):
        points = seeded["analyst"].analytics.trends(months, today=TODAY)
        assert len(points) == months
        assert points[-1].month == date(2026, 11, 1)
        assert points[0].month == add_months(date(2026, 11, 1), -(months - 1))
        for point in points:
            want = _brute(records, point.month, last_of_month(point.month))
            assert point.income == from_minor(want["income"][1]), point.month
            assert point.expense == from_minor(want["expense"][1]), point.month
            assert point.net == from_minor(want["income"][1] - want["expense"][1])
    # 24 months back from Nov 2026 starts in Dec 2024; months before the data are zero.
    early = seeded["analyst"].analytics.trends(36, today=TODAY)
    assert early[0].month == date(2023, 12, 1)
    assert early[0].income == Decimal("0.00") and early[0].expense == Decimal("0.00")


def test_category_drilldown(seeded):
    records = _live()
    food = Category.get(Category.name_lower == "food")
    result = seeded["analyst"].analytics.category_drilldown(food.id, 12, today=TODAY)
    assert result.category == "food" and result.kind == "expense"
    assert (result.date_from, result.date_to) == (date(2025, 12, 1), date(2026, 11, 30))
    want = _brute(records, result.date_from, result.date_to, food.id)
    assert result.expense_total == from_minor(want["expense"][1])
    assert result.income_total == Decimal("0.00")
    assert result.record_count == want["expense"][0] + want["income"][0]
    assert len(result.months) == 12
    for point in result.months:
        month = _brute(records, point.month, last_of_month(point.month), food.id)
        assert point.expense == from_minor(month["expense"][1])
    in_window = sorted(
        (
            r
            for r in records
            if r.category_id == food.id and result.date_from <= r.date <= result.date_to
        ),
        key=lambda r: (-r.amount, -r.date.toordinal()),
    )
    assert [r.amount for r in result.largest] == [from_minor(r.amount) for r in in_window[:10]]
    assert all(row.category == "food" and not row.is_deleted for row in result.largest)


def test_viewer_is_refused_and_bad_arguments_are_reported(sessions):
    viewer = sessions["viewer"]
    with pytest.raises(PermissionDenied):
        viewer.analytics.compare("this_month", today=TODAY)
    with pytest.raises(PermissionDenied):
        viewer.analytics.trends(12, today=TODAY)
    with pytest.raises(PermissionDenied):
        viewer.analytics.category_drilldown(1, today=TODAY)
    analyst = sessions["analyst"]
    with pytest.raises(ValidationError) as err:
        analyst.analytics.compare("all", today=TODAY)
    assert "period" in err.value.fields
    with pytest.raises(ValidationError) as err:
        analyst.analytics.compare("custom", today=TODAY, date_from=date(2026, 1, 1))
    assert "date_from" in err.value.fields
    with pytest.raises(ValidationError) as err:
        analyst.analytics.trends(0, today=TODAY)
    assert "months" in err.value.fields
    with pytest.raises(NotFound):
        analyst.analytics.category_drilldown(99999, today=TODAY)
    empty = analyst.analytics.compare("this_month", today=TODAY)
    assert empty.income.pct is None and empty.net.delta == Decimal("0.00")


def test_previous_period_rules():
    assert previous_period(date(2026, 10, 1), date(2026, 10, 31)) == (
        date(2026, 9, 1),
        date(2026, 9, 30),
    )
    assert previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert previous_period(date(2026, 1, 1), date(2026, 6, 30)) == (
        date(2025, 7, 1),
        date(2025, 12, 31),
    )
    assert previous_period(date(2026, 10, 27), date(2026, 11, 25)) == (
        date(2026, 9, 27),
        date(2026, 10, 26),
    )
    with pytest.raises(ValidationError):
        previous_period(date(2026, 2, 1), date(2026, 1, 1))


@given(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2900, 1, 1)),
    st.integers(min_value=0, max_value=800),
)
def test_previous_period_is_adjacent_and_never_longer(start, length):
    end = start + timedelta(days=length)
    prev_start, prev_end = previous_period(start, end)
    assert prev_end == start - timedelta(days=1)
    assert prev_start <= prev_end
    if not (start.day == 1 and end == last_of_month(end)):
        assert (prev_end - prev_start) == (end - start)


@given(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
def test_change_is_exact(current, previous):
    result = change(current, previous)
    assert result.delta == from_minor(current) - from_minor(previous)
    if previous == 0:
        assert result.pct is None
    else:
        exact = Decimal(current - previous) * 100 / abs(Decimal(previous))
        assert abs(result.pct - exact) <= Decimal("0.005")
        assert (result.pct > 0) == (exact >= Decimal("0.005"))
