"""Analytics (analyst + admin): period comparison, monthly trends, category drill-down.

Whole calendar months are read from the ``MonthlyTotal`` summary (one row per
month × category × kind, kept in step with every record write), so a 24-month trend
costs a few dozen rows however many records exist; only the partial months at the
edges of a date range touch the records table. Deleted records never count.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from peewee import fn

from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import (
    CategoryDrilldown,
    Change,
    MonthPoint,
    PeriodComparison,
    PeriodTotals,
)
from finance_tui.domain.periods import (
    COMPARABLE_PERIODS,
    first_of_month,
    first_of_next_month,
    resolve_period,
)
from finance_tui.errors import NotFound, ValidationError
from finance_tui.models import Category, MonthlyTotal, Record
from finance_tui.money import from_minor
from finance_tui.permissions import Permission
from finance_tui.services.record_rows import fetch_rows, record_select
from finance_tui.services.visibility import live

CENT = Decimal("0.01")
MAX_MONTHS = 120
LARGEST_COUNT = 10

KindTotals = dict[str, tuple[int, int]]  # kind → (count, total minor units)


# ---- pure date helpers --------------------------------------------------------
def add_months(month: date, count: int) -> date:
    """First day of the month ``count`` months after (or before) ``month``'s month."""
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def last_of_month(day: date) -> date:
    return first_of_next_month(day) - timedelta(days=1)


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """The period of the same length just before: whole months → the same number of
    whole months (so "last month" compares with the month before it); otherwise the
    same number of days."""
    if date_from > date_to:
        raise ValidationError({"date_to": "must not be before the start date"})
    if date_from.day == 1 and date_to == last_of_month(date_to):
        months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
        return add_months(date_from, -months), date_from - timedelta(days=1)
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


def change(current: int, previous: int) -> Change:
    """Delta and % change of minor-unit figures; % relative to |previous| (2 dp)."""
    pct = None
    if previous != 0:
        pct = (Decimal(current - previous) * 100 / abs(Decimal(previous))).quantize(
            CENT, ROUND_HALF_UP
        )
    return Change(from_minor(current), from_minor(previous), from_minor(current - previous), pct)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# ---- SQL ----------------------------------------------------------------------
def _merge(*parts: KindTotals) -> KindTotals:
    merged: dict[str, tuple[int, int]] = {}
    for part in parts:
        for kind, (count, total) in part.items():
            old = merged.get(kind, (0, 0))
            merged[kind] = (old[0] + count, old[1] + total)
    return merged


def _record_totals(date_from: date, date_to: date, category_id: int | None) -> KindTotals:
    conditions = [
        *live(),
        Record.date >= date_from,
        Record.date <= date_to,
    ]
    if category_id is not None:
        conditions.append(Record.category == category_id)
    query = (
        Record.select(Record.kind, fn.COUNT(Record.id), fn.COALESCE(fn.SUM(Record.amount), 0))
        .where(*conditions)
        .group_by(Record.kind)
        .tuples()
    )
    return {kind: (int(count), int(total)) for kind, count, total in query}


def _summary_totals(month_from: date, month_to_excl: date, category_id: int | None) -> KindTotals:
    conditions = [MonthlyTotal.month >= month_from, MonthlyTotal.month < month_to_excl]
    if category_id is not None:
        conditions.append(MonthlyTotal.category == category_id)
    query = (
        MonthlyTotal.select(
            MonthlyTotal.kind,
            fn.COALESCE(fn.SUM(MonthlyTotal.count), 0),
            fn.COALESCE(fn.SUM(MonthlyTotal.total), 0),
        )
        .where(*conditions)
        .group_by(MonthlyTotal.kind)
        .tuples()
    )
    return {kind: (int(count), int(total)) for kind, count, total in query}


def range_totals(date_from: date, date_to: date, category_id: int | None = None) -> KindTotals:
    """Live count and total per kind for an inclusive date range.

    The whole months inside the range come from the summary; the partial months at
    either edge come from the records.
    """
    first_whole = date_from if date_from.day == 1 else first_of_next_month(date_from)
    after_last_whole = first_of_month(date_to + timedelta(days=1))
    if first_whole >= after_last_whole:
        return _record_totals(date_from, date_to, category_id)
    parts = [_summary_totals(first_whole, after_last_whole, category_id)]
    if date_from < first_whole:
        parts.append(_record_totals(date_from, first_whole - timedelta(days=1), category_id))
    if after_last_whole <= date_to:
        parts.append(_record_totals(after_last_whole, date_to, category_id))
    return _merge(*parts)


