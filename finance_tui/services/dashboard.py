"""Dashboard KPIs (README: User guide), all aggregated in SQL; deleted records never count.

Two paths compute the same :class:`DashboardData`:

* :func:`compute_plain` aggregates the records table directly. It is the oracle for
  tests and the baseline for bench/, and it reads every record of the period.
* :func:`compute_fast` (what :meth:`DashboardService.summary` uses) reads whole calendar
  months from the ``MonthlyTotal`` summary (month × category × kind → count, sum; kept
  in the same transaction as every record write) and only the partial months at the
  edges of the period from the records, by date range. Totals, averages, percentages,
  the most frequent category, the breakdown, top 5 and the monthly series all derive
  from those (month, category, kind) cells; the 10 most recent records come from the
  (date, created_at) index. Cost depends on the number of months, not of records.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from peewee import SQL, Expression, fn

from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import CategoryTotal, DashboardData, MonthPoint, RecordRow
from finance_tui.domain.periods import first_of_month, first_of_next_month, resolve_period
from finance_tui.models import Category, MonthlyTotal, Record
from finance_tui.money import from_minor
from finance_tui.permissions import Permission
from finance_tui.services.record_rows import fetch_rows, record_select
from finance_tui.services.summaries import month_expr, stored_cells
from finance_tui.services.visibility import live

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


def _live(date_from: date | None, date_to: date | None) -> list[Expression]:
    conditions = live()
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
        .group_by(Category.name, Category.name_lower, Record.kind)
        .order_by(total.desc(), Category.name_lower, Record.kind)
        .tuples()
    )
    return [CategoryTotal(n, k, int(c), from_minor(int(t))) for n, k, c, t in query]


def most_frequent(date_from: date | None, date_to: date | None) -> str:
    count = fn.COUNT(Record.id)
    row = (
        Record.select(Category.name, count)
        .join(Category, on=(Record.category == Category.id))
        .where(*_live(date_from, date_to))
        .group_by(Category.name, Category.name_lower)
        .order_by(count.desc(), Category.name_lower)
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


def recent(
    date_from: date | None, date_to: date | None, count: int = RECENT_COUNT
) -> list[RecordRow]:
    query = (
        record_select()
        .where(*_live(date_from, date_to))
        .order_by(Record.date.desc(), Record.created_at.desc(), Record.id.desc())
        .limit(count)
    )
    return fetch_rows(query)


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


Cells = dict[tuple[date, int, str], tuple[int, int]]  # (month, category, kind) → count, sum


def _last_day(month_start: date) -> date:
    return _day_before(first_of_next_month(month_start))


def _whole_months(date_from: date | None, date_to: date | None) -> tuple[date | None, date | None]:
    """``[start, end)`` of the whole months inside the period (``None`` = unbounded)."""
    full_start = date_from
    if date_from is not None and date_from.day != 1:
        full_start = first_of_next_month(date_from)
    full_end = None
    if date_to is not None:
        full_end = (
            first_of_next_month(date_to)
            if date_to == _last_day(first_of_month(date_to))
            else first_of_month(date_to)
        )
    return full_start, full_end


def _edges(
    date_from: date | None, date_to: date | None, full_start: date | None, full_end: date | None
) -> list[tuple[date, date]]:
    """The partial months before and after the whole months ``[full_start, full_end)``."""
    partial = []
    if date_from is not None and full_start is not None and date_from < full_start:
        partial.append((date_from, _day_before(full_start)))
    if date_to is not None and full_end is not None and full_end <= date_to:
        partial.append((full_end, date_to))
    return partial


def _no_whole_month(date_from: date, date_to: date) -> list[tuple[date, date]]:
    """A period without a whole month: one range, or the ends of two months."""
    if first_of_month(date_from) == first_of_month(date_to):
        return [(date_from, date_to)]
    return [
        (date_from, _last_day(first_of_month(date_from))),
        (first_of_month(date_to), date_to),
    ]


def split_period(
    date_from: date | None, date_to: date | None
) -> tuple[tuple[date | None, date | None] | None, list[tuple[date, date]]]:
    """Whole months ``[start, end)`` (``None`` = unbounded) and partial date ranges.

    The whole months are read from the summary, each partial range (inside one month)
    from the records.
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        return None, []
    full_start, full_end = _whole_months(date_from, date_to)
    if full_start is None or full_end is None or full_start < full_end:
        return (full_start, full_end), _edges(date_from, date_to, full_start, full_end)
    assert date_from is not None and date_to is not None
    return None, _no_whole_month(date_from, date_to)


