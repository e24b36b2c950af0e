"""``finance-tui doctor``: finds drift in summaries and search index; --rebuild repairs."""

from __future__ import annotations

import pytest
from conftest import PASSWORD

from finance_tui.models import MonthlyTotal, database
from finance_tui.services import search, summaries


@pytest.fixture
def run(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # no stored token
    return run_cli


@pytest.fixture
def records(admin):
    for day, amount in (("2025-01-31", "10"), ("2025-02-01", "20.50"), ("2025-02-15", "3")):
        admin.records.create(
            {"kind": "expense", "amount": amount, "category": "food", "date": day, "notes": "bread"}
        )
    return admin


def test_consistent_database_passes(db_url, records, run):
    code, out, _ = run(["doctor", "--db", db_url])
    assert code == 0
    assert "consistent" in out


def test_drift_is_reported_and_rebuilt_by_an_admin(db_url, records, make_user, run):
    MonthlyTotal.update(count=MonthlyTotal.count + 1).execute()
    if database.obj.__class__.__name__.startswith("Sqlite"):
        database.execute_sql("DROP TRIGGER record_search_ins")
    else:
        database.execute_sql('DROP INDEX "record_notes_trgm"')
    code, out, _ = run(["doctor", "--db", db_url])
    assert code == 1
    assert out.count("problem:") == 3
    assert "search index" in out
    assert "2025-02 category" in out

    code, _, err = run(["doctor", "--db", db_url, "--rebuild"])
    assert code == 1
    assert "not logged in" in err

    make_user("viewer", name="vera")
    code, _, err = run(["doctor", "--db", db_url, "--rebuild", "--user", "vera"], PASSWORD + "\n")
    assert code == 1
    assert "Permission denied" in err
    assert summaries.verify() != []

    code, out, _ = run(["doctor", "--db", db_url, "--rebuild", "--user", "root"], PASSWORD + "\n")
    assert code == 0, out
    assert "Rebuilt" in out and "consistent" in out
    assert summaries.verify() == []
    assert search.verify(database.obj) == []
