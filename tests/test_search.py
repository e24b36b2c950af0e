"""Substring search through the index (FTS5 trigram / pg_trgm) means exactly what the plain
case-insensitive LIKE meant, stays in step with every write, and keyset paging visits
every row once in the filter's order."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui import search_index
from finance_tui.domain.filters import SORT_FIELDS, RecordFilter
from finance_tui.errors import ValidationError
from finance_tui.models import Category, Record, database
from finance_tui.services import query
from finance_tui.services.bulk import NewRecord, insert_records
from finance_tui.services.query import filter_from_strings, run_count, run_query, run_seek

NOTES = [
    "Groceries at Lidl",
    "groceries AT aldi",
    "Coffee",
    "Lunch with the team",
    'He said "hi" 100%',
    "under_score and 50% off",
    "",
    "Rent May",
    "FOODTRUCK",
    "Café crème",
]
ALPHABET = "abcdeLIDrtnmo _%\"'"


def _seed(admin, notes=NOTES, repeat=3) -> None:
    cats = {c.name_lower: c.id for c in Category.select()}
    rows = [
        NewRecord(
            "expense",
            100 + i,
            cats["food"] if i % 2 else cats["other"],
            date(2025, 1 + i % 12, 1 + i % 28),
            text,
        )
        for i, text in enumerate(notes * repeat)
    ]
    with database.atomic():
        insert_records(rows, admin.principal.user_id)


def _expected(text: str) -> set:
    """Brute force: case-insensitive substring of notes or category name (an ASCII needle
    folds ASCII letters only, as SQLite's LIKE does; any other needle folds every letter)."""
    needle = text.strip().lower()
    fold = _ascii_lower if needle.isascii() else str.casefold
    result = set()
    for rec in Record.select().where(Record.is_deleted == False):  # noqa: E712
        name = Category.get_by_id(rec.category_id).name_lower
        if fold(needle) in fold(rec.notes) or needle in name:
            result.add(rec.id)
    return result


def _ascii_lower(text: str) -> str:
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


def _found(text: str, limit: int = 1000) -> set:
    page = run_query(RecordFilter(text=text, limit=limit))
    assert page.total == len(page.rows)
    return {row.id for row in page.rows}


@pytest.mark.parametrize(
    "text",
    [
        "lidl",
        "LIDL",
        "gro",
        "es at",
        '"hi"',
        "100%",
        "50% off",
        "_",
        "r_s",
        "co",
        "e",
        "foo",
        "zzz",
    ],
)
def test_search_means_case_insensitive_substring(admin, text):
    _seed(admin)
    assert _found(text) == _expected(text)


def test_non_ascii_text_folds_every_letter(admin, db):
    _seed(admin)
    for needle in ("crème", "CRÈME", "CAFÉ", "café"):
        found = _found(needle)
        assert found, needle
        assert found == _expected(needle), needle
        assert all(needle.casefold() in Record.get_by_id(r).notes.casefold() for r in found)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    notes=st.lists(st.text(ALPHABET, max_size=12), min_size=1, max_size=8),
    text=st.text(ALPHABET, min_size=1, max_size=5),
)
def test_search_equals_brute_force_for_random_text(admin, notes, text):
    _seed(admin, notes, repeat=1)
    if not text.strip():
        return
    assert _found(text) == _expected(text)


def test_index_follows_create_update_delete_and_restore(admin, db):
    rec = admin.records.create(
        {
            "kind": "expense",
            "amount": "5",
            "category": "food",
            "date": "2025-03-01",
            "notes": "alpha",
        }
    )
    assert _found("alph") == {rec.id}
    rec = admin.records.update(rec.id, rec.version, {"notes": "bravo charlie"})
    assert _found("alph") == set()
    assert _found("avo ch") == {rec.id}
    admin.records.delete(rec.id)
    assert _found("bravo") == set()
    deleted = run_query(RecordFilter(text="bravo", include_deleted=True))
    assert [r.id for r in deleted.rows] == [rec.id]
    admin.records.restore(rec.id)
    assert _found("bravo") == {rec.id}
    assert search_index.verify(db) == []


def test_bulk_insert_is_indexed_and_writes_after_it_still_are(admin, db):
    _seed(admin)
    admin.records.create(
        {
            "kind": "income",
            "amount": "9",
            "category": "salary",
            "date": "2025-01-02",
            "notes": "Lidl refund",
        }
    )
    assert _found("lidl") == _expected("lidl")
    assert len(_found("lidl")) == 4
    assert search_index.verify(db) == []


def test_verify_detects_and_rebuild_repairs_a_broken_index(admin, db):
    _seed(admin)
    if db.__class__.__name__.startswith("Sqlite"):
        db.execute_sql("DROP TRIGGER record_search_upd")
        assert any("record_search_upd" in p for p in search_index.verify(db))
    else:
        db.execute_sql('DROP INDEX "record_notes_trgm"')
        assert any("record_notes_trgm" in p for p in search_index.verify(db))
    with database.atomic():
        search_index.rebuild(db)
    assert search_index.verify(db) == []
    assert _found("lidl") == _expected("lidl")