def summary_cells(start: date | None, end: date | None) -> Cells:
    """Summary cells of whole months in ``[start, end)`` (live records only)."""
    query = stored_cells().where(MonthlyTotal.count > 0)
    if start is not None:
        query = query.where(MonthlyTotal.month >= start)
    if end is not None:
        query = query.where(MonthlyTotal.month < end)
    return {(_as_date(m), c, k): (int(n), int(t)) for m, c, k, n, t in query.tuples()}


def record_cells(first: date, last: date) -> Cells:
    """Cells for the records of ``[first, last]`` (a range inside one month)."""
    month = first_of_month(first)
    query = (
        Record.select(Record.category, Record.kind, fn.COUNT(Record.id), fn.SUM(Record.amount))
        .where(*_live(first, last))
        .group_by(Record.category, Record.kind)
        .tuples()
    )
    return {(month, c, k): (int(n), int(t)) for c, k, n, t in query}


def _add(cells: Cells, more: Cells, sign: int = 1) -> None:
    for key, (count, total) in more.items():
        old = cells.get(key, (0, 0))
        cells[key] = (old[0] + sign * count, old[1] + sign * total)


def partial_cells(first: date, last: date) -> Cells:
    """Cells of ``[first, last]`` (inside one month), reading the fewer records.

    When the range covers most of its month (e.g. "this month up to today"), the
    month's summary minus the records outside the range (usually none: few records
    are dated in the future) is much cheaper than summing the records inside it.
    """
    month = first_of_month(first)
    end = _last_day(month)
    inside = (last - first).days + 1
    if inside * 2 <= (end - month).days + 1:
        return record_cells(first, last)
    cells = summary_cells(month, first_of_next_month(month))
    if first > month:
        _add(cells, record_cells(month, _day_before(first)), -1)
    if last < end:
        _add(cells, record_cells(last + timedelta(days=1), end), -1)
    return cells


def period_cells(date_from: date | None, date_to: date | None) -> Cells:
    full, partial = split_period(date_from, date_to)
    cells: Cells = summary_cells(*full) if full is not None else {}
    for first, last in partial:
        _add(cells, partial_cells(first, last))
    return cells


def from_cells(
    cells: Cells, names: dict[int, str]
) -> tuple[dict[str, tuple[int, int]], list[CategoryTotal], str, list[MonthPoint]]:
    """Kind totals, breakdown, most frequent category and monthly series of some cells."""
    totals: dict[str, list[int]] = {}
    by_category: dict[tuple[str, str], list[int]] = {}
    frequency: dict[str, int] = {}
    by_month: dict[date, dict[str, int]] = {}
    for (month, category_id, kind), (count, total) in cells.items():
        if count <= 0:
            continue
        name = names[category_id]
        slot = totals.setdefault(kind, [0, 0])
        slot[0] += count
        slot[1] += total
        cat = by_category.setdefault((name, kind), [0, 0])
        cat[0] += count
        cat[1] += total
        frequency[name] = frequency.get(name, 0) + count
        month_sums = by_month.setdefault(month, {})
        month_sums[kind] = month_sums.get(kind, 0) + total
    breakdown = sorted(
        (CategoryTotal(n, k, c, from_minor(t)) for (n, k), (c, t) in by_category.items()),
        key=lambda row: (-row.total, row.category.lower(), row.kind),
    )
    frequent = (
        min(frequency.items(), key=lambda item: (-item[1], item[0].lower()))[0]
        if frequency
        else "N/A"
    )
    kinds = {kind: (count, total) for kind, (count, total) in totals.items()}
    return kinds, breakdown, frequent, fill_months(by_month)


def compute_fast(today: date, period: tuple[date | None, date | None, str]) -> DashboardData:
    """Every number from the monthly summary plus the partial edge months (see module doc)."""
    date_from, date_to, _ = period
    names = dict(Category.select(Category.id, Category.name).tuples())
    totals, breakdown, frequent, series = from_cells(period_cells(date_from, date_to), names)
    this_month = first_of_month(today)
    month_totals, *_ = from_cells(summary_cells(this_month, first_of_next_month(this_month)), names)
    return build(
        totals,
        month_totals,
        breakdown,
        frequent,
        series,
        recent(date_from, date_to),
        period,
    )


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


class DashboardService:
    def __init__(self, session: Authoriser):
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
        return compute_fast(today, resolved)
