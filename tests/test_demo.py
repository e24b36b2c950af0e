"""Demo data: the three accounts (idempotent), realistic seeded records, the command."""

from __future__ import annotations

import io
import sys
from collections import Counter
from datetime import date

import pytest

from finance_tui import cli, search_index
from finance_tui.db import write_transaction
from finance_tui.demo import DEMO_ACCOUNTS, create_demo, generate, month_starts
from finance_tui.domain.filters import RecordFilter
from finance_tui.models import Category, Record, User
from finance_tui.services import bulk, summaries
from finance_tui.services.query import run_count
from finance_tui.session import SessionController

TODAY = date(2026, 11, 25)


def _records() -> list[Record]:
    return list(Record.select())


def test_demo_creates_accounts_and_realistic_records(db):
    result = create_demo(300, seed=7, today=TODAY)
    assert result.records == 300
    assert sorted(result.accounts_created) == ["Demo_admin", "Demo_analyst", "Demo_viewer"]
    for username, email, password, role in DEMO_ACCOUNTS:
        session = SessionController.login(email, password)
        assert session.principal.username == username
        assert session.principal.role == role

    rows = _records()
    assert len(rows) == 300
    names = {c.id: c.name_lower for c in Category.select()}
    first = month_starts(TODAY)[0]
    assert first == date(2024, 12, 1)
    assert all(first <= r.date <= TODAY for r in rows)
    assert all(0 < r.amount <= 1_000_000 for r in rows)
    per_category = Counter(names[r.category_id] for r in rows)
    assert per_category.most_common(1)[0][0] == "food"
    months = {(r.date.year, r.date.month) for r in rows if names[r.category_id] == "rent"}
    assert len(months) == 24  # rent every month
    salary_months = {(r.date.year, r.date.month) for r in rows if r.notes == "Monthly salary"}
    assert len(salary_months) == 24  # paid on the 25th: this month's is due today
    food = [r.amount for r in rows if names[r.category_id] == "food"]
    assert max(food) <= 9_000 and sum(food) / len(food) < 4_000
    incomes = sum(r.amount for r in rows if r.kind == "income")
    expenses = sum(r.amount for r in rows if r.kind == "expense")
    assert 1 < incomes / expenses < 4  # a team that saves, not one that hoards
    assert summaries.verify() == []
    assert search_index.verify(Record._meta.database.obj) == []
    assert run_count(RecordFilter(text="groceries")) > 0


def test_same_seed_same_records_and_accounts_are_idempotent(db):
    first = list(generate(500, seed=3, today=TODAY))
    assert first == list(generate(500, seed=3, today=TODAY))
    assert first != list(generate(500, seed=4, today=TODAY))
    assert [r[3] for r in first] == sorted(r[3] for r in first)  # date order
    create_demo(20, seed=3, today=TODAY)
    again = create_demo(20, seed=3, today=TODAY)
    assert again.accounts_created == []
    assert sorted(again.accounts_existing) == ["Demo_admin", "Demo_analyst", "Demo_viewer"]
    assert User.select().count() == 3
    assert Record.select().count() == 20  # the second run found the demo records
    assert (again.records, again.already_present) == (0, 20)
    assert summaries.verify() == []


def test_demo_command(db_url, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["demo", "--db", db_url, "--records", "25000", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    assert "demo.viewer@gmail.com" in out and "password demo@viewer2026" in out
    assert "Added 25,000 records" in out
    assert "records: 25,000/25,000 (100%)" in err
    assert Record.select().count() == 25_000
    assert summaries.verify() == []


def test_command_defaults_match_the_generator():
    from finance_tui import demo
    from finance_tui.commands import demo as command

    assert (command.DEFAULT_RECORDS, command.DEFAULT_SEED, command.MAX_RECORDS) == (
        demo.DEFAULT_RECORDS,
        demo.DEFAULT_SEED,
        demo.MAX_RECORDS,
    )


@pytest.mark.parametrize("bad", ["-1", "lots", "99999999"])
def test_demo_command_rejects_bad_counts(db_url, bad, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--db", db_url, "--records", bad])
    assert exc.value.code == 2
    assert "--records" in capsys.readouterr().err
    assert Record.select().count() == 0


def test_first_load_rebuilds_every_record_index(db):
    """A bulk load into an empty table builds the non-unique indexes once at the end
    (SQLite); afterwards the table has exactly the indexes it had before, in use."""
    from finance_tui.db import is_sqlite
    from finance_tui.models import database

    def record_indexes() -> set[str]:
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'record'"
            if is_sqlite()
            else "SELECT indexname FROM pg_indexes WHERE tablename = 'record'"
        )
        return {name for (name,) in database.execute_sql(sql).fetchall()}

    def temp_store() -> int | None:  # the index build sorts through files, then puts it back
        return database.execute_sql("PRAGMA temp_store").fetchone()[0] if is_sqlite() else None

    before, store = record_indexes(), temp_store()
    assert len(before) >= 5
    create_demo(records=500, seed=3, today=date(2026, 11, 25))
    assert record_indexes() == before
    assert temp_store() == store
    admin_id = User.get(User.username == DEMO_ACCOUNTS[0][0]).id
    with write_transaction():  # non-empty: incremental (demo itself adds nothing now)
        bulk.insert_tuples(generate(200, seed=4, today=date(2026, 11, 25)), admin_id)
    assert Record.select().count() == 700
    assert record_indexes() == before
    assert run_count(RecordFilter(text="coffee")) == sum(
        "coffee" in r.notes.lower() for r in Record.select()
    )


def test_demo_twice_never_duplicates(db_url, monkeypatch, capsys):
    """The README's quick start run twice: the second run adds nothing and says why."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["demo", "--db", db_url, "--records", "300"]) == 0
    first = capsys.readouterr().out
    assert "Added 300 records" in first
    before = sorted((r.id, r.amount, r.date) for r in Record.select())
    assert cli.main(["demo", "--db", db_url, "--records", "300", "--seed", "9"]) == 0
    second = capsys.readouterr().out
    assert "demo data already present (300 records); nothing added" in second
    assert "Added" not in second
    assert "(exists)" in second and "(created)" not in second
    assert sorted((r.id, r.amount, r.date) for r in Record.select()) == before
    assert User.select().count() == 3


def test_demo_fills_a_database_that_has_only_other_records(db, admin):
    """Records a team typed itself are not demo data: the demo still adds its own once."""
    admin.records.create({"kind": "expense", "amount": "5", "category": "food", "date": "today"})
    result = create_demo(30, seed=1, today=TODAY)
    assert (result.records, result.already_present) == (30, None)
    assert Record.select().count() == 31
    again = create_demo(30, seed=1, today=TODAY)
    assert (again.records, again.already_present) == (0, 30)
    assert Record.select().count() == 31
