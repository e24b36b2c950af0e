"""CSV export through ``session.csv``: exactly the filtered records (no paging), plain
amounts, literal text, deleted records only on request, cancel, and the round trip
export → import into an empty database."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import PASSWORD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui.domain.csv_options import COLUMNS, ExportCancelled, ImportOptions
from finance_tui.domain.filters import RecordFilter
from finance_tui.domain.values import text_problem
from finance_tui.errors import FinanceError, PermissionDenied
from finance_tui.models import AuditEvent, Record
from finance_tui.services import summaries
from finance_tui.services.users import bootstrap_admin
from finance_tui.session import SessionController
from finance_tui.startup import connect

NOTES = [
    "plain",
    'quote " and, comma',
    "two\nlines",
    "carriage\rreturn",
    "crlf\r\nend",
    "tab\there; semi",
    "  =SUM(A1) looks like a formula",
    "ünïcödé ✓ 🍕",
    "[bold]not markup[/]",
    "",
]


def store_notes_below_validation(record_id, notes: str) -> None:
    """Notes as a row written before today's rules holds them (a lone CR, say): export
    must still write such legacy text correctly."""
    Record.update(notes=notes).where(Record.id == record_id).execute()


def seed(session: SessionController, n: int = 40, *, with_legacy: bool = True) -> None:
    """``n`` records with the NOTES in turn; ``with_legacy=False`` leaves out the notes
    today's rules refuse (an import would refuse them too)."""
    for i in range(n):
        notes = NOTES[i % len(NOTES)]
        legacy = text_problem(notes, multiline=True) is not None
        if legacy and not with_legacy:
            notes, legacy = "", False
        created = session.records.create(
            {
                "kind": "expense" if i % 3 else "income",
                "amount": f"{(i * 7919) % 100000 + 1}.{i % 100:02d}",
                "category": ("food", "rent", "other")[i % 3] if i % 3 else "salary",
                "date": (date(2025, 1, 1) + timedelta(days=i * 5)).isoformat(),
                "notes": "" if legacy else notes,
            }
        )
        if legacy:
            store_notes_below_validation(created.id, notes)


