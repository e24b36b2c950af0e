"""A full disk is reported as such, nothing is written and the database stays intact.

SQLite rolls a transaction back by itself on SQLITE_FULL; the ROLLBACK that follows then
failed with "cannot rollback - no transaction is active", which was all the user saw.
``PRAGMA max_page_count`` makes the database "full" without filling a real disk.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD

from finance_tui import db as db_module
from finance_tui.db import DiskFull, is_disk_full, write_transaction
from finance_tui.models import AuditEvent, Record, database

FULL = "The disk holding the database is full; {}; free some space and try again"
DETAIL = " (database: database or disk is full)"
FULL_SAVE = FULL.format("nothing was saved") + DETAIL
FULL_IMPORT = FULL.format("nothing was imported") + DETAIL

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
    assert str(err.value) == FULL_SAVE
    assert "cannot rollback" not in str(err.value)
    assert Record.select().count() - records == AuditEvent.select().count() - events
    assert _intact() == "ok"


def test_service_import_on_a_full_disk_says_so_and_imports_nothing(admin, nearly_full, tmp_path):
    source = _big_csv(tmp_path / "big.csv")
    nearly_full()
    before = (Record.select().count(), AuditEvent.select().count())
    with pytest.raises(DiskFull) as err:
        admin.csv.import_file(source)
    assert str(err.value) == FULL_IMPORT
    assert (Record.select().count(), AuditEvent.select().count()) == before
    assert _intact() == "ok"


def test_cli_import_on_a_full_disk_says_so_and_imports_nothing(
    admin, db_url, nearly_full, run_cli, tmp_path
):
    source = _big_csv(tmp_path / "big.csv")
    nearly_full()
    code, out, err = run_cli(["import", str(source), "--db", db_url, "--user", "root"], PASSWORD)
    assert (code, out) == (1, "")
    assert err == f"error: {FULL_IMPORT}\n"
    assert Record.select().count() == 0
    assert _intact() == "ok"


def test_other_errors_in_a_transaction_pass_unchanged(db):
    with (
        pytest.raises(db_module.DatabaseError, match="nowhere"),
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


def _mount_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        timeout=30,
    )
    return done.returncode == 0


def test_cli_import_onto_a_really_full_disk(db_url, tmp_path):
    """A 2 MB tmpfs: the real thing, where root may mount one (else skipped)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the database file must live on the small file system: SQLite only")
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "2m"):
        pytest.skip("mounting a tmpfs needs root (and the right to mount)")
    try:
        env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
        cli = [sys.executable, "-m", "finance_tui", "--db", str(disk / "team.db")]
        init = subprocess.run(
            [*cli, "init", "--admin-user", "root", "--admin-email", "r@example.com"],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert init.returncode == 0, init.stderr
        source = _big_csv(tmp_path / "big.csv", rows=40_000)
        result = subprocess.run(
            [*cli, "import", str(source), "--create-categories", "--user", "root"],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == 1
        assert result.stderr == (f"error: {FULL_IMPORT}\n")
        check = sqlite3.connect(disk / "team.db")
        try:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert check.execute("SELECT COUNT(*) FROM record").fetchone()[0] == 0
        finally:
            check.close()  # an open file keeps the mount busy
    finally:
        gone = subprocess.run(["umount", str(disk)], capture_output=True, text=True, timeout=30)
        assert gone.returncode == 0, gone.stderr
