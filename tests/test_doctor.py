"""``finance-tui doctor``: finds drift in summaries and search index; --rebuild repairs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import PASSWORD

from finance_tui import search_index
from finance_tui.models import MonthlyTotal, database
from finance_tui.services import summaries


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
    assert search_index.verify(database.obj) == []


# ---- file permissions (SQLite) ---------------------------------------------------------
@pytest.fixture
def sqlite_db(db_url, admin) -> Path:
    if not db_url.startswith("sqlite"):
        pytest.skip("file permissions are a SQLite matter")
    # Data in the -wal, as in use: SQLite gives an empty -wal the main file's mode when
    # it opens one, which would undo a test's loose mode before doctor reads it.
    admin.categories.create("doctor-check", "both")
    return Path(database.obj.database)


def _warnings(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if "warning:" in line]


def test_private_files_give_no_warning(db_url, sqlite_db, run):
    for path in (sqlite_db, Path(f"{sqlite_db}-wal"), Path(f"{sqlite_db}-shm")):
        path.chmod(0o640)
    sqlite_db.parent.chmod(0o750)
    code, out, _ = run(["doctor", "--db", db_url])
    assert (code, _warnings(out)) == (0, [])
    assert "permission" not in out


def test_world_readable_database_warned_with_its_chmod(db_url, sqlite_db, run):
    """SQLite gives -wal/-shm the main file's mode, so all three are reported."""
    sqlite_db.parent.chmod(0o750)
    sqlite_db.chmod(0o644)
    code, out, _ = run(["doctor", "--db", db_url])
    assert code == 1
    assert _warnings(out) == [
        f"warning: file {path} (mode 0644): every user can read it; run: chmod o-rwx {path}"
        for path in (sqlite_db, f"{sqlite_db}-wal", f"{sqlite_db}-shm")
    ]
    assert "3 permission warning(s)" in out
    assert "consistent" in out  # the data checks still ran
    sqlite_db.chmod(0o640)  # the named fix silences it (-wal/-shm follow once reopened)
    code, out, _ = run(["doctor", "--db", db_url])
    assert (code, _warnings(out)) == (0, [])


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_world_readable_wal_or_shm_warned(db_url, sqlite_db, run, suffix):
    """A companion file that another process keeps open (so it is not recreated)."""
    sqlite_db.parent.chmod(0o750)
    other = sqlite3.connect(sqlite_db)
    try:
        other.execute("SELECT COUNT(*) FROM record").fetchone()
        path = Path(f"{sqlite_db}{suffix}")
        path.chmod(0o604)
        code, out, _ = run(["doctor", "--db", db_url])
    finally:
        other.close()
    assert code == 1
    assert _warnings(out) == [
        f"warning: file {path} (mode 0604): every user can read it; run: chmod o-rwx {path}"
    ]


def test_world_writable_file_and_open_directory_warned(db_url, sqlite_db, run):
    sqlite_db.chmod(0o666)
    sqlite_db.parent.chmod(0o757)
    code, out, _ = run(["doctor", "--db", db_url])
    assert code == 1
    assert _warnings(out) == [
        f"warning: file {path} (mode 0666): every user can read and write it; "
        f"run: chmod o-rwx {path}"
        for path in (sqlite_db, f"{sqlite_db}-wal", f"{sqlite_db}-shm")
    ] + [
        f"warning: directory {sqlite_db.parent} (mode 0757): every user can read and write "
        f"it; run: chmod o-rwx {sqlite_db.parent}",
    ]
    sqlite_db.chmod(0o600)
    sqlite_db.parent.chmod(0o751)  # others may pass through, not list or write
    code, out, _ = run(["doctor", "--db", db_url])
    assert (code, _warnings(out)) == (0, [])


def test_shared_sticky_directory_warned_to_move(db_url, sqlite_db, run):
    sqlite_db.parent.chmod(0o1777)
    code, out, _ = run(["doctor", "--db", db_url])
    assert code == 1
    assert _warnings(out) == [
        f"warning: directory {sqlite_db.parent} (mode 1777): every user can read and write "
        "it; move the database to a directory that only you (or your group) can write"
    ]
    sqlite_db.parent.chmod(0o700)


def test_path_with_spaces_is_quoted_in_the_fix(tmp_path, run):
    from finance_tui.startup import connect

    folder = tmp_path / "team books"
    folder.mkdir(mode=0o700)
    path = folder / "finance.db"
    connect(f"sqlite:///{path}")
    path.chmod(0o604)
    code, out, _ = run(["doctor", "--db", str(path)])
    assert code == 1
    assert f"run: chmod o-rwx '{path}'" in out
