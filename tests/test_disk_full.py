"""A full disk is reported as such, nothing is written and the database stays intact.

SQLite rolls a transaction back by itself on SQLITE_FULL; the ROLLBACK that follows then
failed with "cannot rollback - no transaction is active", which was all the user saw.
``PRAGMA max_page_count`` makes the database "full" without filling a real disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PASSWORD

from finance_tui import db as db_module
from finance_tui.db import DiskFull, is_disk_full, write_transaction
from finance_tui.models import AuditEvent, Record, database

HEADER = "date,kind,amount,category,notes\n"


@pytest.fixture
def nearly_full(db_url, monkeypatch):
    """Every connection from now on may grow the database by a few pages only."""
    if not db_url.startswith("sqlite"):
        pytest.skip("max_page_count is SQLite's; PostgreSQL's disk_full is tested by code")

    def limit(extra_pages: int = 8) -> None:
        pages = database.execute_sql("PRAGMA page_count").fetchone()[0] + extra_pages
        monkeypatch.setitem(db_module.SQLITE_PRAGMAS, "max_page_count", pages)
        database.execute_sql(f"PRAGMA max_page_count = {pages}")

    return limit


def _big_csv(path: Path, rows: int = 20_000) -> Path:
    lines = [
        f"2026-01-{i % 28 + 1:02d},expense,{i % 90 + 1}.25,food,note {i} {'x' * 40}\n"
        for i in range(rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _intact() -> str:
    return database.execute_sql("PRAGMA integrity_check").fetchone()[0]


def test_a_save_on_a_full_disk_says_so_and_changes_nothing(admin, nearly_full):
    nearly_full(0)
    records, events = Record.select().count(), AuditEvent.select().count()
    with pytest.raises(DiskFull) as err:
        for _ in range(200):  # the first page that cannot be added stops it
            admin.records.create(
                {
                    "kind": "expense",
                    "amount": "1",
                    "category": "food",
                    "date": "2026-01-01",
                    "notes": "n" * 900,
                }
            )
    assert str(err.value) == "The disk is full (database or disk is full); nothing was saved"
    assert "cannot rollback" not in str(err.value)
    assert Record.select().count() - records == AuditEvent.select().count() - events
    assert _intact() == "ok"


def test_service_import_on_a_full_disk_says_so_and_imports_nothing(admin, nearly_full, tmp_path):
    source = _big_csv(tmp_path / "big.csv")
    nearly_full()
    before = (Record.select().count(), AuditEvent.select().count())
    with pytest.raises(DiskFull) as err:
        admin.csv.import_file(source)
    assert str(err.value) == ("The disk is full (database or disk is full); nothing was imported")
    assert (Record.select().count(), AuditEvent.select().count()) == before
    assert _intact() == "ok"


def test_cli_import_on_a_full_disk_says_so_and_imports_nothing(
    admin, db_url, nearly_full, run_cli, tmp_path
):
    source = _big_csv(tmp_path / "big.csv")
    nearly_full()
    code, out, err = run_cli(["import", str(source), "--db", db_url, "--user", "root"], PASSWORD)
    assert (code, out) == (1, "")
    assert err == "error: The disk is full (database or disk is full); nothing was imported\n"
    assert Record.select().count() == 0
    assert _intact() == "ok"


def test_other_errors_in_a_transaction_pass_unchanged(db):
    with (
        pytest.raises(db_module.DatabaseError, match="no such table: nowhere"),
        write_transaction(),
    ):
        database.execute_sql("SELECT * FROM nowhere")


class _PgError(Exception):
    sqlstate = "53100"


@pytest.mark.parametrize(
    ("error", "full"),
    [
        (_PgError("could not extend file: No space left on device"), True),
        (Exception("database or disk is full"), True),
        (Exception("no such table: x"), False),
    ],
)
def test_disk_full_is_recognised_on_either_engine(error, full):
    assert is_disk_full(error) is full
