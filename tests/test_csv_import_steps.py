"""The import's four steps one at a time (read, validate, de-duplicate, write), and the
one record parser they share with the record form: same rules, same messages."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance_tui.errors import ValidationError
from finance_tui.models import Category, Record
from finance_tui.money import MAX_MINOR, AmountError, from_minor, parse_amount, to_minor
from finance_tui.services import bulk, imports
from finance_tui.services.csv_columns import resolve_columns
from finance_tui.services.csv_import import ImportCategories, unprotect
from finance_tui.services.csv_steps import (
    BatchWriter,
    Deduplicator,
    InvalidRow,
    Occurrences,
    RowValidator,
    SourceRow,
    ValidRow,
    read_rows,
)
from finance_tui.services.validation import (
    DatabaseCategories,
    ParsedRecord,
    ParseRules,
    RecordParser,
    validate_record,
)

TODAY = date(2026, 11, 25)


class Table:
    """Categories in memory: the validate step needs no database."""

    def __init__(self, *cats: Category):
        self.cats = cats
        self.asked: list[str] = []

    def by_id(self, category_id: int) -> Category | None:
        return next((c for c in self.cats if c.id == category_id), None)

    def by_name(self, name_lower: str) -> Category | None:
        return next((c for c in self.cats if c.name_lower == name_lower), None)

    def unknown(self, name: str) -> Category | None:
        self.asked.append(name)
        return None


FOOD = Category(id=1, name="Food", name_lower="food", kind="expense", is_archived=False)
PAY = Category(id=2, name="Pay", name_lower="pay", kind="income", is_archived=False)
OLD = Category(id=3, name="Old", name_lower="old", kind="both", is_archived=True)


def validator(header: str, **rules) -> RowValidator:
    columns = resolve_columns(header.split(","))
    rules.setdefault("signed_amount", columns.signed_amount)
    rules.setdefault("suggest_date_format", True)
    parser = RecordParser(Table(FOOD, PAY, OLD), ParseRules(today=TODAY, **rules))
    return RowValidator(parser, columns)


# ---- 1. read ---------------------------------------------------------------------------
def test_read_numbers_lines_and_skips_blank_rows():
    text = 'date,amount\n2026-01-01,1\n\n  \n2026-01-02,"two\nlines"\n2026-01-03,3\n'
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    rows = list(read_rows(reader, header_line=1))
    assert rows == [
        SourceRow(2, ["2026-01-01", "1"]),
        SourceRow(5, ["2026-01-02", "two\nlines"]),
        SourceRow(7, ["2026-01-03", "3"]),
    ]


def test_read_reports_an_unreadable_row_and_goes_on():
    reader = csv.reader(io.StringIO('a,b\n1,"x"y\n2,z\n', newline=""), strict=True)
    next(reader)
    first, second = read_rows(reader, header_line=1)
    assert first.line == 2 and first.cells == []
    assert first.error.startswith("cannot be read as CSV (")
    assert second == SourceRow(3, ["2", "z"])


# ---- 2. validate -----------------------------------------------------------------------
def test_validate_a_good_row():
    row = validator("date,kind,amount,category,notes").validate(
        ["2026-01-05", "expense", "12.5", " FOOD ", "  lunch  "]
    )
    assert row == ValidRow(ParsedRecord("expense", 1250, FOOD, date(2026, 1, 5), "lunch"))


def test_validate_names_every_bad_field():
    with pytest.raises(InvalidRow) as bad:
        validator("date,kind,amount,category,notes").validate(
            ["someday", "loan", "-3", "nope", "x" * 1001]
        )
    assert bad.value.problems == {
        "kind": "must be income or expense",
        "amount": "must be positive (the kind says income or expense)",
        "category": "unknown category 'nope'",
        "date": "is not a date (expected YYYY-MM-DD; for other layouts give a date "
        "format such as %d/%m/%Y)",
        "notes": "must be at most 1000 characters (got 1001)",
    }


def test_validate_short_row_means_empty_cells():
    with pytest.raises(InvalidRow) as bad:
        validator("date,kind,amount,category").validate(["2026-01-05", "income"])
    assert bad.value.problems == {"amount": "is required", "category": "is required"}


def test_validate_signed_amount_gives_the_kind():
    check = validator("date,amount,category")
    assert check.validate(["2026-01-05", "-4.20", "food"]).record.kind == "expense"
    assert check.validate(["2026-01-05", "4.20", "pay"]).record.kind == "income"
    with pytest.raises(InvalidRow) as bad:
        check.validate(["2026-01-05", "4.20", "food"])
    assert bad.value.problems == {"category": "'Food' is for expense records, not income"}


def test_validate_export_columns():
    check = validator("id,date,kind,amount,category,created_at,deleted")
    rid = "0190e7a8-5f3c-7cc2-8d1e-0123456789ab"
    row = check.validate([rid, "2026-01-05", "income", "1", "pay", "2026-01-05 10:00:00+01:00", ""])
    assert row.record_id == UUID(rid)
    assert row.created_at == datetime(2026, 1, 5, 9, 0)
    assert check.validate(["", "2026-01-05", "income", "1", "pay", "", "yes"]) is None
    with pytest.raises(InvalidRow) as bad:
        check.validate(["nope", "2026-01-05", "income", "1", "pay", "noon", "maybe"])
    assert bad.value.problems == {
        "deleted": "must be true or false",
        "created_at": "is not a date and time (YYYY-MM-DD HH:MM:SS)",
        "id": "is not a record id (UUID)",
    }


def test_validate_removes_the_export_protection_unless_raw():
    header = "date,kind,amount,category,notes"
    cells = ["2026-01-05", "expense", "1", "food", "'=SUM(A1)"]
    assert validator(header, unprotect=unprotect).validate(cells).record.notes == "=SUM(A1)"
    assert validator(header).validate(cells).record.notes == "'=SUM(A1)"


def test_validate_date_format():
    check = validator("date,kind,amount,category", date_format="%d.%m.%Y")
    assert check.validate(["05.01.2026", "income", "1", "pay"]).record.date == date(2026, 1, 5)
    with pytest.raises(InvalidRow) as bad:
        check.validate(["2026-01-05", "income", "1", "pay"])
    assert bad.value.problems == {"date": "does not match the date format '%d.%m.%Y'"}


def test_unknown_category_asks_the_lookup_once_per_name_and_kind():
    table = Table(FOOD)
    parser = RecordParser(table, ParseRules(today=TODAY))
    for _ in range(3):
        with pytest.raises(ValueError, match="unknown category 'Travel'"):
            parser.category("Travel", "expense")
    assert table.asked == ["Travel"]  # cached: no lookup per row


# ---- the one parser: form and import agree -----------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "transfer", "must be income or expense"),
        ("amount", "1.234", "has more than 2 decimal places"),
        ("amount", "0", "must be greater than zero"),
        ("amount", "12abc", "is not a number (use e.g. 1234.50 or 1,234.50)"),
        ("amount", "100000000", "must be at most 99,999,999.99"),
        ("category", "salary", "'salary' is for income records, not expense"),
        ("category", "nosuch", "unknown category 'nosuch'"),
        ("category", "", "is required"),
        ("date", "2026-02-30", "is not a date (use YYYY-MM-DD, today, yesterday or -3)"),
        ("date", "1899-12-31", "must be between 1900-01-01 and 2999-12-31"),
        ("notes", "bell\x07", "contains a control character (U+0007) at position 5"),
    ],
)
def test_form_and_import_give_the_same_message(db, field, value, message):
    values = {"kind": "expense", "amount": "1", "category": "food", "date": "2026-01-05"}
    values[field] = value
    with pytest.raises(ValidationError) as form:
        validate_record(values, today=TODAY)
    categories = ImportCategories(create=False, created_names=[])
    categories.load()
    parser = RecordParser(categories, ParseRules(today=TODAY, encoding="utf-8"))
    problems: dict[str, str] = {}
    assert parser.record(values, problems) is None
    assert form.value.fields == problems == {field: message}


def test_database_lookup_finds_categories_like_the_import(db):
    parser = RecordParser(DatabaseCategories(), ParseRules(today=TODAY))
    food = Category.get(Category.name_lower == "food")
    assert parser.category(str(food.id), "expense") == food
    assert parser.category(food.id, "expense") == food
    assert parser.category("  FOOD ", "expense") == food


@given(st.integers(min_value=1, max_value=MAX_MINOR), st.booleans(), st.sampled_from(["", "-"]))
def test_fast_amount_path_equals_the_full_rule(minor, short, sign):
    text = str(from_minor(minor))
    if short and text.endswith("0"):
        text = text[:-1]
    text = sign + text
    parser = RecordParser(Table(), ParseRules(today=TODAY))
    if sign:
        with pytest.raises(AmountError, match="must be positive"):
            parser.amount(text)
        with pytest.raises(AmountError, match="must be positive"):
            parse_amount(text)
    else:
        assert parser.amount(text) == (to_minor(parse_amount(text)), None) == (minor, None)
    signed = RecordParser(Table(), ParseRules(today=TODAY, signed_amount=True))
    assert signed.amount(text) == (minor, "expense" if sign else "income")


def test_amount_refuses_floats_and_takes_decimals():
    parser = RecordParser(Table(), ParseRules(today=TODAY))
    with pytest.raises(AmountError, match="not a float"):
        parser.amount(1.5)
    assert parser.amount(Decimal("1.50")) == (150, None)
    with pytest.raises(AmountError, match="is not a number"):
        RecordParser(Table(), ParseRules(today=TODAY, signed_amount=True)).amount("--5")


# ---- 3. de-duplicate -------------------------------------------------------------------
def test_occurrences_number_repeats():
    seen = Occurrences()
    a, b = bytes(range(16)), bytes(range(1, 17))
    assert [seen.earlier(a), seen.earlier(b), seen.earlier(a), seen.earlier(a)] == [0, 0, 1, 2]


def test_occurrences_false_positives_are_deterministic():
    digests = [i.to_bytes(16, "little") for i in range(1, 40)]
    runs = []
    for _ in range(2):
        tiny = Occurrences(bits=8)  # full after a few digests: later ones look repeated
        runs.append([tiny.earlier(d) for d in digests])
    assert runs[0] == runs[1]
    assert runs[0][0] == 0 and max(runs[0]) >= 1
    with pytest.raises(ValueError, match="power of two"):
        Occurrences(bits=12)


def _valid(notes: str = "lunch", record_id: UUID | None = None) -> ValidRow:
    record = ParsedRecord("expense", 500, FOOD, date(2026, 1, 5), notes)
    return ValidRow(record, record_id)


def test_fingerprint_numbers_repeated_content():
    dedupe = Deduplicator(check_fingerprints=False, check_ids=False)
    first, rid1 = dedupe.fingerprint(_valid())
    second, _ = dedupe.fingerprint(_valid())
    other, _ = dedupe.fingerprint(_valid(notes="dinner"))
    assert first.fingerprint.startswith("2026-01-05") and rid1 is None
    assert second.fingerprint == first.fingerprint + "#1"
    assert other.fingerprint != first.fingerprint
    assert (first.kind, first.amount_minor, first.category_id, first.notes) == (
        "expense",
        500,
        1,
        "lunch",
    )


def test_fingerprint_of_an_exported_row_is_its_id():
    rid = UUID("0190e7a8-5f3c-7cc2-8d1e-0123456789ab")
    dedupe = Deduplicator(check_fingerprints=False, check_ids=False)
    new, check = dedupe.fingerprint(_valid(record_id=rid))
    again, check_again = dedupe.fingerprint(_valid(record_id=rid))
    assert (new.fingerprint, check) == ("id:" + rid.hex, rid)
    assert (again.fingerprint, check_again) == ("id:" + rid.hex + "#1", None)


def test_fresh_drops_what_the_database_has(admin):
    food = Category.get(Category.name_lower == "food")
    dedupe = Deduplicator(check_fingerprints=True, check_ids=True)
    stored = ParsedRecord("expense", 500, food, date(2026, 1, 5), "lunch")
    kept = ParsedRecord("expense", 700, food, date(2026, 1, 6), "dinner")
    old, _ = dedupe.fingerprint(ValidRow(stored))
    existing = admin.records.create(
        {"kind": "expense", "amount": "1", "category": "food", "date": "2026-01-01"}
    )
    with_id = dedupe.fingerprint(ValidRow(kept, UUID(str(existing.id))))
    new = dedupe.fingerprint(ValidRow(kept))
    Record.update(import_fingerprint=old.fingerprint).where(Record.id == existing.id).execute()
    fresh = Deduplicator(check_fingerprints=True, check_ids=True).fresh([(old, None), with_id, new])
    assert fresh == [new[0]]


# ---- 4. write --------------------------------------------------------------------------
def _new(day: int) -> bulk.NewRecord:
    food = Category.get(Category.name_lower == "food")
    return bulk.NewRecord("expense", 100 * day, food.id, date(2026, 1, day), f"n{day}")


def test_writer_without_a_batch_only_counts(admin):
    before = Record.select().count()
    writer = BatchWriter(None, admin.principal.user_id)
    assert writer.write((_new(d) for d in range(1, 6)), lambda: False) == 5
    assert Record.select().count() == before and writer.deltas == {}


def test_writer_writes_tagged_rows_and_their_deltas(admin):
    batch = imports.start(admin.principal, "test.csv")
    writer = BatchWriter(batch, admin.principal.user_id, first_batch=2)
    assert writer.write((_new(d) for d in range(1, 6)), lambda: False) == 5
    tagged = Record.select().where(Record.import_batch == batch)
    assert sorted(r.amount for r in tagged) == [100, 200, 300, 400, 500]
    food = Category.get(Category.name_lower == "food")
    assert writer.deltas == {(date(2026, 1, 1), food.id, "expense"): [5, 1500]}
    imports.discard(batch)


def test_writer_stops_writing_once_stopped(admin):
    batch = imports.start(admin.principal, "test.csv")
    writer = BatchWriter(batch, admin.principal.user_id, first_batch=2)
    calls = iter([False, True, True])
    assert writer.write((_new(d) for d in range(1, 6)), lambda: next(calls)) == 5
    assert Record.select().where(Record.import_batch == batch).count() == 2
    imports.discard(batch)