def export_rows(session, flt: RecordFilter) -> list[dict]:
    out = io.StringIO()
    session.csv.export(flt, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def spreadsheet_safe(text: str) -> str:
    """What export writes for a text: a ``'`` first when a spreadsheet would run it."""
    return "'" + text if text[:1] and text[0] in "=+-@\t\r'" else text


def all_pages(session, flt: RecordFilter) -> list:
    rows, offset = [], 0
    while True:
        page = session.records.list(flt.page(offset, 7))
        rows += page.rows
        offset += 7
        if offset >= page.total:
            return rows


@pytest.mark.parametrize(
    "flt",
    [
        RecordFilter(),
        RecordFilter(kind="expense", sort="amount", descending=False),
        RecordFilter(text="QUOTE", sort="category"),
        RecordFilter(date_from=date(2025, 2, 1), date_to=date(2025, 4, 30), sort="kind"),
        RecordFilter(amount_min=Decimal("100"), amount_max=Decimal("50000"), sort="created_at"),
        RecordFilter(limit=1, offset=5),  # paging is ignored: everything is exported
    ],
)
def test_export_is_exactly_what_the_filter_shows(admin, flt):
    seed(admin)
    rows = export_rows(admin, flt)
    expected = all_pages(admin, replace(flt, offset=0, limit=50))
    assert [r["id"] for r in rows] == [str(r.id) for r in expected]
    for got, want in zip(rows, expected, strict=True):
        assert got["amount"] == f"{want.amount:.2f}" and Decimal(got["amount"]) == want.amount
        assert (got["date"], got["kind"], got["category"]) == (
            want.date.isoformat(),
            want.kind,
            want.category,
        )
        assert got["notes"] == spreadsheet_safe(want.notes) and got["created_by"] == "root"
    assert list(rows[0]) == list(COLUMNS) if rows else True


def test_header_amount_format_and_utf8_file(admin, tmp_path):
    admin.records.create(
        {"kind": "income", "amount": "1234567.5", "category": "salary", "date": "2026-01-01"}
    )
    path = tmp_path / "out.csv"
    report = admin.csv.export(RecordFilter(), path)
    assert report.rows == 1 and report.destination == str(path)
    raw = path.read_bytes()
    assert raw.startswith(b"id,date,kind,amount,category,notes,created_by,created_at\n")
    assert b",1234567.50," in raw and not raw.startswith(b"\xef\xbb\xbf")
    assert not list(tmp_path.glob(".*tmp"))
    event = AuditEvent.select().where(AuditEvent.action == "csv_export").get()
    assert '"rows": 1' in event.after


def test_empty_export_has_a_header(sessions):
    rows = io.StringIO()
    sessions["analyst"].csv.export(RecordFilter(), rows)
    assert rows.getvalue() == ",".join(COLUMNS) + "\n"


def test_deleted_records_only_on_request_and_skipped_on_import(admin, tmp_path):
    seed(admin, 4)
    victim = admin.records.list(RecordFilter()).rows[0]
    admin.records.delete(victim.id)
    assert victim.id not in {r["id"] for r in export_rows(admin, RecordFilter())}
    rows = export_rows(admin, RecordFilter(include_deleted=True))
    assert len(rows) == 4 and [r["deleted"] for r in rows].count("true") == 1
    path = tmp_path / "all.csv"
    admin.csv.export(RecordFilter(include_deleted=True), path)
    _fresh_database(tmp_path)
    report = _fresh_admin().csv.import_file(path)
    assert (report.imported, report.skipped_deleted) == (3, 1)


def test_permissions(sessions, tmp_path):
    with pytest.raises(PermissionDenied):
        sessions["viewer"].csv.export(RecordFilter(), tmp_path / "v.csv")
    with pytest.raises(PermissionDenied):
        sessions["analyst"].csv.export(RecordFilter(include_deleted=True), tmp_path / "a.csv")
    assert not (tmp_path / "v.csv").exists() and not (tmp_path / "a.csv").exists()
    assert sessions["analyst"].csv.export(RecordFilter(), tmp_path / "ok.csv").rows == 0


def test_cancel_leaves_no_file(admin, tmp_path):
    seed(admin, 12)
    from finance_tui.services import csv_export

    old, csv_export.FETCH = csv_export.FETCH, 5
    try:
        event = threading.Event()
        path = tmp_path / "out.csv"
        with pytest.raises(ExportCancelled):
            admin.csv.export(RecordFilter(), path, progress=lambda d, t: event.set(), cancel=event)
    finally:
        csv_export.FETCH = old
    assert not path.exists() and not list(tmp_path.glob(".*tmp"))


def test_progress_counts_up_to_the_total(admin):
    seed(admin, 9)
    seen = []
    admin.csv.export(
        RecordFilter(kind="expense"), io.StringIO(), progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (6, 6)


def _fresh_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    connect(url)
    bootstrap_admin("copy", "copy@example.com", PASSWORD)
    return url


def _fresh_admin() -> SessionController:
    return SessionController.login("copy", PASSWORD)


def _comparable(rows: list[dict]) -> list[tuple]:
    return sorted(
        (r["date"], r["kind"], r["amount"], r["category"], r["notes"], r["created_at"])
        for r in rows
    )


def test_round_trip_into_an_empty_database(admin, tmp_path):
    seed(admin, 60, with_legacy=False)
    extra = admin.categories.create("Pets & Vet", "expense")
    admin.records.create(
        {"kind": "expense", "amount": "0.01", "category": extra.id, "date": "2024-02-29"}
    )
    path = tmp_path / "out.csv"
    admin.csv.export(RecordFilter(), path)
    original = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    assert len(original) == 61

    _fresh_database(tmp_path)
    copy = _fresh_admin()
    report = copy.csv.import_file(path, ImportOptions(create_categories=True))
    assert report.imported == 61 and report.created_categories == ["Pets & Vet"]
    assert summaries.verify() == []
    again = io.StringIO()
    copy.csv.export(RecordFilter(), again)
    copied = list(csv.DictReader(io.StringIO(again.getvalue())))
    assert _comparable(copied) == _comparable(original)
    assert {r["created_by"] for r in copied} == {"copy"}
    # and importing the same export again adds nothing
    assert copy.csv.import_file(path).already_imported == 61


STORABLE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(notes=STORABLE_TEXT, separator=st.sampled_from(["", ",", '"', "\r", "\n", "\r\n"]))
def test_any_text_reads_back_from_the_lines_the_database_builds(admin, notes, separator):
    """Each CSV line is formatted in SQL (quoting included); whatever notes hold, the
    csv module reads the same text and the same number of fields back."""
    created = admin.records.create(
        {"kind": "expense", "amount": "1", "category": "food", "date": "2026-01-02"}
    )
    stored = f"a{separator}{notes}".strip()  # any text, also what validation refuses today
    store_notes_below_validation(created.id, stored)
    out = io.StringIO()
    admin.csv.export(RecordFilter(), out, raw=True)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert {len(row) for row in rows} == {len(COLUMNS)}
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[str(created.id)][COLUMNS.index("notes")] == stored


def test_export_puts_connection_settings_back(admin):
    from finance_tui.db import is_sqlite
    from finance_tui.models import database

    if not is_sqlite():
        pytest.skip("the memory map is a SQLite setting")
    before = database.execute_sql("PRAGMA mmap_size").fetchone()[0]
    admin.csv.export(RecordFilter(), io.StringIO())
    assert database.execute_sql("PRAGMA mmap_size").fetchone()[0] == before


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing-dir/out.csv", "does not exist"),
        (".", "is a directory"),
        ("x" * 300 + ".csv", "File name too long"),
        ("bad\x00name.csv", "contains a NUL"),
        ("~no-such-user-zz/out.csv", "no such user"),
    ],
)
def test_unwritable_names_are_one_clear_error_for_export_and_import(
    admin, tmp_path, monkeypatch, name, reason
):
    """File names typed into the export and import dialogs: a FinanceError naming the
    reason (never an OSError or ValueError escaping into a worker), nothing written."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(FinanceError, match=reason):
        admin.csv.export(RecordFilter(), Path(name))
    assert list(work.iterdir()) == []
    with pytest.raises(FinanceError):
        admin.csv.import_file(Path(name), ImportOptions())
    assert list(work.iterdir()) == []
