"""Per month × category × kind count and sum, kept in step with every record write.

Writers call :func:`apply` inside their transaction; the upsert is atomic on both
engines, so concurrent writers never lose an increment. :func:`rebuild` recomputes
everything from the records (``finance-tui doctor``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from peewee import SQL, ColumnBase, Function, ModelSelect, fn

from finance_tui.db import is_postgres
from finance_tui.models import MonthlyTotal, Record, database
from finance_tui.services.visibility import live


def month_of(day: date) -> date:
    return day.replace(day=1)


def apply(deltas: Iterable[tuple[date, int, str, int, int]]) -> None:
    """Add ``(day, category_id, kind, count_delta, total_delta)`` rows to the summary."""
    merged: dict[tuple[date, int, str], list[int]] = {}
    for day, category_id, kind, count, total in deltas:
        slot = merged.setdefault((month_of(day), category_id, kind), [0, 0])
        slot[0] += count
        slot[1] += total
    for (month, category_id, kind), (count, total) in sorted(merged.items()):
        if count == 0 and total == 0:
            continue
        MonthlyTotal.insert(
            month=month, category=category_id, kind=kind, count=count, total=total
        ).on_conflict(
            conflict_target=[MonthlyTotal.month, MonthlyTotal.category, MonthlyTotal.kind],
            update={
                MonthlyTotal.count: MonthlyTotal.count + count,
                MonthlyTotal.total: MonthlyTotal.total + total,
            },
        ).execute()


def apply_merged(cells: Iterable[tuple[date, int, str, int, int]]) -> None:
    """Add already-merged ``(month, category_id, kind, count, total)`` cells in one
    statement (an import's publishing transaction: hundreds of cells, kept short)."""
    table = MonthlyTotal._meta.table_name
    param = "%s" if is_postgres() else "?"  # the driver's placeholder
    sql = (
        f'INSERT INTO "{table}" (month, category_id, kind, count, total) '
        f"VALUES ({', '.join([param] * 5)}) ON CONFLICT (month, category_id, kind) "
        'DO UPDATE SET count = "{table}".count + excluded.count, '
        'total = "{table}".total + excluded.total'
    ).replace("{table}", table)
    pg = is_postgres()
    rows = [(m if pg else m.isoformat(), c, k, n, t) for m, c, k, n, t in cells if n or t]
    if rows:
        database.cursor().executemany(sql, rows)


def add_record(day: date, category_id: int, kind: str, amount_minor: int, sign: int = 1) -> None:
    apply([(day, category_id, kind, sign, sign * amount_minor)])


def expected_rows() -> dict[tuple[date, int, str], tuple[int, int]]:
    """The summary recomputed from the live records (one grouped SQL query)."""
    month = month_expr(Record.date)
    query = (
        Record.select(
            month.alias("m"),
            Record.category,
            Record.kind,
            fn.COUNT(Record.id),
            fn.SUM(Record.amount),
        )
        .where(*live())
        .group_by(month, Record.category, Record.kind)
        .tuples()
    )
    result = {}
    for m, category_id, kind, count, total in query:
        if isinstance(m, str):
            m = date.fromisoformat(m[:10])
        elif isinstance(m, datetime):
            m = m.date()
        result[(m, category_id, kind)] = (int(count), int(total))
    return result


def stored_cells() -> ModelSelect:
    """The stored summary as ``(month, category, kind, count, total)`` rows: the one
    query the dashboard (filtered by month) and :func:`verify` both read."""
    return MonthlyTotal.select(
        MonthlyTotal.month,
        MonthlyTotal.category,
        MonthlyTotal.kind,
        MonthlyTotal.count,
        MonthlyTotal.total,
    )


def stored_rows() -> dict[tuple[date, int, str], tuple[int, int]]:
    query = stored_cells().tuples()
    return {(m, c, k): (int(n), int(t)) for m, c, k, n, t in query if n or t}


def verify() -> list[str]:
    """Differences between stored and recomputed summaries (empty when consistent)."""
    expected, stored = expected_rows(), stored_rows()
    problems = []
    for key in sorted(set(expected) | set(stored)):
        if expected.get(key) != stored.get(key):
            problems.append(
                f"{key[0]:%Y-%m} category {key[1]} {key[2]}: stored "
                f"{stored.get(key)} expected {expected.get(key)}"
            )
    return problems


def rebuild() -> None:
    """Replace the summary with a recomputation. Call inside a write transaction."""
    MonthlyTotal.delete().execute()
    rows = [
        {"month": m, "category": c, "kind": k, "count": n, "total": t}
        for (m, c, k), (n, t) in expected_rows().items()
    ]
    for start in range(0, len(rows), 500):
        MonthlyTotal.insert_many(rows[start : start + 500]).execute()


def month_expr(column: ColumnBase) -> Function:
    """SQL for the first day of ``column``'s month (a literal, so GROUP BY matches)."""
    from finance_tui.db import is_postgres

    if is_postgres():
        return fn.date_trunc(SQL("'month'"), column)
    return fn.strftime(SQL("'%Y-%m-01'"), column)