def month_totals(
    month_from: date, month_to_excl: date, category_id: int | None = None
) -> dict[date, dict[str, int]]:
    """month → kind → total minor units, from the summary."""
    conditions = [MonthlyTotal.month >= month_from, MonthlyTotal.month < month_to_excl]
    if category_id is not None:
        conditions.append(MonthlyTotal.category == category_id)
    query = (
        MonthlyTotal.select(MonthlyTotal.month, MonthlyTotal.kind, fn.SUM(MonthlyTotal.total))
        .where(*conditions)
        .group_by(MonthlyTotal.month, MonthlyTotal.kind)
        .tuples()
    )
    result: dict[date, dict[str, int]] = {}
    for month, kind, total in query:
        result.setdefault(_as_date(month), {})[kind] = int(total or 0)
    return result


def month_series(month_from: date, count: int, category_id: int | None = None) -> list[MonthPoint]:
    """Exactly ``count`` consecutive months from ``month_from`` (empty months are zero)."""
    end = add_months(month_from, count)
    sums = month_totals(month_from, end, category_id)
    points = []
    for i in range(count):
        month = add_months(month_from, i)
        by_kind = sums.get(month, {})
        points.append(
            MonthPoint(
                month, from_minor(by_kind.get("income", 0)), from_minor(by_kind.get("expense", 0))
            )
        )
    return points


def _totals(date_from: date, date_to: date, sums: KindTotals) -> PeriodTotals:
    inc_n, inc_t = sums.get("income", (0, 0))
    exp_n, exp_t = sums.get("expense", (0, 0))
    return PeriodTotals(date_from, date_to, from_minor(inc_t), from_minor(exp_t), inc_n, exp_n)


def _check_months(months: int) -> None:
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_MONTHS:
        raise ValidationError({"months": f"must be a whole number from 1 to {MAX_MONTHS}"})


# ---- service --------------------------------------------------------------------
class AnalyticsService:
    def __init__(self, session: Authoriser):
        self.session = session

    def compare(
        self,
        period: str = "this_month",
        *,
        today: date | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> PeriodComparison:
        """This period vs the previous period of the same length."""
        self.session.require(Permission.VIEW_ANALYTICS)
        if period not in COMPARABLE_PERIODS:
            raise ValidationError(
                {"period": f"cannot compare {period!r}; use one of {', '.join(COMPARABLE_PERIODS)}"}
            )
        today = today or date.today()
        start, end, label = resolve_period(period, today, date_from, date_to)
        if start is None or end is None:
            raise ValidationError({"date_from": "a comparison needs both a start and an end date"})
        prev_start, prev_end = previous_period(start, end)
        cur = range_totals(start, end)
        prev = range_totals(prev_start, prev_end)
        current = _totals(start, end, cur)
        previous = _totals(prev_start, prev_end, prev)
        cur_i, cur_e = cur.get("income", (0, 0))[1], cur.get("expense", (0, 0))[1]
        prev_i, prev_e = prev.get("income", (0, 0))[1], prev.get("expense", (0, 0))[1]
        return PeriodComparison(
            label=label,
            current=current,
            previous=previous,
            income=change(cur_i, prev_i),
            expense=change(cur_e, prev_e),
            net=change(cur_i - cur_e, prev_i - prev_e),
        )

    def trends(self, months: int = 12, *, today: date | None = None) -> list[MonthPoint]:
        """Income, expense (and net) for the last ``months`` months, ending this month."""
        self.session.require(Permission.VIEW_ANALYTICS)
        _check_months(months)
        this_month = first_of_month(today or date.today())
        return month_series(add_months(this_month, -(months - 1)), months)

    def category_drilldown(
        self,
        category_id: int,
        months: int = 12,
        *,
        today: date | None = None,
        largest: int = LARGEST_COUNT,
    ) -> CategoryDrilldown:
        """One category over the last ``months`` months: monthly totals and its largest
        live records in that window."""
        self.session.require(Permission.VIEW_ANALYTICS)
        _check_months(months)
        if not 1 <= largest <= 100:
            raise ValidationError({"largest": "must be from 1 to 100"})
        cat = Category.get_or_none(Category.id == category_id)
        if cat is None:
            raise NotFound(f"No category with id {category_id}")
        this_month = first_of_month(today or date.today())
        start = add_months(this_month, -(months - 1))
        end = last_of_month(this_month)
        points = month_series(start, months, cat.id)
        sums = _summary_totals(start, first_of_next_month(this_month), cat.id)
        top = (
            record_select()
            .where(
                Record.category == cat.id,
                *live(),
                Record.date >= start,
                Record.date <= end,
            )
            .order_by(Record.amount.desc(), Record.date.desc(), Record.id)
            .limit(largest)
        )
        return CategoryDrilldown(
            category_id=cat.id,
            category=cat.name,
            kind=cat.kind,
            is_archived=cat.is_archived,
            date_from=start,
            date_to=end,
            months=points,
            income_total=from_minor(sums.get("income", (0, 0))[1]),
            expense_total=from_minor(sums.get("expense", (0, 0))[1]),
            record_count=sum(count for count, _ in sums.values()),
            largest=fetch_rows(top),
        )
