"""Dashboard KPIs (README: User guide) against a brute-force recomputation over random data, for
every period with a fixed ``today``; deleted records never count."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui.db import write_transaction
from finance_tui.errors import ValidationError
from finance_tui.models import Category, MonthlyTotal, Record
from finance_tui.money import from_minor
from finance_tui.services import summaries
from finance_tui.services.bulk import NewRecord, insert_records

CENT = Decimal("0.01")
FIRST = date(2025, 1, 1)
LAST = date(2027, 1, 31)  # some future-dated records too
STAMPS = [datetime(2026, 1, 1, 8, 0, 0, 1), datetime(2026, 1, 1, 8, 0, 0, 2)]
TODAYS = [date(2026, 11, 25), date(2026, 1, 3), date(2026, 3, 31), date(2025, 12, 31)]
DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def period_bounds(period: str, today: date, custom: tuple[date | None, date | None]):
    """Inclusive bounds, written independently of domain/periods.py."""
    if period == "all":
        return None, None
    if period == "this_month":
        return first_of_month(today), next_month(today) - timedelta(days=1)
    if period == "last_month":
        end = first_of_month(today) - timedelta(days=1)
        return first_of_month(end), end
    if period == "last_30_days":
        return today - timedelta(days=29), today
    if period == "ytd":
        return date(today.year, 1, 1), today
    return custom


def quantize(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def expected_dashboard(records, names, today, lo, hi) -> dict:
    live = [r for r in records if not r.is_deleted]
    inside = [r for r in live if (lo is None or r.date >= lo) and (hi is None or r.date <= hi)]
    month_lo, month_hi = first_of_month(today), next_month(today)
    this_month = [r for r in live if month_lo <= r.date < month_hi]

    def total(rows, kind):
        return sum(r.amount for r in rows if r.kind == kind)

    def count(rows, kind):
        return sum(1 for r in rows if r.kind == kind)

    inc, exp = total(inside, "income"), total(inside, "expense")
    n_inc, n_exp = count(inside, "income"), count(inside, "expense")
    both = inc + exp
    freq = Counter(names[r.category_id] for r in inside)
    most = min(freq, key=lambda n: (-freq[n], n.lower())) if freq else "N/A"
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in inside:
        g = groups[(names[r.category_id], r.kind)]
        g[0] += 1
        g[1] += r.amount
    breakdown = sorted(
        ((n, k, c, from_minor(t)) for (n, k), (c, t) in groups.items()),
        key=lambda x: (-x[3], x[0].lower(), x[1]),
    )
    monthly = []
    if inside:
        month, last = first_of_month(min(r.date for r in inside)), max(r.date for r in inside)
        while month <= last:
            rows = [r for r in inside if first_of_month(r.date) == month]
            monthly.append(
                (month, from_minor(total(rows, "income")), from_minor(total(rows, "expense")))
            )
            month = next_month(month)
    recent = sorted(inside, key=lambda r: (r.date, r.created_at, r.id.hex), reverse=True)[:10]
    m_inc, m_exp = total(this_month, "income"), total(this_month, "expense")
    return {
        "total_income": from_minor(inc),
        "total_expense": from_minor(exp),
        "net_balance": from_minor(inc - exp),
        "month_income": from_minor(m_inc),
        "month_expense": from_minor(m_exp),
        "month_balance": from_minor(m_inc - m_exp),
        "income_pct": quantize(Decimal(inc) * 100 / both) if both else Decimal("0.00"),
        "expense_pct": quantize(Decimal(exp) * 100 / both) if both else Decimal("0.00"),
        "record_count": n_inc + n_exp,
        "income_count": n_inc,
        "expense_count": n_exp,
        "avg_income": quantize(from_minor(inc) / n_inc) if n_inc else Decimal("0.00"),
        "avg_expense": quantize(from_minor(exp) / n_exp) if n_exp else Decimal("0.00"),
        "avg_amount": quantize(from_minor(both) / (n_inc + n_exp)) if inside else Decimal("0.00"),
        "most_frequent_category": most,
        "category_breakdown": breakdown,
        "top_categories": breakdown[:5],
        "monthly": monthly,
        "recent": [r.id for r in recent],
    }


def actual_dashboard(data) -> dict:
    out = {key: getattr(data, key) for key in (
        "total_income", "total_expense", "net_balance", "month_income", "month_expense",
        "month_balance", "income_pct", "expense_pct", "record_count", "income_count",
        "expense_count", "avg_income", "avg_expense", "avg_amount", "most_frequent_category",
    )}  # fmt: skip
    out["category_breakdown"] = [
        (c.category, c.kind, c.count, c.total) for c in data.category_breakdown
    ]
    out["top_categories"] = [(c.category, c.kind, c.count, c.total) for c in data.top_categories]
    out["monthly"] = [(p.month, p.income, p.expense) for p in data.monthly]
    out["recent"] = [r.id for r in data.recent]
    for p in data.monthly:
        assert p.net == p.income - p.expense
    return out


def _load():
    rows = list(Record.select())
    for r in rows:
        if isinstance(r.created_at, str):
            r.created_at = datetime.fromisoformat(r.created_at)
    return rows


def _categories() -> list[Category]:
    if not Category.select().where(Category.name_lower == "travel").exists():
        with write_transaction():
            # Lower-case names: case-insensitive tie order is tested on its own below.
            Category.create(name="travel", name_lower="travel", kind="expense")
            Category.create(name="side gig", name_lower="side gig", kind="income")
    return list(Category.select().order_by(Category.id))


record_spec = st.tuples(
    st.integers(0, 6),
    st.booleans(),
    st.one_of(st.integers(1, 5_000_000), st.sampled_from([100, 100, 2500])),
    st.integers(0, (LAST - FIRST).days),
    st.integers(0, len(STAMPS) - 1),
)


def _reset(admin, specs, deleted: list[int]) -> None:
    cats = _categories()
    with write_transaction():
        Record.delete().execute()
        MonthlyTotal.delete().execute()
    rows = []
    for i, (cat_i, income, amount, day, stamp) in enumerate(specs):
        cat = cats[cat_i]
        kind = cat.kind if cat.kind != "both" else ("income" if income else "expense")
        rows.append(
            NewRecord(kind, amount, cat.id, FIRST + timedelta(days=day), "", f"s{i}", STAMPS[stamp])
        )
    with write_transaction():
        insert_records(rows, admin.principal.user_id)
    for i in deleted:
        if i < len(specs):
            admin.records.delete(Record.get(Record.import_fingerprint == f"s{i}").id)


@DB_SETTINGS
@given(data=st.data())
def test_dashboard_matches_brute_force(sessions, data):
    admin, viewer = sessions["admin"], sessions["viewer"]
    specs = data.draw(st.lists(record_spec, max_size=60), label="records")
    deleted = data.draw(st.lists(st.integers(0, 59), max_size=6, unique=True), label="deleted")
    _reset(admin, specs, deleted)
    records = _load()
    names = {c.id: c.name for c in Category.select()}
    today = data.draw(st.sampled_from(TODAYS), label="today")
    a = FIRST + timedelta(days=data.draw(st.integers(0, 800)))
    b = a + timedelta(days=data.draw(st.integers(0, 200)))
    custom = data.draw(st.sampled_from([(a, b), (a, None), (None, b), (a, a)]), label="custom")
    for period in ("all", "this_month", "last_month", "last_30_days", "ytd", "custom"):
        kwargs = {"date_from": custom[0], "date_to": custom[1]} if period == "custom" else {}
        got = viewer.dashboard.summary(period, today=today, **kwargs)
        lo, hi = period_bounds(period, today, custom)
        assert (got.date_from, got.date_to) == (lo, hi), period
        assert actual_dashboard(got) == expected_dashboard(records, names, today, lo, hi), period
    assert summaries.verify() == []


def test_empty_database_gives_zeros_and_na(sessions):
    for period in ("all", "this_month", "last_month", "last_30_days", "ytd"):
        got = sessions["viewer"].dashboard.summary(period, today=TODAYS[0])
        zero = Decimal("0.00")
        assert got.total_income == got.total_expense == got.net_balance == zero
        assert got.month_income == got.month_expense == got.month_balance == zero
        assert got.income_pct == got.expense_pct == zero
        assert got.avg_income == got.avg_expense == got.avg_amount == zero
        assert got.record_count == got.income_count == got.expense_count == 0
        assert got.most_frequent_category == "N/A"
        assert got.category_breakdown == got.top_categories == got.monthly == got.recent == []


def test_deleted_records_never_count(sessions):
    admin = sessions["admin"]
    keep = admin.records.create(
        {"kind": "income", "amount": "10", "category": "salary", "date": "2026-11-02"}
    )
    gone = admin.records.create(
        {"kind": "expense", "amount": "99", "category": "food", "date": "2026-11-03"}
    )
    admin.records.delete(gone.id)
    got = sessions["viewer"].dashboard.summary("all", today=TODAYS[0])
    assert (got.total_income, got.total_expense, got.record_count) == (
        Decimal("10.00"),
        Decimal("0.00"),
        1,
    )
    assert got.month_expense == Decimal("0.00")
    assert got.most_frequent_category == "salary"
    assert [r.id for r in got.recent] == [keep.id]
    admin.records.restore(gone.id)
    got = sessions["viewer"].dashboard.summary("all", today=TODAYS[0])
    assert got.total_expense == Decimal("99.00") and got.record_count == 2
    assert got.income_pct == Decimal("9.17") and got.expense_pct == Decimal("90.83")  # 10/109


def test_most_frequent_ties_broken_by_name_same_case(sessions):
    admin = sessions["admin"]
    for cat in ("rent", "food", "rent", "food", "other"):
        admin.records.create(
            {"kind": "expense", "amount": "5", "category": cat, "date": "2026-11-01"}
        )
    got = sessions["viewer"].dashboard.summary("all", today=TODAYS[0])
    assert got.most_frequent_category == "food"  # 2 each: 'food' before 'rent'
    assert [c.category for c in got.category_breakdown] == ["food", "rent", "other"]


def test_most_frequent_ties_broken_by_name(sessions):
    admin = sessions["admin"]
    admin.categories.create("Zeta", "both")
    admin.categories.create("alpha", "both")
    for cat in ("Zeta", "alpha", "rent", "rent", "Zeta", "alpha"):
        admin.records.create(
            {"kind": "expense", "amount": "5", "category": cat, "date": "2026-11-01"}
        )
    got = sessions["viewer"].dashboard.summary("all", today=TODAYS[0])
    # Three categories with 2 records each: alphabetical (case-insensitive) wins.
    assert got.most_frequent_category == "alpha"
    assert [c.category for c in got.category_breakdown] == ["alpha", "rent", "Zeta"]


def test_this_month_is_bounded_by_calendar_month(sessions):
    admin = sessions["admin"]
    for day, amount in (
        ("2026-10-31", "1"),
        ("2026-11-01", "2"),
        ("2026-11-30", "4"),
        ("2026-12-01", "8"),
    ):
        admin.records.create(
            {"kind": "income", "amount": amount, "category": "salary", "date": day}
        )
    got = sessions["viewer"].dashboard.summary("all", today=date(2026, 11, 15))
    assert got.month_income == Decimal("6.00")
    assert got.total_income == Decimal("15.00")


def test_bad_period_rejected(sessions):
    with pytest.raises(ValidationError) as err:
        sessions["viewer"].dashboard.summary("fortnight", today=TODAYS[0])
    assert "period" in err.value.fields
    with pytest.raises(ValidationError) as err:
        sessions["viewer"].dashboard.summary(
            "custom", today=TODAYS[0], date_from=date(2026, 2, 2), date_to=date(2026, 2, 1)
        )
    assert "date_to" in err.value.fields
