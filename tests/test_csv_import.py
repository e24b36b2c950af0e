"""CSV import through ``session.csv``: columns, encodings, delimiters, every validation
error with its line number, all-or-nothing, skip-invalid, categories, dedupe, cancel."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from finance_tui.domain.csv_options import (
    CsvFormatError,
    ImportCancelled,
    ImportOptions,
    ImportRejected,
)
from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import PermissionDenied
from finance_tui.models import AuditEvent, Category, Record
from finance_tui.services import summaries
from finance_tui.services.csv_import import CHUNK

TODAY = date(2026, 11, 25)
HEADER = "date,kind,amount,category,notes\n"


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def records() -> list[tuple]:
    """(date, kind, amount cents, category name, notes) of every record, sorted."""
    rows = (
        Record.select(Record.date, Record.kind, Record.amount, Category.name, Record.notes)
        .join(Category)
        .tuples()
    )
    return sorted(
        (d if isinstance(d, date) else date.fromisoformat(str(d)), k, a, c, n)
        for d, k, a, c, n in rows
    )


def rejected(session, path: Path, **options) -> ImportRejected:
    before = records()
    with pytest.raises(ImportRejected) as err:
        session.csv.import_file(path, ImportOptions(today=TODAY, **options))
    assert records() == before, "a rejected import must write nothing"
    return err.value


# ---- happy paths ----------------------------------------------------------------------
def test_import_writes_records_summaries_and_one_audit_event(admin, tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "2026-01-05,expense,12.50,food,lunch\n"
        + '2026-01-06,income,"1,250.00",salary,pay day\n'
        + "2026-02-01,Expense , 7 ,Rent,\n",
    )
    report = admin.csv.import_file(path)
    assert (report.rows, report.imported, report.already_imported, report.invalid) == (3, 3, 0, 0)
    assert report.committed and report.encoding == "utf-8" and report.delimiter == ","
    assert records() == [
        (date(2026, 1, 5), "expense", 1250, "food", "lunch"),
        (date(2026, 1, 6), "income", 125000, "salary", "pay day"),
        (date(2026, 2, 1), "expense", 700, "rent", ""),
    ]
    assert summaries.verify() == []
    assert Record.select().where(Record.import_fingerprint.is_null()).count() == 0
    page = admin.records.list(RecordFilter())
    assert {r.created_by for r in page.rows} == {"root"}
    events = list(AuditEvent.select().where(AuditEvent.action == "csv_import"))
    assert len(events) == 1 and events[0].actor_name == "root"
    assert '"imported": 3' in events[0].after and str(path) in events[0].after
    assert AuditEvent.select().where(AuditEvent.action == "record_create").count() == 0


def test_signed_amount_without_kind_column(admin, tmp_path):
    path = write(
        tmp_path,
        "date,amount,category,notes\n2026-03-01,-19.99,food,shop\n2026-03-02,+2500,salary,pay\n"
        "2026-03-03,40.1,investment,dividend\n",
    )
    admin.csv.import_file(path)
    assert records() == [
        (date(2026, 3, 1), "expense", 1999, "food", "shop"),
        (date(2026, 3, 2), "income", 250000, "salary", "pay"),
        (date(2026, 3, 3), "income", 4010, "investment", "dividend"),
    ]


def test_original_system_columns_and_deleted_rows(admin, tmp_path):
    path = write(
        tmp_path,
        "uuid,amount,type_of_record,category,date,notes,is_deleted,created_by\n"
        "0f8fad5b-d9cb-469f-a165-70867728950e,10.00,expense,food,2025-05-01,kept,False,7\n"
        "7c9e6679-7425-40de-944b-e07fc1f90ae7,20.00,income,salary,2025-05-02,gone,True,7\n",
    )
    report = admin.csv.import_file(path)
    assert (report.imported, report.skipped_deleted) == (1, 1)
    assert records() == [(date(2025, 5, 1), "expense", 1000, "food", "kept")]
    fingerprint = Record.get().import_fingerprint
    assert fingerprint == "id:0f8fad5b" + "d9cb469fa16570867728950e"


def test_column_map_option(admin, tmp_path):
    path = write(
        tmp_path,
        "Buchungstag;Betrag;Kategorie;Verwendungszweck;Saldo\n05.01.2026;-3,50;food;Bäckerei;100\n",
    )
    with pytest.raises(CsvFormatError, match="missing columns date, amount, category"):
        admin.csv.import_file(path)
    mapping = {"date": "buchungstag", "amount": "Betrag", "category": "Kategorie"}
    mapping["notes"] = "Verwendungszweck"
    err = rejected(admin, path, mapping=mapping, date_format="%d.%m.%Y")
    assert [(e.line, e.field) for e in err.report.errors] == [(2, "amount")]
    path = write(
        tmp_path,
        "Buchungstag;Betrag;Kategorie;Verwendungszweck;Saldo\n05.01.2026;-3.50;food;Bäckerei;1\n",
    )
    report = admin.csv.import_file(path, ImportOptions(mapping=mapping, date_format="%d.%m.%Y"))
    assert report.ignored_columns == ["Saldo"] and report.delimiter == ";"
    assert records() == [(date(2026, 1, 5), "expense", 350, "food", "Bäckerei")]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1252", b"")],
)
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_encodings_and_delimiters_detected(admin, tmp_path, encoding, bom, delimiter):
    rows = [["date", "kind", "amount", "category", "notes"]]
    rows.append(["2026-04-01", "expense", "5.00", "food", "café, crème; «x»|y"])
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    data = bom + buffer.getvalue().encode(encoding)
    given = ImportOptions(encoding="cp1252") if encoding == "cp1252" else ImportOptions()
    report = admin.csv.import_file(write(tmp_path, data), given)
    assert report.imported == 1 and report.delimiter == delimiter
    assert records()[0][4] == "café, crème; «x»|y"


def test_given_delimiter_and_bad_options(admin, tmp_path):
    path = write(tmp_path, "date:kind:amount:category\n2026-01-01:income:1:salary\n")
    assert admin.csv.import_file(path, ImportOptions(delimiter=":")).imported == 1
    with pytest.raises(CsvFormatError, match="one character"):
        admin.csv.import_file(path, ImportOptions(delimiter="::"))
    with pytest.raises(CsvFormatError, match="unknown encoding"):
        admin.csv.import_file(path, ImportOptions(encoding="klingon"))
    with pytest.raises(CsvFormatError, match="has no day"):
        admin.csv.import_file(path, ImportOptions(date_format="%Y-%m"))


def test_undecodable_bytes_reported_by_line(admin, tmp_path):
    data = (
        HEADER + "2026-01-01,expense,1,food,ok\n"
    ).encode() + b"2026-01-02,expense,1,food,caf\xe9\n"
    err = rejected(admin, write(tmp_path, data))
    assert [(e.line, e.field) for e in err.report.errors] == [(3, "notes")]
    assert "encoding" in err.report.errors[0].message
    report = admin.csv.import_file(write(tmp_path, data), ImportOptions(encoding="latin-1"))
    assert report.imported == 2 and records()[1][4] == "café"


# ---- validation: every error path with its line number --------------------------------
BAD_ROWS = [
    ("2026-01-01,transfer,1,food,x", "kind", "income or expense"),
    ("2026-01-01,,1,food,x", "kind", "income or expense"),
    ("2026-01-01,expense,-1,food,x", "amount", "must be positive"),
    ("2026-01-01,expense,0,food,x", "amount", "greater than zero"),
    ("2026-01-01,expense,0.00,food,x", "amount", "greater than zero"),
    ("2026-01-01,expense,1.234,food,x", "amount", "more than 2 decimal places"),
    ("2026-01-01,expense,100000000,food,x", "amount", "at most"),
    ("2026-01-01,expense,abc,food,x", "amount", "not a number"),
    ("2026-01-01,expense,NaN,food,x", "amount", "not a number"),
    ("2026-01-01,expense,,food,x", "amount", "is required"),
    ("2026-01-01,expense,1,nosuch,x", "category", "unknown category 'nosuch'"),
    ("2026-01-01,expense,1,,x", "category", "is required"),
    ("2026-01-01,expense,1,salary,x", "category", "is for income records, not expense"),
    ("2026-01-01,expense,1,archived,x", "category", "is archived"),
    ("2026-02-30,expense,1,food,x", "date", "is not a date"),
    ("1800-01-01,expense,1,food,x", "date", "must be between"),
    (",expense,1,food,x", "date", "is required"),
    ("2026-01-01,expense,1,food," + "n" * 1001, "notes", "at most 1000 characters"),
    ("2026-01-01,expense,1,food,a\x00b", "notes", "NUL"),
    ("2026-01-01,expense,1," + "9" * 5000 + ",x", "category", "unknown category '999"),
    ("2026-01-01,expense,1,  FOOD ,x", None, None),  # case and spaces: fine
    ("2026-01-01,expense,1,food", None, None),  # no notes cell: fine
]


@pytest.fixture
def archived(admin):
    cat = admin.categories.create("archived", "both")
    admin.categories.archive(cat.id)


@pytest.mark.parametrize(("row", "field", "message"), BAD_ROWS)
def test_each_bad_row_is_reported_with_line_field_and_reason(
    admin, archived, tmp_path, row, field, message
):
    text = HEADER + "2026-01-01,expense,1.00,food,fine\n\n" + row + "\n"
    if field is None:
        assert admin.csv.import_file(write(tmp_path, text)).imported == 2
        return
    err = rejected(admin, write(tmp_path, text))
    assert [(e.line, e.field) for e in err.report.errors] == [(4, field)]
    assert message in err.report.errors[0].message
    assert err.report.invalid == 1 and err.report.rows == 2
    assert f"line 4 {field}" in str(err)
    assert AuditEvent.select().where(AuditEvent.action == "csv_import").count() == 0


def test_export_columns_validated_too(admin, tmp_path):
    text = (
        "id,date,kind,amount,category,notes,created_at,deleted\n"
        "not-a-uuid,2026-01-01,expense,1,food,x,2026-01-01 10:00:00,false\n"
        "0f8fad5b-d9cb-469f-a165-70867728950e,2026-01-01,expense,1,food,x,yesterday,no\n"
        "7c9e6679-7425-40de-944b-e07fc1f90ae7,2026-01-01,expense,1,food,x,,maybe\n"
    )
    err = rejected(admin, write(tmp_path, text))
    assert [(e.line, e.field) for e in err.report.errors] == [
        (2, "id"),
        (3, "created_at"),
        (4, "deleted"),
    ]


def test_many_errors_in_one_row_and_lines_after_multiline_cells(admin, tmp_path):
    text = (
        HEADER
        + '2026-01-01,expense,1,food,"two\nlines"\n'
        + "someday,gift,-0,nosuch,x\n"
        + "2026-01-01,expense,1,food,ok\n"
        + "2026-13-01,income,5,salary,\n"
    )
    err = rejected(admin, write(tmp_path, text))
    assert [(e.line, e.field) for e in err.report.errors] == [
        (4, "date"),
        (4, "kind"),
        (4, "amount"),
        (4, "category"),
        (6, "date"),
    ]
    assert err.report.invalid == 2 and err.report.rows == 4
    assert err.report.unknown_categories == ["nosuch"]


def test_error_list_is_capped_with_a_total(admin, tmp_path):
    text = HEADER + "".join(f"2026-01-01,expense,{i}.999,food,x\n" for i in range(1, 251))
    err = rejected(admin, write(tmp_path, text), max_errors=100)
    assert len(err.report.errors) == 100 and err.report.invalid == 250
    assert err.report.errors[-1].line == 101
    assert any("150 more problems" in line for line in err.report.lines())


def test_header_problems(admin, tmp_path):
    cases = [
        ("", "empty"),
        ("\n\n  \n", "empty"),
        ("date,kind,amount\n2026-01-01,income,1\n", "missing column category"),
        ("date,date,kind,amount,category\n", "'date' appears 2 times"),
        ("notes,memo\nx,y\n", "missing columns date, amount, category"),
    ]
    for text, message in cases:
        with pytest.raises(CsvFormatError, match=message):
            admin.csv.import_file(write(tmp_path, text))
    with pytest.raises(CsvFormatError, match="no column 'when'"):
        admin.csv.import_file(write(tmp_path, HEADER), ImportOptions(mapping={"date": "when"}))
    missing = tmp_path / "nope.csv"
    with pytest.raises(Exception, match="no such file"):
        admin.csv.import_file(missing)
    assert records() == []


def test_header_only_file_imports_nothing(admin, tmp_path):
    report = admin.csv.import_file(write(tmp_path, HEADER))
    assert (report.rows, report.imported) == (0, 0) and report.committed


# ---- skip-invalid, categories, dry run ------------------------------------------------
def test_skip_invalid_imports_good_rows_and_writes_rejects(admin, tmp_path):
    text = (
        HEADER
        + "2026-01-01,expense,1,food,good one\n"
        + "2026-01-02,expense,-1,food,bad amount\n"
        + "2026-01-03,income,2,salary,good two\n"
        + "2026-01-04,expense,3,nosuch,bad category\n"
    )
    path = write(tmp_path, text)
    report = admin.csv.import_file(path, ImportOptions(skip_invalid=True))
    assert (report.imported, report.invalid) == (2, 2)
    assert [r[4] for r in records()] == ["good one", "good two"]
    rejects = Path(report.rejects_path)
    assert rejects == tmp_path / "in.csv.rejected.csv"
    rows = list(csv.reader(rejects.open(encoding="utf-8")))
    assert rows[0] == ["date", "kind", "amount", "category", "notes", "line", "error"]
    assert rows[1][:5] == ["2026-01-02", "expense", "-1", "food", "bad amount"]
    assert rows[1][5] == "3" and rows[1][6].startswith("amount: must be positive")
    assert rows[2][5] == "5" and "unknown category 'nosuch'" in rows[2][6]
    # Fix the rejects file and import it: the extra columns are ignored.
    fixed = rejects.read_text(encoding="utf-8").replace(",-1,", ",1,").replace("nosuch", "rent")
    again = admin.csv.import_file(write(tmp_path, fixed, "fixed.csv"))
    assert again.imported == 2 and set(again.ignored_columns) == {"line", "error"}
    assert summaries.verify() == []


def test_skip_invalid_with_nothing_bad_writes_no_rejects_file(admin, tmp_path):
    path = write(tmp_path, HEADER + "2026-01-01,expense,1,food,x\n")
    report = admin.csv.import_file(
        path, ImportOptions(skip_invalid=True, rejects_path=tmp_path / "r.csv")
    )
    assert report.rejects_path is None and not (tmp_path / "r.csv").exists()


def test_unknown_categories_refused_with_a_list_or_created(admin, tmp_path):
    text = HEADER + "".join(
        f"2026-01-0{i},expense,1,{name},x\n"
        for i, name in enumerate(["Travel", "travel", "Pets", "food"], 1)
    )
    path = write(tmp_path, text)
    err = rejected(admin, path)
    assert err.report.unknown_categories == ["Travel", "Pets"]
    assert Category.select().where(Category.name_lower == "travel").count() == 0
    report = admin.csv.import_file(path, ImportOptions(create_categories=True))
    assert report.created_categories == ["Travel", "Pets"] and report.imported == 4
    travel = Category.get(Category.name_lower == "travel")
    assert (travel.name, travel.kind) == ("Travel", "both")
    created = AuditEvent.select().where(AuditEvent.action == "category_create").count()
    assert created == 2


def test_created_category_names_are_cleaned_once(admin, tmp_path):
    text = HEADER + "2026-01-01,expense,1,Pets  Vet,x\n2026-01-02,expense,2,pets vet,y\n"
    report = admin.csv.import_file(write(tmp_path, text), ImportOptions(create_categories=True))
    assert report.created_categories == ["Pets Vet"] and report.imported == 2
    assert {r[3] for r in records()} == {"Pets Vet"}


def test_created_categories_vanish_when_the_import_fails(admin, tmp_path):
    text = HEADER + "2026-01-01,expense,1,Travel,x\n2026-01-02,expense,-1,food,x\n"
    rejected(admin, write(tmp_path, text), create_categories=True)
    assert Category.select().where(Category.name_lower == "travel").count() == 0


def test_dry_run_checks_everything_and_writes_nothing(admin, tmp_path):
    path = write(tmp_path, HEADER + "2026-01-01,expense,1,Travel,x\n")
    report = admin.csv.import_file(path, ImportOptions(dry_run=True, create_categories=True))
    assert report.imported == 1 and report.dry_run and not report.committed
    assert records() == [] and Category.select().where(Category.name == "Travel").count() == 0


# ---- dedupe -----------------------------------------------------------------------------
def test_reimport_reports_already_imported_and_identical_rows_both_import(admin, tmp_path):
    lunch = "2026-01-05,expense,12.50,food,lunch\n"
    path = write(tmp_path, HEADER + lunch + lunch + "2026-01-06,expense,3,food,tea\n")
    first = admin.csv.import_file(path)
    assert first.imported == 3 and len(records()) == 3
    second = admin.csv.import_file(path)
    assert (second.imported, second.already_imported) == (0, 3)
    assert "3 already imported" in second.summary()
    # The same content written differently is the same row; a third lunch is new.
    grown = write(
        tmp_path,
        "notes,category,amount,kind,date\nlunch,Food,12.5,EXPENSE,2026-01-05\n"
        "lunch,food,12.50,expense,2026-01-05\nlunch,food,12.50,expense,2026-01-05\n",
        "grown.csv",
    )
    third = admin.csv.import_file(grown)
    assert (third.imported, third.already_imported) == (1, 2)
    assert len(records()) == 4 and summaries.verify() == []


def test_dedupe_across_chunks(admin, tmp_path):
    rows = "".join(f"2026-01-01,expense,{1 + i % 7}.00,food,n{i % 13}\n" for i in range(CHUNK + 7))
    path = write(tmp_path, HEADER + rows)
    assert admin.csv.import_file(path).imported == CHUNK + 7
    again = admin.csv.import_file(path)
    assert (again.imported, again.already_imported) == (0, CHUNK + 7)
    prints = [r.import_fingerprint for r in Record.select(Record.import_fingerprint)]
    assert len(set(prints)) == CHUNK + 7


def test_own_export_reimported_into_same_database_is_already_there(admin, tmp_path):
    admin.records.create(
        {"kind": "expense", "amount": "4", "category": "food", "date": "2026-01-01"}
    )
    out = tmp_path / "out.csv"
    admin.csv.export(RecordFilter(), out)
    report = admin.csv.import_file(out)
    assert (report.imported, report.already_imported) == (0, 1)


# ---- permissions, progress, cancel --------------------------------------------------
def test_only_admins_import(sessions, tmp_path):
    path = write(tmp_path, HEADER + "2026-01-01,expense,1,food,x\n")
    for role in ("viewer", "analyst"):
        with pytest.raises(PermissionDenied):
            sessions[role].csv.import_file(path)
    assert records() == []


def test_progress_reports_rows_and_an_estimate(admin, tmp_path):
    path = write(tmp_path, HEADER + "2026-01-01,expense,1,food,x\n" * (3 * CHUNK))
    seen: list[tuple[int, int | None]] = []
    admin.csv.import_file(path, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3 * CHUNK, 3 * CHUNK)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[0] >= CHUNK
    assert all(total is not None and total >= d for d, total in seen)


@pytest.mark.parametrize("how", ["event", "callable"])
def test_cancel_writes_nothing(admin, tmp_path, how):
    text = (
        HEADER + "2026-01-01,expense,1,Travel,x\n" + "2026-01-01,expense,1,food,x\n" * (3 * CHUNK)
    )
    path = write(tmp_path, text)
    event = threading.Event()
    cancel = event if how == "event" else event.is_set
    with pytest.raises(ImportCancelled):
        admin.csv.import_file(
            path,
            ImportOptions(create_categories=True, skip_invalid=True),
            progress=lambda done, total: event.set(),
            cancel=cancel,
        )
    assert records() == [] and summaries.verify() == []
    assert Category.select().where(Category.name == "Travel").count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "csv_import").count() == 0
    assert not list(tmp_path.glob("*rejected*")) and not list(tmp_path.glob(".*tmp"))


def test_created_at_from_export_is_kept(admin, tmp_path):
    text = "date,kind,amount,category,created_at\n2026-01-01,income,1,salary,2026-01-02 03:04:05\n"
    admin.csv.import_file(write(tmp_path, text))
    assert Record.get().created_at == datetime(2026, 1, 2, 3, 4, 5)
    assert admin.records.list(RecordFilter()).rows[0].amount == Decimal("1.00")


def test_stream_source(admin):
    data = io.BytesIO((HEADER + "2026-01-01,expense,1,food,x\n").encode())
    report = admin.csv.import_file(data, name="upload.csv")
    assert report.imported == 1 and report.source == "upload.csv"
