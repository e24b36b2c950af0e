"""Dashboard KPIs (DESIGN §7), all aggregated in SQL; deleted records never count."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from peewee import SQL, fn

from finance_tui.dto import CategoryTotal, DashboardData, MonthPoint
from finance_tui.models import Category, Record
from finance_tui.money import from_minor
from finance_tui.permissions import Permission
from finance_tui.services.periods import first_of_month, first_of_next_month, resolve_period
from finance_tui.services.records import record_select, to_row
from finance_tui.services.summaries import month_expr

if TYPE_CHECKING:
    from finance_tui.session import SessionController

CENT = Decimal("0.01")
RECENT_COUNT = 10
TOP_COUNT = 5


def pct(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


def average(total_minor: int, count: int) -> Decimal:
    if count == 0:
        return Decimal("0.00")
    return (from_minor(total_minor) / count).quantize(CENT, ROUND_HALF_UP)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _live(date_from: date | None, date_to: date | None):
    conditions = [Record.is_deleted == False]  # noqa: E712
    if date_from:
        conditions.append(Record.date >= date_from)
    if date_to:
        conditions.append(Record.date <= date_to)
    return conditions


def kind_totals(date_from: date | None, date_to: date | None) -> dict[str, tuple[int, int]]:
    query = (
        Record.select(Record.kind, fn.COUNT(Record.id), fn.COALESCE(fn.SUM(Record.amount), 0))
        .where(*_live(date_from, date_to))
        .group_by(Record.kind)
        .tuples()
    )
    return {kind: (int(count), int(total)) for kind, count, total in query}


def category_totals(date_from: date | None, date_to: date | None) -> list[CategoryTotal]:
    total = fn.SUM(Record.amount)
    query = (
        Record.select(Category.name, Record.kind, fn.COUNT(Record.id), total)
        .join(Category, on=(Record.category == Category.id))
        .where(*_live(date_from, date_to))
        .group_by(Category.name, Record.kind)
        .order_by(total.desc(), Category.name, Record.kind)
        .tuples()
    )
    return [CategoryTotal(n, k, int(c), from_minor(int(t))) for n, k, c, t in query]


def most_frequent(date_from: date | None, date_to: date | None) -> str:
    count = fn.COUNT(Record.id)
    row = (
        Record.select(Category.name, count)
        .join(Category, on=(Record.category == Category.id))
        .where(*_live(date_from, date_to))
        .group_by(Category.name)
        .order_by(count.desc(), Category.name)
        .limit(1)
        .tuples()
        .first()
    )
    return row[0] if row else "N/A"


def monthly_series(date_from: date | None, date_to: date | None) -> list[MonthPoint]:
    month = month_expr(Record.date)
    query = (
        Record.select(month.alias("m"), Record.kind, fn.SUM(Record.amount))
        .where(*_live(date_from, date_to))
        .group_by(SQL("1"), Record.kind)
        .tuples()
    )
    by_month: dict[date, dict[str, int]] = {}
    for m, kind, total in query:
        by_month.setdefault(_as_date(m), {})[kind] = int(total)
    return fill_months(by_month)


def fill_months(by_month: dict[date, dict[str, int]]) -> list[MonthPoint]:
    """One point per month from the first to the last month with data (gaps are zero)."""
    if not by_month:
        return []
    points, month, last = [], min(by_month), max(by_month)
    while month <= last:
        sums = by_month.get(month, {})
        points.append(
            MonthPoint(month, from_minor(sums.get("income", 0)), from_minor(sums.get("expense", 0)))
        )
        month = first_of_next_month(month)
    return points


def recent(date_from: date | None, date_to: date | None, count: int = RECENT_COUNT):
    query = (
        record_select()
        .where(*_live(date_from, date_to))
        .order_by(Record.date.desc(), Record.created_at.desc(), Record.id.desc())
        .limit(count)
    )
    return [to_row(r) for r in query]


def build(
    totals: dict[str, tuple[int, int]],
    month_totals: dict[str, tuple[int, int]],
    breakdown: list[CategoryTotal],
    frequent: str,
    series: list[MonthPoint],
    recent_rows: list,
    period: tuple[date | None, date | None, str],
) -> DashboardData:
    """Derive every KPI from the aggregated pieces (shared by every computation path)."""
    inc_n, inc_t = totals.get("income", (0, 0))
    exp_n, exp_t = totals.get("expense", (0, 0))
    m_inc = month_totals.get("income", (0, 0))[1]
    m_exp = month_totals.get("expense", (0, 0))[1]
    return DashboardData(
        period_label=period[2],
        date_from=period[0],
        date_to=period[1],
        total_income=from_minor(inc_t),
        total_expense=from_minor(exp_t),
        net_balance=from_minor(inc_t - exp_t),
        month_income=from_minor(m_inc),
        month_expense=from_minor(m_exp),
        month_balance=from_minor(m_inc - m_exp),
        income_pct=pct(inc_t, inc_t + exp_t),
        expense_pct=pct(exp_t, inc_t + exp_t),
        record_count=inc_n + exp_n,
        income_count=inc_n,
        expense_count=exp_n,
        avg_income=average(inc_t, inc_n),
        avg_expense=average(exp_t, exp_n),
        avg_amount=average(inc_t + exp_t, inc_n + exp_n),
        most_frequent_category=frequent,
        category_breakdown=breakdown,
        top_categories=breakdown[:TOP_COUNT],
        monthly=series,
        recent=recent_rows,
    )


def compute_plain(today: date, period: tuple[date | None, date | None, str]) -> DashboardData:
    """Every number straight from the records table (the baseline and the oracle)."""
    date_from, date_to, _ = period
    this_month = (first_of_month(today), first_of_next_month(today))
    return build(
        kind_totals(date_from, date_to),
        kind_totals(this_month[0], _day_before(this_month[1])),
        category_totals(date_from, date_to),
        most_frequent(date_from, date_to),
        monthly_series(date_from, date_to),
        recent(date_from, date_to),
        period,
    )


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


class DashboardService:
    def __init__(self, session: SessionController):
        self.session = session

    def summary(
        self,
        period: str = "all",
        *,
        today: date | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> DashboardData:
        self.session.require(Permission.VIEW_DASHBOARD)
        today = today or date.today()
        resolved = resolve_period(period, today, date_from, date_to)
        return compute_plain(today, resolved)
