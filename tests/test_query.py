"""Filters, sort and paging (docs/ARCHITECTURE.md: Paging) against a brute-force Python filter over the same
random data. Data deliberately has many equal dates, amounts and creation times, so the
documented tie-breakers (sort column, then created_at, then id) decide page boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui.db import write_transaction
from finance_tui.domain.filters import MAX_LIMIT, SORT_FIELDS, RecordFilter
from finance_tui.errors import PermissionDenied, ValidationError
from finance_tui.models import Category, MonthlyTotal, Record, User
from finance_tui.money import from_minor
from finance_tui.services import summaries
from finance_tui.services.bulk import NewRecord, insert_records
from finance_tui.services.query import filter_from_strings, run_seek

TODAY = date(2026, 11, 25)
START = date(2026, 10, 1)
DAYS = 12  # few distinct dates: many ties
AMOUNTS = [100, 250, 999, 1000, 123456]  # few distinct amounts: many ties
STAMPS = [datetime(2026, 11, 1, 9, 0, 0, 500), datetime(2026, 11, 1, 9, 0, 1, 250)]
WORDS = ["Lunch", "rent NOV", "Taxi", "lunch with Bob", "", "100% off", "a_b", "misc"]
DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Row:
    """A record as the brute force sees it."""

    id: str  # uuid hex: the database orders UUIDs like their hex text
    kind: str
    amount: int
    category_id: int
    category: str
    date: date
    notes: str
    created_by: object
    created_at: datetime
    is_deleted: bool


def _load() -> list[Row]:
    names = {c.id: c.name for c in Category.select()}
    out = []
    for r in Record.select():
        created = r.created_at
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        out.append(
            Row(
                r.id.hex,
                r.kind,
                r.amount,
                r.category_id,
                names[r.category_id],
                r.date,
                r.notes,
                r.created_by_id,
                created,
                r.is_deleted,
            )
        )
    return out


def brute(rows: list[Row], flt: RecordFilter) -> list[Row]:
    """The documented meaning of every filter field and the sort, in plain Python."""
    text = flt.text.strip().lower()
    out = []
    for r in rows:
        if flt.only_deleted and not r.is_deleted:
            continue
        if not flt.include_deleted and not flt.only_deleted and r.is_deleted:
            continue
        if flt.kind and r.kind != flt.kind:
            continue
        if flt.categories and r.category_id not in flt.categories:
            continue
        if flt.date_from and r.date < flt.date_from:
            continue
        if flt.date_to and r.date > flt.date_to:
            continue
        if flt.amount_min is not None and from_minor(r.amount) < flt.amount_min:
            continue
        if flt.amount_max is not None and from_minor(r.amount) > flt.amount_max:
            continue
        if flt.created_by and str(r.created_by) != str(flt.created_by):
            continue
        if text and text not in r.notes.lower() and text not in r.category.lower():
            continue
        out.append(r)
    column = {
        "date": lambda r: r.date,
        "amount": lambda r: r.amount,
        "category": lambda r: r.category.lower(),
        "kind": lambda r: r.kind,
        "created_at": lambda r: r.created_at,
    }[flt.sort]
    return sorted(out, key=lambda r: (column(r), r.created_at, r.id), reverse=flt.descending)


def walk(session, flt: RecordFilter) -> tuple[list[str], int | None]:
    """Every page in turn; returns the concatenated ids and the reported total."""
    ids, offset, total = [], 0, None
    for _ in range(10_000):
        page = session.records.list(flt.page(offset))
        total = page.total
        if not page.rows:
            break
        assert len(page.rows) <= flt.limit
        ids.extend(row.id.hex for row in page.rows)
        offset += flt.limit
    return ids, total


# ---- random data ------------------------------------------------------------------
record_spec = st.tuples(
    st.integers(0, 6),  # category index (kind chosen to fit)
    st.booleans(),  # income or expense when the category takes both
    st.sampled_from(AMOUNTS),
    st.integers(0, DAYS - 1),
    st.sampled_from(WORDS),
    st.integers(0, 2),  # creator index
    st.integers(0, len(STAMPS) - 1),
    st.booleans(),  # deleted (about half: so the deleted filters have work)
)


def _categories() -> list[Category]:
    if not Category.select().where(Category.name_lower == "travel").exists():
        with write_transaction():
            Category.create(name="Travel", name_lower="travel", kind="expense")
            Category.create(name="Side Gig", name_lower="side gig", kind="income")
    return list(Category.select().order_by(Category.id))


def _reset_data(specs, creators) -> None:
    """Replace all records with ``specs`` (one bulk insert per creator, like imports)."""
    cats = _categories()
    with write_transaction():
        Record.delete().execute()
        MonthlyTotal.delete().execute()
    for who, creator in enumerate(creators):
        rows = []
        for i, (cat_i, income, amount, day, notes, creator_i, stamp_i, _) in enumerate(specs):
            if creator_i != who:
                continue
            cat = cats[cat_i]
            kind = cat.kind if cat.kind != "both" else ("income" if income else "expense")
            day = START + timedelta(days=day)
            rows.append(NewRecord(kind, amount, cat.id, day, notes, f"spec{i}", STAMPS[stamp_i]))
        with write_transaction():
            insert_records(rows, creator)
    # Soft-delete the chosen ones directly: services are tested elsewhere, this is querying.
    gone = [f"spec{i}" for i, spec in enumerate(specs) if spec[7]]
    if gone:
        with write_transaction():
            Record.update(is_deleted=True, deleted_at=STAMPS[0]).where(
                Record.import_fingerprint.in_(gone)
            ).execute()
            summaries.rebuild()  # the summaries hold live records only, as the services keep them


@st.composite
def filters(draw, category_ids, user_ids):
    first = draw(st.integers(-1, DAYS))
    length = draw(st.integers(0, DAYS))
    deleted = draw(st.sampled_from(["live", "include", "only"]))
    amount_min = draw(st.sampled_from([None, *AMOUNTS, 101]))
    amount_max = draw(st.sampled_from([None, *AMOUNTS, 99_999]))
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        amount_min, amount_max = amount_max, amount_min
    return RecordFilter(
        kind=draw(st.sampled_from([None, "income", "expense"])),
        categories=tuple(draw(st.lists(st.sampled_from(category_ids), max_size=3, unique=True))),
        date_from=draw(st.sampled_from([None, START + timedelta(days=first)])),
        date_to=draw(st.sampled_from([None, START + timedelta(days=first + length)])),
        amount_min=None if amount_min is None else from_minor(amount_min),
        amount_max=None if amount_max is None else from_minor(amount_max),
        text=draw(st.sampled_from(["", "LUNCH", "unc", "nov", "RENT", "tra", "gig", "%", "_", "zzz", " taxi "])),
        created_by=draw(st.sampled_from([None, *user_ids])),
        include_deleted=deleted == "include",
        only_deleted=deleted == "only",
        sort=draw(st.sampled_from(SORT_FIELDS)),
        descending=draw(st.booleans()),
        limit=draw(st.integers(1, 9)),
    )  # fmt: skip


@pytest.fixture
def creators(sessions):
    return [User.get(User.username_lower == n).id for n in ("root", "viewer1", "analyst2")]


@DB_SETTINGS
@given(data=st.data())
def test_filters_sort_and_paging_match_brute_force(sessions, creators, data):
    specs = data.draw(st.lists(record_spec, min_size=0, max_size=45), label="records")
    _reset_data(specs, creators)
    rows = _load()
    assert len(rows) == len(specs)
    cat_ids = [c.id for c in _categories()]
    for _ in range(3):
        flt = data.draw(filters(cat_ids, creators), label="filter")
        expected = [r.id for r in brute(rows, flt)]
        ids, total = walk(sessions["admin"], flt)
        assert ids == expected, flt
        assert total == len(expected)
        assert sessions["admin"].records.count(flt) == len(expected)
        if not (flt.include_deleted or flt.only_deleted):  # what a viewer may ask
            assert walk(sessions["viewer"], flt)[0] == expected


def test_every_filter_field_alone(sessions, creators):
    """One deterministic dataset, each field on its own, bounds inclusive."""
    specs = [
        (1, False, 100, 0, "Lunch", 0, 0, False),
        (1, False, 250, 1, "taxi", 1, 1, False),
        (0, True, 1000, 2, "pay", 2, 0, False),
        (4, True, 999, 3, "gift from MUM", 0, 1, False),
        (4, False, 123456, 4, "lunch again", 1, 0, True),
        (2, False, 250, 4, "rent NOV", 2, 1, False),
    ]
    _reset_data(specs, creators)
    rows = _load()
    food = Category.get(Category.name_lower == "food").id
    cases = [
        RecordFilter(kind="income"),
        RecordFilter(kind="expense"),
        RecordFilter(categories=(food,)),
        RecordFilter(date_from=START + timedelta(days=1)),
        RecordFilter(date_to=START + timedelta(days=1)),
        RecordFilter(date_from=START + timedelta(days=2), date_to=START + timedelta(days=2)),
        RecordFilter(amount_min=Decimal("2.50")),
        RecordFilter(amount_max=Decimal("2.50")),
        RecordFilter(amount_min=Decimal("2.50"), amount_max=Decimal("2.50")),
        RecordFilter(text="LUNCH"),
        RecordFilter(text="Rent"),  # matches the category name 'rent' and the notes
        RecordFilter(text="sal"),  # category name only
        RecordFilter(created_by=creators[1]),
        RecordFilter(include_deleted=True),
        RecordFilter(only_deleted=True),
    ]
    for flt in cases:
        expected = [r.id for r in brute(rows, flt)]
        assert expected, f"case selects nothing, so it proves nothing: {flt}"
        assert walk(sessions["admin"], flt)[0] == expected, flt
    # Inclusive bounds really include the edge rows.
    edge = walk(
        sessions["admin"],
        RecordFilter(date_from=START + timedelta(days=2), date_to=START + timedelta(days=2)),
    )[0]
    assert len(edge) == 1
    assert (
        len(
            walk(
                sessions["admin"],
                RecordFilter(amount_min=Decimal("2.50"), amount_max=Decimal("2.50")),
            )[0]
        )
        == 2
    )


def test_equal_sort_keys_across_page_boundaries(sessions, creators):
    """40 records identical in every sort column: pages must still neither repeat nor skip."""
    specs = [(1, False, 500, 3, "same", i % 3, 0, False) for i in range(40)]
    _reset_data(specs, creators)
    rows = _load()
    for sort in SORT_FIELDS:
        for descending in (False, True):
            for limit in (1, 3, 7, 40):
                flt = RecordFilter(sort=sort, descending=descending, limit=limit)
                ids = walk(sessions["viewer"], flt)[0]
                assert ids == [r.id for r in brute(rows, flt)]
                assert len(set(ids)) == 40


def test_text_search_is_case_insensitive_literal_substring(sessions, creators):
    specs = [
        (1, False, 100, 0, "100% off", 0, 0, False),
        (1, False, 100, 0, "1000 off", 0, 0, False),
        (1, False, 100, 0, "a_b", 0, 0, False),
        (1, False, 100, 0, "axb", 0, 0, False),
        (1, False, 100, 0, "Lunch With BOB", 0, 0, False),
    ]
    _reset_data(specs, creators)
    admin = sessions["admin"]

    def notes(text: str) -> list[str]:
        return sorted(r.notes for r in admin.records.list(RecordFilter(text=text)).rows)

    assert notes("0%") == ["100% off"]  # % is a character, not a wildcard
    assert notes("a_b") == ["a_b"]  # _ is a character, not a wildcard
    assert notes("with bob") == ["Lunch With BOB"]
    assert notes("WITH BOB") == ["Lunch With BOB"]
    assert notes("h W") == ["Lunch With BOB"]


def test_text_search_folds_non_ascii_case(sessions, creators):
    specs = [(1, False, 100, 0, "Café CRÈME", 0, 0, False), (1, False, 100, 0, "ÉTÉ", 0, 0, False)]
    _reset_data(specs, creators)
    sessions["admin"].categories.create("Épicerie", "expense")
    admin = sessions["admin"]

    def notes(text: str) -> set[str]:
        return {r.notes for r in admin.records.list(RecordFilter(text=text)).rows}

    assert notes("crème") == {"Café CRÈME"}
    assert notes("été") == {"ÉTÉ"}
    admin.records.create(
        {"kind": "expense", "amount": "1", "category": "épicerie", "date": "2026-10-02"}
    )
    assert {r.category for r in admin.records.list(RecordFilter(text="ÉPI")).rows} == {"Épicerie"}


def test_deleted_filters_need_view_deleted(sessions):
    for role in ("viewer", "analyst"):
        for flt in (RecordFilter(include_deleted=True), RecordFilter(only_deleted=True)):
            with pytest.raises(PermissionDenied):
                sessions[role].records.list(flt)
            with pytest.raises(PermissionDenied):
                sessions[role].records.count(flt)


@pytest.mark.parametrize(
    ("flt", "fields"),
    [
        (RecordFilter(date_from=date(2026, 2, 2), date_to=date(2026, 2, 1)), {"date_to"}),
        (RecordFilter(amount_min=Decimal("5"), amount_max=Decimal("4.99")), {"amount_max"}),
        (RecordFilter(amount_min=Decimal("-1")), {"amount_min"}),
        (RecordFilter(sort="notes"), {"sort"}),
        (RecordFilter(sort="id; DROP TABLE record"), {"sort"}),
        (RecordFilter(limit=0), {"limit"}),
        (RecordFilter(limit=MAX_LIMIT + 1), {"limit"}),
        (RecordFilter(limit=-5), {"limit"}),
        (RecordFilter(offset=-1), {"offset"}),
        (RecordFilter(kind="transfer"), {"kind"}),
        (RecordFilter(text="x" * 201), {"text"}),
        (RecordFilter(sort="nope", limit=0, offset=-1, kind="x"), {"sort", "limit", "offset", "kind"}),
    ],
)  # fmt: skip
def test_bad_filters_rejected(sessions, flt, fields):
    for call in (sessions["viewer"].records.list, sessions["viewer"].records.count):
        with pytest.raises(ValidationError) as err:
            call(flt)
        assert set(err.value.fields) == fields


def test_from_strings_builds_every_field(sessions, creators):
    flt = filter_from_strings(
        {
            "kind": "Income",
            "category": "salary, OTHER",
            "date_from": "-30",
            "date_to": "today",
            "amount_min": "1,000",
            "amount_max": "2500.5",
            "text": "  bonus ",
            "created_by": "ROOT",
            "sort": "+amount",
        },
        today=TODAY,
    )
    ids = {c.name_lower: c.id for c in Category.select()}
    assert flt.kind == "income"
    assert flt.categories == (ids["salary"], ids["other"])
    assert (flt.date_from, flt.date_to) == (TODAY - timedelta(days=30), TODAY)
    assert (flt.amount_min, flt.amount_max) == (Decimal("1000.00"), Decimal("2500.50"))
    assert flt.text == "bonus"
    assert flt.created_by == creators[0]
    assert (flt.sort, flt.descending) == ("amount", False)
    assert filter_from_strings({"sort": "-date"}).descending is True
    assert filter_from_strings({"sort": "kind", "order": "ASC"}).descending is False
    assert filter_from_strings({"kind": "all"}).kind is None
    assert filter_from_strings({}) == RecordFilter()


def test_from_strings_reports_every_bad_value(sessions):
    with pytest.raises(ValidationError) as err:
        filter_from_strings(
            {
                "kind": "loan",
                "category": "food,nope",
                "date_from": "soon",
                "date_to": "2026-02-30",
                "amount_min": "-1",
                "amount_max": "abc",
                "created_by": "ghost",
                "order": "sideways",
            },
            today=TODAY,
        )
    assert set(err.value.fields) == {
        "kind",
        "category",
        "date_from",
        "date_to",
        "amount_min",
        "amount_max",
        "created_by",
        "order",
    }
    assert "nope" in err.value.fields["category"]
    with pytest.raises(ValidationError) as err:
        filter_from_strings({"sort": "colour"})
    assert set(err.value.fields) == {"sort"}
    with pytest.raises(ValidationError) as err:
        filter_from_strings({"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert set(err.value.fields) == {"date_to"}


@pytest.mark.parametrize("descending", [True, False])
def test_amount_order_within_categories_merges_each_category(sessions, descending):
    """Amounts follow the category here (food small, rent large, ties across them), the
    case the per-category merge serves: every page and every seek equals a full sort."""
    admin = sessions["admin"]
    ids = {c.name_lower: c.id for c in Category.select()}
    specs = [("food", 1 + i % 7) for i in range(25)] + [("rent", 5 + i) for i in range(20)]
    specs += [("other", 3)] * 4
    for n, (cat, amount) in enumerate(specs):
        admin.records.create(
            {"kind": "expense", "amount": str(amount), "category": cat,
             "date": (date(2026, 1, 1) + timedelta(days=n % 40)).isoformat()}
        )  # fmt: skip
    chosen = (ids["food"], ids["rent"])
    wanted = sorted(
        (r for r in Record.select() if r.category_id in chosen),
        key=lambda r: (r.amount, r.created_at, str(r.id)),
        reverse=descending,
    )
    expected = [r.id for r in wanted]
    flt = RecordFilter(categories=chosen, sort="amount", descending=descending, limit=7)
    got = []
    for offset in range(0, len(expected) + 7, 7):
        got += [row.id for row in admin.records.list(flt.page(offset)).rows]
    assert got == expected
    seen, page = [], run_seek(flt)
    while page.rows:
        seen += [row.id for row in page.rows]
        page = run_seek(flt, after=page.rows[-1])
    assert seen == expected


@DB_SETTINGS
@given(data=st.data())
def test_position_of_a_row_matches_brute_force(sessions, creators, data):
    """``records.position`` (the records screen selects a saved record with it) is the
    row's index in the filter's order, or None when the filter leaves it out."""
    specs = data.draw(st.lists(record_spec, min_size=1, max_size=30), label="records")
    _reset_data(specs, creators)
    rows = _load()
    cat_ids = [c.id for c in _categories()]
    admin = sessions["admin"]
    every = {
        row.id.hex: row
        for row in admin.records.list(RecordFilter(include_deleted=True, limit=MAX_LIMIT)).rows
    }
    for _ in range(3):
        flt = data.draw(filters(cat_ids, creators), label="filter")
        expected = [r.id for r in brute(rows, flt)]
        for rid, row in every.items():
            want = expected.index(rid) if rid in expected else None
            assert admin.records.position(flt, row) == want, (flt, rid)
    row = next(iter(every.values()))
    with pytest.raises(PermissionDenied):  # the trash's order is not a viewer's to see
        sessions["viewer"].records.position(RecordFilter(only_deleted=True), row)