@pytest.mark.parametrize("text", ["lidl", "co", "zzzz", "groceries at", ""])
def test_every_page_strategy_gives_the_same_rows(admin, monkeypatch, text):
    """Prefix scan, substring index, grouped sorts and the plain query agree (on the
    rows: the total is one count whatever the strategy, so it is not asked for here)."""
    _seed(admin, repeat=8)

    def rows(flt: RecordFilter) -> list:
        return run_query(flt, with_total=False).rows

    extras = [{}, {"kind": "expense", "amount_min": Decimal("1.10")}, {"date_to": date(2025, 6, 1)}]
    for sort, extra in itertools.product(SORT_FIELDS, extras):
        flt = RecordFilter(text=text, limit=5, sort=sort, descending=False, **extra)
        monkeypatch.setattr(query, "PREFIX_STAGES", ())
        monkeypatch.setattr(query, "GROUPED_MAX_PAGE", 0)
        plain = rows(flt)
        monkeypatch.setattr(query, "GROUPED_MAX_PAGE", 1000)
        for stages in ((12, 30), (2, 3), (2000,)):
            for rare in (0, 10**6):
                monkeypatch.setattr(query, "PREFIX_STAGES", stages)
                monkeypatch.setattr(query, "RARE_CANDIDATES", rare)
                assert rows(flt) == plain, (sort, stages, rare)
                assert rows(flt.page(3)) == rows(flt.page(0, 8))[3:]


def test_category_filter_pages_agree_whichever_index_serves_them(admin, monkeypatch):
    _seed(admin, repeat=4)
    food = Category.get(Category.name_lower == "food").id
    flt = RecordFilter(categories=(food,), limit=4, sort="amount")
    expected = [
        r for r in run_query(RecordFilter(sort="amount", limit=1000)).rows if r.category_id == food
    ][:4]
    for rare in (True, False):
        monkeypatch.setattr(query, "_rare_categories", lambda _flt, rare=rare: rare)
        assert run_query(flt).rows == expected
        assert run_query(flt.page(0, 1)).rows == expected[:1]
        assert run_seek(flt, after=expected[0]).rows[:3] == expected[1:]


@pytest.mark.parametrize("sort", SORT_FIELDS)
@pytest.mark.parametrize("descending", [True, False])
def test_seek_pages_visit_every_row_in_order(admin, sort, descending):
    _seed(admin, repeat=2)
    flt = RecordFilter(sort=sort, descending=descending, limit=7)
    everything = run_query(RecordFilter(sort=sort, descending=descending, limit=1000)).rows
    assert len(everything) == 2 * len(NOTES)
    walked, page = [], run_seek(flt)
    while page.rows:
        walked.extend(page.rows)
        page = run_seek(flt, after=page.rows[-1])
    assert walked == everything
    last = run_seek(flt, last=True)
    assert last.rows == everything[-7:]
    back, page = [], last
    while page.rows:
        back = page.rows + back
        page = run_seek(flt, before=page.rows[0])
    assert back == everything


def test_seek_respects_filters_and_text(admin):
    _seed(admin, repeat=4)
    flt = RecordFilter(text="gro", kind="expense", amount_min=Decimal("1.05"), limit=3)
    everything = run_query(flt.page(0, 1000)).rows
    walked, page = [], run_seek(flt, with_total=True)
    assert page.total == len(everything)
    while page.rows:
        walked.extend(page.rows)
        page = run_seek(flt, after=page.rows[-1])
    assert walked == everything
    assert run_count(flt) == len(everything) > 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\x00", "contains a control character"),
        ("lunch\x00", "contains a control character"),
        ("\x1b[2J", "contains a control character"),
        ("a\tb", "contains a control character"),
        ("\udcff", "not valid text"),
        ("caf\udce9", "not valid text"),
    ],
)
def test_search_text_with_a_control_character_or_bad_byte_is_refused(admin, text, message):
    """'\\x00' used to match every record (LIKE stops at the NUL) and a lone surrogate
    (a non-UTF-8 byte on the command line) raised UnicodeEncodeError from the driver."""
    _seed(admin)
    with pytest.raises(ValidationError) as err:
        run_query(RecordFilter(text=text))
    assert message in err.value.fields["text"]
    with pytest.raises(ValidationError) as err:
        filter_from_strings({"text": text})
    assert message in err.value.fields["text"]


@pytest.mark.parametrize("name", ["category", "created_by", "kind", "date_from", "amount_min"])
def test_every_filter_field_with_a_bad_byte_is_a_field_error(admin, name):
    with pytest.raises(ValidationError) as err:
        filter_from_strings({name: "x\udcff"})
    assert err.value.fields == {
        name: "contains characters that are not valid text (check the terminal's encoding)"
    }


def test_rare_text_goes_straight_to_the_index_without_a_prefix_scan(admin, monkeypatch, db_url):
    """The index's own (capped) candidate count picks the plan before any prefix scan."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the prefix scan and the candidate count are SQLite's plans")
    _seed(admin, notes=["Groceries at Lidl", "Bus ticket", "Sold old bike"], repeat=40)
    scanned: list[int] = []
    real_prefix = query._rows_from_prefix

    def counting_prefix(*args, **kwargs):
        scanned.append(args[6])  # the prefix size
        return real_prefix(*args, **kwargs)

    monkeypatch.setattr(query, "_rows_from_prefix", counting_prefix)
    monkeypatch.setattr(query, "RARE_CANDIDATES", 50)
    rare = run_query(RecordFilter(text="bike", limit=5, sort="amount")).rows
    assert scanned == []  # 40 candidates < 50: the index served it
    assert len(rare) == 5 and all("bike" in r.notes for r in rare)
    common = run_query(RecordFilter(text="e", limit=5, sort="amount")).rows
    assert scanned == [query.PREFIX_STAGES[0]]  # short text: the index cannot count it
    assert len(common) == 5
