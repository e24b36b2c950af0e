"""The one record filter (docs/ARCHITECTURE.md: Paging) and its translation to SQL.

The same :class:`RecordFilter` drives the records screen, CSV export and the CLI. Bad
values are reported as field errors, never ignored.

Paging a million records
------------------------
``run_query(flt)`` pages with LIMIT/OFFSET: right for the first pages, but an offset deep
into 1,000,000 rows makes the database step over every skipped row. Screens that let
people reach any record use keyset ("seek") paging instead; every call costs the same
wherever it lands:

* ``run_seek(flt)``: the first page in the filter's order.
* ``run_seek(flt, after=row)``: the page that follows ``row`` (the last row shown).
* ``run_seek(flt, before=row)``: the page that precedes ``row`` (the first row shown),
  rows still in the filter's order.
* ``run_seek(flt, last=True)``: the last page (read in reverse order, then flipped).
* ``run_window(flt, request)``: what the records screen asks for per key action (one
  of the above, or the rows around a record just saved), placed at its position.

``row`` is any :class:`RecordRow` from an earlier page (its sort key and id are used).
``Page.offset`` is -1 for seek pages (the position is not computed; ask ``run_count``
once for the total). Text search uses the substring index of
:mod:`finance_tui.services.search`; short text (< 3 chars) falls back to a scan.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

from peewee import SQL, Expression, Tuple, Value, fn

from finance_tui.db import current_database, is_sqlite
from finance_tui.domain.dto import Page, RecordRow
from finance_tui.domain.filters import RecordFilter
from finance_tui.domain.paging import Window, WindowRequest
from finance_tui.domain.values import KINDS
from finance_tui.errors import ValidationError
from finance_tui.models import Category, MonthlyTotal, Record, User, database
from finance_tui.money import to_minor
from finance_tui.services import search
from finance_tui.services.record_rows import fetch_rows, record_select
from finance_tui.services.validation import find_category
from finance_tui.services.visibility import hidden_batches, visible


class DatabaseNames:
    """The :class:`NameLookup` over the database that filters typed by users resolve with."""

    def category_id(self, name: str) -> int | None:
        category = find_category(name)
        return None if category is None else category.id

    def user_id(self, username: str) -> UUID | None:
        user = User.get_or_none(User.username_lower == username.lower())
        return None if user is None else user.id


def filter_from_strings(
    raw: Mapping[str, str | None], *, today: date | None = None
) -> RecordFilter:
    """:meth:`RecordFilter.from_strings` with names looked up in the database."""
    return RecordFilter.from_strings(raw, names=DatabaseNames(), today=today)


def _text_condition(text: str, *, indexed: bool = True) -> Expression:
    """Case-insensitive substring of notes or category name (the original's meaning).

    The few matching categories are looked up first, so the common case (no category
    matches) is a pure notes condition the search index can serve. ``indexed=False``
    gives the plain scan condition (for a handful of candidate rows).
    """
    db = current_database()
    notes = search.notes_condition(db, text) if indexed else search.contains_condition(db, text)
    query = Category.select(Category.id).where(Category.name_lower.contains(text.lower()))
    matching = [category_id for (category_id,) in query.tuples()]
    if not matching:
        return notes
    return notes | Record.category.in_(matching)


def where_clause(
    flt: RecordFilter,
    *,
    include_text: bool = True,
    scan_categories: bool = False,
    visible_only: bool = True,
) -> list[Expression]:
    """Conditions of ``flt``. ``scan_categories`` keeps SQLite's planner off the
    category index (``category_id + 0``), for pages where walking the sort index is
    cheaper (see :func:`_page_conditions`). ``visible_only=False`` leaves out the
    test that hides unpublished imports (the caller subtracts them itself)."""
    flt.validate()
    conditions: list[Expression] = [visible()] if visible_only else []
    if flt.only_deleted:
        conditions.append(Record.is_deleted == True)  # noqa: E712
    elif not flt.include_deleted:
        conditions.append(Record.is_deleted == False)  # noqa: E712
    if flt.kind:
        conditions.append(Record.kind == flt.kind)
    if flt.categories:
        column = Record.category + 0 if scan_categories else Record.category
        conditions.append(column.in_(list(flt.categories)))
    if flt.date_from:
        conditions.append(Record.date >= flt.date_from)
    if flt.date_to:
        conditions.append(Record.date <= flt.date_to)
    if flt.amount_min is not None:
        conditions.append(Record.amount >= to_minor(flt.amount_min))
    if flt.amount_max is not None:
        conditions.append(Record.amount <= to_minor(flt.amount_max))
    if flt.created_by:
        conditions.append(Record.created_by == flt.created_by)
    if include_text and flt.text.strip():
        conditions.append(_text_condition(flt.text.strip()))
    return conditions


def _sort_columns(flt: RecordFilter) -> list:
    column = {
        "date": Record.date,
        "amount": Record.amount,
        "category": Category.name_lower,
        "kind": Record.kind,
        "created_at": Record.created_at,
    }[flt.sort]
    if flt.sort == "created_at":
        return [column, Record.id]
    return [column, Record.created_at, Record.id]


def order_by(flt: RecordFilter, *, reverse: bool = False) -> list:
    """ORDER BY terms: the sort column, then created_at and id as stable tie-breakers."""
    descending = flt.descending != reverse
    return [k.desc() if descending else k.asc() for k in _sort_columns(flt)]


def sort_key(flt: RecordFilter, row: RecordRow) -> tuple:
    """The database values of ``row``'s sort columns (for keyset paging)."""
    values = {
        "date": row.date,
        "amount": to_minor(row.amount),
        "category": row.category.lower(),
        "kind": row.kind,
        "created_at": row.created_at,
    }
    key = [values[flt.sort]]
    if flt.sort != "created_at":
        key.append(row.created_at)
    key.append(row.id)
    return tuple(
        column.db_value(value) for column, value in zip(_sort_columns(flt), key, strict=True)
    )


def _beyond(flt: RecordFilter, row: RecordRow, *, reverse: bool) -> Expression:
    """Rows strictly after ``row`` in the filter's order (before it when ``reverse``)."""
    columns = Tuple(*_sort_columns(flt))
    key = Tuple(*[Value(v, unpack=False) for v in sort_key(flt, row)])
    after = columns < key if flt.descending else columns > key
    before = columns > key if flt.descending else columns < key
    return before if reverse else after


# First pages of a text search on SQLite: read the first rows in sort order and filter
# them; when they hold the page, that is the answer (a common word fills a page within a
# few hundred rows, where the substring index would list tens of thousands of matches).
# Otherwise the matches are rare (< ~0.2 %) and the substring index finds them quickly.
PREFIX_STAGES = (2_000, 25_000)
PREFIX_MAX_PAGE = 500
RARE_CANDIDATES = 3_000
# Sorting by kind or category: each group (one kind, one category) is read in creation
# order from an index and the groups are concatenated, for the first pages and for seeks.
GROUPED_MAX_PAGE = 1_000


def _rows(
    flt: RecordFilter,
    base: list[Expression],
    offset: int,
    limit: int,
    *,
    reverse: bool,
    after: RecordRow | None = None,
) -> list[RecordRow]:
    """Rows ``offset..offset+limit`` in the filter's order (reversed if asked) that come
    after ``after`` in that order; ``base`` holds the non-text conditions."""
    if flt.sort in ("kind", "category") and offset + limit <= GROUPED_MAX_PAGE:
        return _rows_by_group(flt, base, offset, limit, reverse=reverse, after=after)
    walk = _walk_conditions(flt)
    if after is not None:
        keyset = _beyond(flt, after, reverse=reverse)
        base, walk = [*base, keyset], [*walk, keyset]
    text = flt.text.strip()
    if flt.sort == "amount" and flt.categories and not text and offset + limit <= GROUPED_MAX_PAGE:
        return _rows_by_category_merge(flt, base, offset, limit, reverse=reverse)
    filtered = text or len(base) > len(walk)
    if filtered and is_sqlite() and offset + limit <= PREFIX_MAX_PAGE and not _rare_categories(flt):
        rows = _rows_by_prefix_stages(flt, walk, base, text, offset, limit, reverse=reverse)
        if rows is not None:
            return rows
    return _rows_plain(flt, base, text, offset, limit, reverse=reverse)


def _rows_plain(
    flt: RecordFilter, base: list[Expression], text: str, offset: int, limit: int, *, reverse: bool
) -> list[RecordRow]:
    """The page by one query in the filter's order (the database picks the plan)."""
    conditions = base + ([_text_condition(text)] if text else [])
    query = record_select()
    if conditions:
        query = query.where(*conditions)
    query = query.order_by(*order_by(flt, reverse=reverse)).offset(offset).limit(limit)
    return fetch_rows(query)


def _rows_by_prefix_stages(
    flt: RecordFilter,
    walk: list[Expression],
    base: list[Expression],
    text: str,
    offset: int,
    limit: int,
    *,
    reverse: bool,
) -> list[RecordRow] | None:
    """The page from ever longer prefixes of the sort-index walk, or None when the
    filter keeps too few rows for a prefix to pay (then the plain query does).

    Rare text is decided first, by the search index's own count of candidates (capped,
    so it costs at most that many index entries): for a word in a few hundred notes the
    index is the fast way, while scanning 2,000 then 25,000 newest rows first reads
    thousands of rows to find none.
    """
    if text and search.fewer_candidates_than(current_database(), text, RARE_CANDIDATES):
        return None
    for size in PREFIX_STAGES:
        rows = _rows_from_prefix(flt, walk, base, text, offset, limit, size, reverse=reverse)
        if rows is not None:
            return rows
    return None


def _walk_conditions(flt: RecordFilter) -> list[Expression]:
    """The conditions every row of the sort-index walk must meet (deleted or not)."""
    return where_clause(
        replace(
            flt,
            kind=None,
            categories=(),
            date_from=None,
            date_to=None,
            amount_min=None,
            amount_max=None,
            created_by=None,
            text="",
        )
    )


def _group_values(flt: RecordFilter) -> list[tuple[Expression, object]]:
    """(condition, value) per group in ascending sort order."""
    if flt.sort == "kind":
        kinds = [flt.kind] if flt.kind else sorted(KINDS)
        return [(Record.kind == k, k) for k in kinds]
    query = Category.select(Category.id, Category.name_lower).order_by(Category.name_lower)
    if flt.categories:
        query = query.where(Category.id.in_(list(flt.categories)))
    return [(Record.category == cid, name) for cid, name in query.tuples()]


def _rows_by_group(
    flt: RecordFilter,
    base: list[Expression],
    offset: int,
    limit: int,
    *,
    reverse: bool,
    after: RecordRow | None,
) -> list[RecordRow]:
    groups = _group_values(flt)
    if flt.descending != reverse:
        groups.reverse()
    within = replace(flt, sort="created_at")  # inside a group: created_at, id
    start_value = None
    if after is not None:
        start_value = after.kind if flt.sort == "kind" else after.category.lower()
    rows: list[RecordRow] = []
    need = offset + limit
    started = after is None
    for condition, value in groups:
        if not started:
            if value != start_value:
                continue
            started = True
            part = _rows(
                within, [*base, condition], 0, need - len(rows), reverse=reverse, after=after
            )
        else:
            part = _rows(within, [*base, condition], 0, need - len(rows), reverse=reverse)
        rows.extend(part)
        if len(rows) >= need:
            break
    return rows[offset:need]


def _rows_by_category_merge(
    flt: RecordFilter, base: list[Expression], offset: int, limit: int, *, reverse: bool
) -> list[RecordRow]:
    """Amount order within a category filter: each category's first rows come from the
    (category, amount) index and are merged here.

    Amounts depend on the category (food is small, salary large), so walking the amount
    index and skipping other categories can read most of the table before a page fills,
    and reading a big category's rows and sorting them is no better (~0.6 s at 1M).
    """
    need = offset + limit
    parts = []
    for category in flt.categories:
        query = (
            record_select()
            .where(*base, Record.category == category)
            .order_by(*order_by(flt, reverse=reverse))
            .limit(need)
        )
        parts.append(fetch_rows(query))
    descending = flt.descending != reverse
    merged = heapq.merge(*parts, key=lambda row: sort_key(flt, row), reverse=descending)
    return list(itertools.islice(merged, offset, need))


def _rows_from_prefix(
    flt: RecordFilter,
    walk: list[Expression],
    base: list[Expression],
    text: str,
    offset: int,
    limit: int,
    size: int,
    *,
    reverse: bool,
) -> list[RecordRow] | None:
    """The page from the first ``size`` rows in sort order, or None if they lack it.

    The inner query walks the sort index over ``size`` rows (only ``walk`` conditions,
    so the walk is bounded whatever the filters); the outer one applies the filters and
    the text to those rows. SQLite only (rowid).
    """
    inner = Record.select(SQL("rowid")).order_by(*order_by(flt, reverse=reverse)).limit(size)
    if walk:
        inner = inner.where(*walk)
    conditions = [Expression(SQL('"t1"."rowid"'), "IN", inner), *base]
    if text:
        conditions.append(_text_condition(text, indexed=False))
    query = (
        record_select()
        .where(*conditions)
        .order_by(*order_by(flt, reverse=reverse))
        .offset(offset)
        .limit(limit)
    )
    rows = fetch_rows(query)
    if len(rows) < limit:
        sql, params = inner.sql()
        scanned = database.execute_sql(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]
        if scanned >= size:
            return None  # the prefix ran out before the page filled
    return rows


def _category_share(flt: RecordFilter) -> tuple[int, int]:
    """(live records in the filter's categories, all live records), from the summary."""
    counts = dict(
        MonthlyTotal.select(MonthlyTotal.category, fn.SUM(MonthlyTotal.count))
        .group_by(MonthlyTotal.category)
        .tuples()
    )
    selected = sum(int(counts.get(c) or 0) for c in flt.categories)
    return selected, sum(int(n or 0) for n in counts.values())


def _rare_categories(flt: RecordFilter) -> bool:
    """True when the category filter selects so few rows that its index is the best way.

    Reading a category's rows from its index and sorting them costs ~``count`` row
    reads; walking the sort index and skipping other categories ~``limit / share``.
    """
    if not flt.categories or flt.sort == "category":
        return False
    selected, total = _category_share(flt)
    return selected * selected * 6 <= flt.limit * max(total, 1)


def _page_conditions(flt: RecordFilter) -> list[Expression]:
    """Non-text conditions for fetching a page; on SQLite, a big category filter is
    kept off the category index (the planner would sort all of its rows)."""
    scan = bool(flt.categories) and is_sqlite() and not _rare_categories(flt)
    return where_clause(flt, include_text=False, scan_categories=scan)


def run_query(flt: RecordFilter, *, with_total: bool = True) -> Page[RecordRow]:
    """One page by LIMIT/OFFSET (see the module docstring for deep pages)."""
    base = _page_conditions(flt)
    rows = _rows(flt, base, flt.offset, flt.limit, reverse=False)
    total = run_count(flt) if with_total else None
    return Page(rows, total, flt.offset, flt.limit)


def run_seek(
    flt: RecordFilter,
    *,
    after: RecordRow | None = None,
    before: RecordRow | None = None,
    last: bool = False,
    with_total: bool = False,
) -> Page[RecordRow]:
    """Keyset paging: first page, the page after/before a row, or the last page.

    Rows are always in the filter's order; ``flt.offset`` is ignored.
    """
    if sum(x is not None and x is not False for x in (after, before, last)) > 1:
        raise ValidationError({"page": "give at most one of after, before, last"})
    base = _page_conditions(flt)
    reverse = before is not None or last
    rows = _rows(flt, base, 0, flt.limit, reverse=reverse, after=after or before)
    if reverse:
        rows.reverse()
    total = run_count(flt) if with_total else None
    return Page(rows, total, -1, flt.limit)


def _whole_months(flt: RecordFilter) -> bool:
    """The date range (if any) starts on a first and ends on a last day of a month."""
    starts = flt.date_from is None or flt.date_from.day == 1
    ends = flt.date_to is None or (flt.date_to + timedelta(days=1)).day == 1
    return starts and ends


def summary_count(flt: RecordFilter) -> int | None:
    """The count from the monthly summaries, or None when the filter needs the rows.

    The summaries hold the live, published records per month, category and kind, so a
    filter on kind, categories and whole months is answered from a few hundred summary
    rows instead of counting up to a million records (~100 ms at 1M on SQLite).
    """
    flt.validate()
    if (
        flt.text.strip()
        or flt.amount_min is not None
        or flt.amount_max is not None
        or flt.created_by
        or flt.include_deleted
        or flt.only_deleted
        or not _whole_months(flt)
    ):
        return None
    query = MonthlyTotal.select(fn.COALESCE(fn.SUM(MonthlyTotal.count), 0))
    conditions: list[Expression] = []
    if flt.kind:
        conditions.append(MonthlyTotal.kind == flt.kind)
    if flt.categories:
        conditions.append(MonthlyTotal.category.in_(list(flt.categories)))
    if flt.date_from:
        conditions.append(MonthlyTotal.month >= flt.date_from)
    if flt.date_to:
        conditions.append(MonthlyTotal.month <= flt.date_to)
    if conditions:
        query = query.where(*conditions)
    return int(query.scalar() or 0)


def run_count(flt: RecordFilter) -> int:
    """How many records match: from the summaries where the filter allows (kind,
    categories, whole months), otherwise by counting the rows."""
    from_summaries = summary_count(flt)
    return from_summaries if from_summaries is not None else count_rows(flt)


def count_rows(flt: RecordFilter) -> int:
    """Matching records minus those of unpublished imports, in one statement.

    The visibility test would make SQLite read every row even where a covering index
    answers the plain count (deleted included: ~50 ms instead of ~0.3 s at 100k); the
    hidden rows are subtracted. They are counted only while an import is unpublished
    (``CASE WHEN EXISTS``): with a text filter SQLite plans that second count through the
    search index too, which doubled the cost of every text count (~0.2 s at 1M).
    """
    sql, params = count_statement(flt)
    return int(database.execute_sql(sql, params).fetchone()[0])


def count_statement(flt: RecordFilter) -> tuple[str, list]:
    """The SQL and parameters of :func:`count_rows` (tests read its plan)."""
    conditions = where_clause(flt, visible_only=False)
    everything = Record.select(fn.COUNT(SQL("*")))
    hidden = Record.select(fn.COUNT(SQL("*"))).where(Record.import_batch.in_(hidden_batches()))
    if conditions:
        everything, hidden = everything.where(*conditions), hidden.where(*conditions)
    (sql1, params1), (sql2, params2) = everything.sql(), hidden.sql()
    sql3, params3 = hidden_batches().sql()
    sql = f"SELECT ({sql1}) - CASE WHEN EXISTS ({sql3}) THEN ({sql2}) ELSE 0 END"
    return sql, [*params1, *params3, *params2]


def run_position(flt: RecordFilter, row: RecordRow) -> int | None:
    """Where ``row`` stands in the filter's order (0 = first), or None when the filter
    leaves it out: the records screen selects a record it has just saved."""
    conditions = where_clause(flt)
    matches = Record.select(Record.id).where(Record.id == row.id, *conditions)
    if not matches.exists():
        return None
    before = Record.select().where(*conditions, _beyond(flt, row, reverse=True))
    if flt.sort == "category":
        before = before.join(Category, on=(Record.category == Category.id))
    return before.count()


def run_window(flt: RecordFilter, request: WindowRequest) -> Window:
    """The window ``request`` asks for, in ``flt``'s order, with its start position
    and the total when ``request.count`` allows it.

    Every anchor but ``offset`` reads by key, so a page deep in a million records
    costs what the first page costs.
    """
    if request.anchor == "around" and request.row is not None:
        rows, found = run_around(flt, request.row, request.before_rows)
        total = _window_total(flt, request.count)
        return Window(flt, rows, _around_start(flt, rows, found, request), total, found)
    if request.anchor == "offset":
        total = request.total if request.total is not None else run_count(flt)
        rows = run_offset_window(flt, request.offset, total)
        return Window(flt, rows, request.offset, _window_total(flt, request.count))
    rows = _seek_rows(flt, request)
    total = _window_total(flt, request.count)
    return Window(flt, rows, _seek_start(flt, rows, request, total), total)


def _seek_rows(flt: RecordFilter, request: WindowRequest) -> list[RecordRow]:
    row = request.row
    if request.anchor == "after" and row is not None:
        return run_seek(flt, after=row).rows
    if request.anchor == "before" and row is not None:
        return run_seek(flt, before=row).rows
    if request.anchor == "last":
        return run_seek(flt, last=True).rows
    return run_seek(flt).rows


def _seek_start(
    flt: RecordFilter, rows: list[RecordRow], request: WindowRequest, total: int | None
) -> int:
    """Where a seek window starts, from the anchor row's known position (a short page
    before a row means the top was reached)."""
    if request.anchor == "after" and request.row is not None:
        return request.position + 1
    if request.anchor == "before" and request.row is not None:
        return 0 if len(rows) < flt.limit else max(request.position - len(rows), 0)
    if request.anchor == "last":
        known = total if total is not None else request.total
        return max((known if known is not None else run_count(flt)) - len(rows), 0)
    return 0


def _window_total(flt: RecordFilter, count: str) -> int | None:
    if count == "always":
        return run_count(flt)
    if count == "cheap":
        return summary_count(flt)
    return None


def run_around(
    flt: RecordFilter, row: RecordRow, before_rows: int
) -> tuple[list[RecordRow], int | None]:
    """Up to ``before_rows`` rows before ``row``, then ``row`` as it is now and the rows
    after it (``flt.limit`` in all), read by key; and ``row``'s index in them, None
    when the filter leaves it out (then the rows are those around where it was)."""
    fresh = fetch_rows(record_select().where(Record.id == row.id, *where_clause(flt)).limit(1))
    anchor = fresh[0] if fresh else row
    earlier = run_seek(replace(flt, limit=max(before_rows, 1)), before=anchor).rows
    earlier = earlier[len(earlier) - before_rows :] if before_rows else []
    rest = max(flt.limit - len(earlier) - len(fresh), 1)
    later = run_seek(replace(flt, limit=rest), after=anchor).rows
    return [*earlier, *fresh, *later], (len(earlier) if fresh else None)


def _around_start(
    flt: RecordFilter, rows: list[RecordRow], found: int | None, request: WindowRequest
) -> int:
    """The position of an ``around`` window's first row.

    From a row the screen showed before (its position not counting the saved row, plus
    one when the saved row now comes before it); a short run of rows before the saved
    one means the top; otherwise (the record moved far away) the rows before the
    window are counted: an index count, never an OFFSET read.
    """
    if not rows or (found is not None and found < request.before_rows):
        return 0
    for index, other in enumerate(rows):
        if index != found and other.id in request.known:
            moved = 1 if found is not None and found < index else 0
            return max(request.known[other.id] + moved - index, 0)
    return run_position(flt, rows[0]) or 0


def run_offset_window(flt: RecordFilter, offset: int, total: int) -> list[RecordRow]:
    """Rows ``offset .. offset + flt.limit`` by LIMIT/OFFSET, read from the nearer end:
    a jump to an arbitrary position has no row to seek from."""
    limit = min(flt.limit, max(total - offset, 0)) or flt.limit
    if total and offset > total // 2:
        reverse_offset = max(total - offset - limit, 0)
        flipped = replace(flt, descending=not flt.descending)
        return list(reversed(run_query(flipped.page(reverse_offset, limit), with_total=False).rows))
    return run_query(flt.page(offset, limit), with_total=False).rows
