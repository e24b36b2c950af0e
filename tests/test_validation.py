"""Record validation (docs/ARCHITECTURE.md: Paging): every bad field gets its own message, nothing is written,
and whatever is accepted is stored exactly (amounts to the cent, notes literally)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import PASSWORD, table_counts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui.domain.filters import RecordFilter
from finance_tui.domain.values import MAX_DATE, MIN_DATE, DateError, parse_date
from finance_tui.errors import ValidationError
from finance_tui.models import Category, Record
from finance_tui.money import MAX_AMOUNT, MAX_MINOR, from_minor
from finance_tui.services.validation import MAX_NOTES, validate_record
from finance_tui.session import SessionController

TODAY = date(2026, 11, 25)
DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _valid(**over) -> dict:
    data = {"kind": "expense", "amount": "10.00", "category": "food", "date": "2026-11-20"}
    data.update(over)
    return data


def _rejected(session: SessionController, data: dict, *fields: str) -> dict[str, str]:
    """Create must fail naming exactly ``fields`` and write nothing at all."""
    before = table_counts()
    with pytest.raises(ValidationError) as err:
        session.records.create(data, today=TODAY)
    assert set(err.value.fields) == set(fields), err.value.fields
    assert table_counts() == before
    return err.value.fields


# ---- amounts ------------------------------------------------------------------------
@DB_SETTINGS
@given(st.integers(min_value=1, max_value=MAX_MINOR), st.booleans())
def test_valid_amounts_round_trip_through_the_database(admin, minor, separators):
    amount = from_minor(minor)
    text = f"{amount:,}" if separators else str(amount)
    created = admin.records.create(_valid(amount=text), today=TODAY)
    assert created.amount == amount
    assert admin.records.get(created.id).amount == amount
    assert Record.get_by_id(created.id).amount == minor  # integer cents in the database


@DB_SETTINGS
@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2))
def test_decimal_inputs_round_trip(admin, value):
    created = admin.records.create(_valid(amount=value), today=TODAY)
    assert admin.records.get(created.id).amount == value


invalid_amounts = st.one_of(
    st.decimals(max_value=Decimal("0"), places=2, allow_nan=False).map(str),
    st.sampled_from(["NaN", "nan", "-nan", "inf", "-inf", "Infinity", "sNaN"]),
    st.integers(min_value=1, max_value=10**6).map(lambda n: f"{n}.{n % 9 + 1}01"),  # 3+ dp
    st.integers(min_value=MAX_MINOR + 1, max_value=10**15).map(lambda n: str(from_minor(n))),
    st.text(alphabet="abcxyz$€ _-+e", min_size=1, max_size=8),
    st.floats(allow_nan=True),
)


@DB_SETTINGS
@given(invalid_amounts)
def test_invalid_amounts_rejected_and_nothing_written(admin, bad):
    fields = _rejected(admin, _valid(amount=bad), "amount")
    assert fields["amount"]  # a specific message, e.g. 'must be greater than zero'


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("-5", "must be positive"),
        ("0", "greater than zero"),
        ("NaN", "not a number"),
        ("inf", "not a number"),
        ("1.234", "more than 2 decimal places"),
        ("100000000", "at most 99,999,999.99"),
        ("twelve", "not a number"),
        ("", "is required"),
        (None, "is required"),
        (12.5, "not a float"),
    ],
)
def test_amount_messages(admin, bad, message):
    assert message in _rejected(admin, _valid(amount=bad), "amount")["amount"]


# ---- dates --------------------------------------------------------------------------
@given(st.dates(min_value=MIN_DATE, max_value=MAX_DATE))
def test_iso_dates_round_trip(day):
    assert parse_date(day.isoformat(), TODAY) == day
    assert parse_date(f"  {day.isoformat()} ", TODAY) == day
    assert parse_date(day, TODAY) == day


@given(st.integers(min_value=0, max_value=40000))
def test_relative_days(n):
    expected = TODAY - timedelta(days=n)
    if expected >= MIN_DATE:
        assert parse_date(f"-{n}", TODAY) == expected
    else:
        with pytest.raises(DateError, match="between"):
            parse_date(f"-{n}", TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("TODAY", TODAY),
        (" Today ", TODAY),
        ("yesterday", date(2026, 11, 24)),
        ("-3", date(2026, 11, 22)),
        ("-0", TODAY),
        ("+2", date(2026, 11, 27)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_date_words(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "not a date"),
        ("2025-02-29", "not a date"),
        ("2026-13-01", "not a date"),
        ("25/11/2026", "not a date"),
        ("next week", "not a date"),
        ("-1000000", "not a date"),
        ("-٣", "not a date"),  # ASCII digits only, as for amounts
        ("1899-12-31", "between"),
        ("3000-01-01", "between"),
        ("", "is required"),
    ],
)
def test_bad_dates(text, message):
    with pytest.raises(DateError, match=message):
        parse_date(text, TODAY)


def test_datetime_input_is_stored_as_its_date(admin):
    created = admin.records.create(_valid(date=datetime(2026, 11, 20, 23, 59)), today=TODAY)
    assert created.date == date(2026, 11, 20) and type(created.date) is date
    assert (
        admin.records.list(
            RecordFilter(date_from=date(2026, 11, 20), date_to=date(2026, 11, 20))
        ).total
        == 1
    )


def test_relative_date_uses_the_given_today(admin):
    created = admin.records.create(_valid(date="yesterday"), today=TODAY)
    assert created.date == date(2026, 11, 24)
    assert "not a date" in _rejected(admin, _valid(date="31/12/2026"), "date")["date"]


# ---- notes --------------------------------------------------------------------------
# Any text a note may hold: everything but controls other than tab/LF (CR only before
# LF, see test_tricky_notes_stored_exactly) and bidi overrides/isolates.
notes_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(0x20) if c not in (9, 10)]
        + [chr(c) for c in range(0x7F, 0xA0)]
        + [*"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"],
    ),
    max_size=60,
)


@DB_SETTINGS
@given(notes_text)
def test_unicode_notes_are_kept_literally(admin, notes):
    created = admin.records.create(_valid(notes=notes), today=TODAY)
    stored = admin.records.get(created.id).notes
    assert stored == notes.strip()  # only surrounding whitespace is trimmed


@pytest.mark.parametrize(
    "notes",
    [
        "[bold red]not markup[/]",
        "line one\r\nline two (CR LF kept)",
        "Ünïcödé — 日本語 — 🙂🙃 — עברית",
        "line one\nline two\ttab",
        "'; DROP TABLE record; --",
        "100% of _the_ budget",
    ],
)
def test_tricky_notes_stored_exactly(admin, notes):
    created = admin.records.create(_valid(notes=notes), today=TODAY)
    assert admin.records.get(created.id).notes == notes


def test_notes_length_limit(admin):
    ok = admin.records.create(_valid(notes="é" * MAX_NOTES), today=TODAY)
    assert len(admin.records.get(ok.id).notes) == MAX_NOTES
    fields = _rejected(admin, _valid(notes="x" * (MAX_NOTES + 1)), "notes")
    assert "at most 1000 characters" in fields["notes"]


@pytest.mark.parametrize(
    ("notes", "message"),
    [("a\x00b", "NUL"), ("bad byte \udcff here", "not valid text")],
)
def test_unstorable_notes_rejected(admin, notes, message):
    assert message in _rejected(admin, _valid(notes=notes), "notes")["notes"]


# ---- kind and category --------------------------------------------------------------
def test_kind_is_normalised_and_checked(admin):
    assert admin.records.create(_valid(kind=" EXPENSE "), today=TODAY).kind == "expense"
    assert "income or expense" in _rejected(admin, _valid(kind="transfer"), "kind")["kind"]
    assert "income or expense" in _rejected(admin, _valid(kind=None), "kind")["kind"]


def test_category_by_name_or_id(admin):
    food = Category.get(Category.name_lower == "food")
    assert admin.records.create(_valid(category="FOOD"), today=TODAY).category_id == food.id
    assert admin.records.create(_valid(category=food.id), today=TODAY).category == "food"
    assert admin.records.create(_valid(category=str(food.id)), today=TODAY).category == "food"


@pytest.mark.parametrize(
    ("category", "kind", "message"),
    [
        ("salary", "expense", "'salary' is for income records, not expense"),
        ("rent", "income", "'rent' is for expense records, not income"),
        ("nope", "expense", "unknown category 'nope'"),
        (999999, "expense", "unknown category '999999'"),
        ("", "expense", "is required"),
    ],
)
def test_category_problems(admin, category, kind, message):
    fields = _rejected(admin, _valid(category=category, kind=kind), "category")
    assert fields["category"] == message


def test_archived_category_refused_for_new_records(admin):
    cat = admin.categories.create("Travel", "expense")
    admin.categories.archive(cat.id)
    assert (
        "'Travel' is archived"
        in _rejected(admin, _valid(category="travel"), "category")["category"]
    )


def test_both_kind_category_takes_either_kind(admin):
    for kind in ("income", "expense"):
        assert admin.records.create(_valid(category="other", kind=kind), today=TODAY).kind == kind


# ---- many problems at once ----------------------------------------------------------
def test_every_bad_field_is_reported_together(admin):
    fields = _rejected(
        admin,
        {
            "kind": "loan",
            "amount": "-3",
            "category": "nope",
            "date": "someday",
            "notes": "x" * 1001,
            "colour": "red",
        },
        "kind",
        "amount",
        "category",
        "date",
        "notes",
        "colour",
    )
    assert fields["colour"] == "is not a record field"
    assert fields["amount"].startswith("must be positive")


def test_missing_fields_reported_together(admin):
    fields = _rejected(admin, {}, "kind", "amount", "category", "date")
    assert all(msg == "is required" for key, msg in fields.items() if key != "kind")


def test_failed_update_changes_nothing(admin):
    rec = admin.records.create(_valid(notes="original"), today=TODAY)
    before = table_counts()
    with pytest.raises(ValidationError) as err:
        admin.records.update(rec.id, rec.version, {"amount": "0", "kind": "income"}, today=TODAY)
    # kind income no longer fits 'food' (expense only): both problems are reported.
    assert set(err.value.fields) == {"amount", "category"}
    assert table_counts() == before
    again = admin.records.get(rec.id)
    assert (again.amount, again.kind, again.version, again.notes) == (
        Decimal("10.00"),
        "expense",
        1,
        "original",
    )


def test_partial_update_keeps_other_fields(admin):
    rec = admin.records.create(_valid(notes="keep me"), today=TODAY)
    changed = admin.records.update(rec.id, rec.version, {"amount": "11.11"}, today=TODAY)
    assert (changed.amount, changed.notes, changed.category, changed.date) == (
        Decimal("11.11"),
        "keep me",
        "food",
        date(2026, 11, 20),
    )
    assert changed.version == 2


def test_noop_update_does_not_bump_version(admin):
    rec = admin.records.create(_valid(), today=TODAY)
    same = admin.records.update(rec.id, rec.version, {"amount": "10"}, today=TODAY)
    assert same.version == rec.version


def test_validate_record_is_pure(db):
    """Validation alone never writes (the form calls it on every keystroke)."""
    before = table_counts()
    clean = validate_record(_valid(amount="1,234.56", notes="  hi  "), today=TODAY)
    assert (clean.amount_minor, clean.notes, clean.date) == (123456, "hi", date(2026, 11, 20))
    assert table_counts() == before


def test_login_with_undecodable_input_is_a_clean_failure(admin):
    """Lone surrogates (undecodable terminal bytes) are refused, never a traceback."""
    from finance_tui.errors import AuthError

    for identifier, password in [("ro\udcffot", PASSWORD), ("root", "pass\udcffword")]:
        with pytest.raises(AuthError):
            SessionController.login(identifier, password)
    with pytest.raises(ValidationError) as err:
        admin.users.create("zed", "zed\udcff@example.com", "pass\udcffword1")
    assert set(err.value.fields) == {"email", "password"}
    with pytest.raises(ValidationError):
        admin.categories.create("caf\udce9")
