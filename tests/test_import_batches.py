"""A big import is written in short batches, invisible until it is published at once.

Readers never see part of an import; other users' saves go through while it runs;
cancel, rejection and kill -9 leave nothing visible, and the next start removes what a
dead import left; after publishing, everything matches a brute-force recount.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import PASSWORD
from import_buffers import CHILD_PRELUDE, SMALL_ROWS

from finance_tui import search_index
from finance_tui.db import is_sqlite
from finance_tui.domain.csv_options import ImportCancelled, ImportOptions, ImportRejected
from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import NotFound
from finance_tui.models import AuditEvent, Category, ImportBatch, Record, database
from finance_tui.services import imports, search, summaries
from finance_tui.services.csv_export import count_matching
from finance_tui.services.query import run_count, run_query
from finance_tui.session import SessionController
from finance_tui.startup import connect

REPO = Path(__file__).resolve().parent.parent
WORD = "zebrafinch"  # in every imported note: the search index must agree


def write_csv(path: Path, n: int, *, bad_last: bool = False, category: str = "food") -> Path:
    """``n`` valid rows over 2025 (``category`` for 1 in 4, else food/salary)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("date,kind,amount,category,notes\n")
        for i in range(n):
            kind, cat = ("income", "salary") if i % 3 == 0 else ("expense", "food")
            if i % 4 == 1:
                kind, cat = "expense", category
            out.write(f"2025-{1 + i % 12:02d}-{1 + i % 28:02d},{kind},{1 + i % 97}.50,{cat},")
            out.write(f"{WORD} row {i}\n")
        if bad_last:
            out.write("2025-01-01,expense,-1,food,bad\n")
    return path


def expected_cells(path: Path) -> Counter:
    """Brute-force (month, category name, kind) -> [count, cents] from the file."""
    cells: Counter = Counter()
    for line in path.read_text().splitlines()[1:]:
        day, kind, amount, cat, _ = line.split(",", 4)
        cells[(day[:7], cat.lower(), kind, "n")] += 1
        cells[(day[:7], cat.lower(), kind, "t")] += round(float(amount) * 100)
    return cells


def visible_view(session: SessionController) -> tuple:
    """What any reader sees: counts, first page, search, dashboard, export, summaries."""
    everything = RecordFilter(include_deleted=True, limit=1000)
    dash = session.dashboard.summary("all")
    return (
        run_count(RecordFilter()),
        run_count(everything),
        [r.id for r in run_query(RecordFilter(limit=20), with_total=False).rows],
        run_count(RecordFilter(text=WORD)),
        run_query(RecordFilter(text=WORD, limit=5), with_total=False).rows,
        count_matching(everything),
        dash.total_income,
        dash.total_expense,
        dash.month_income,
        tuple(sorted(summaries.stored_rows().items())),
        tuple(sorted(summaries.expected_rows().items())),
    )


def raw_count() -> int:
    """Rows physically in the table, visible or not."""
    return database.execute_sql("SELECT COUNT(*) FROM record").fetchone()[0]


def fts_matches() -> int:
    """Entries of the SQLite search index holding the imported word (0 on PostgreSQL)."""
    if not is_sqlite():
        return 0
    sql = f"SELECT COUNT(*) FROM {search_index.FTS_TABLE} WHERE {search_index.FTS_TABLE} MATCH ?"
    return database.execute_sql(sql, (search.fts_phrase(WORD),)).fetchone()[0]


def seed(admin: SessionController) -> None:
    admin.records.create(
        {"kind": "income", "amount": "10", "category": "salary", "date": "2025-03-01"}
    )


# ---- (1) readers never see part of an import -------------------------------------------
def test_a_reader_between_batches_sees_none_of_the_import(admin, tmp_path):
    seed(admin)
    before = visible_view(admin)
    path = write_csv(tmp_path / "big.csv", 20_000)
    seen: list[tuple[int, tuple]] = []

    def progress(done: int, total: int | None) -> None:
        if done < 20_000:  # between batches (the last call comes after publishing)
            seen.append((raw_count(), visible_view(admin)))

    report = admin.csv.import_file(path, progress=progress)
    assert report.imported == 20_000
    assert seen and all(view == before for _, view in seen)
    assert max(raw for raw, _ in seen) > 1  # batches were committed while it ran
    assert run_count(RecordFilter()) == 20_001


def test_rows_of_a_running_import_cannot_be_read_edited_or_deleted(admin, tmp_path):
    path = write_csv(tmp_path / "big.csv", 12_000)
    ids: list[str] = []

    def progress(done: int, total: int | None) -> None:
        if not ids and raw_count():
            ids.append(Record.select(Record.id).limit(1).scalar())
            rid = ids[0]
            with pytest.raises(NotFound):
                admin.records.get(rid)
            with pytest.raises(NotFound):
                admin.records.update(rid, 1, {"amount": "2"})
            with pytest.raises(NotFound):
                admin.records.delete(rid)

    admin.csv.import_file(path, progress=progress)
    assert ids and admin.records.get(ids[0]).version == 1  # published: now it is there


# ---- (2) kill -9 mid-way: nothing visible; the next start removes the leftovers -------
KILL_ROWS = SMALL_ROWS  # the child's progress and write batch size: several batches
CHILD = CHILD_PRELUDE + textwrap.dedent(
    """
    import sys
    from finance_tui.startup import connect
    from finance_tui.session import SessionController
    connect(sys.argv[1])
    session = SessionController.login("root", sys.argv[3])

    def progress(done, total):
        print(done, flush=True)

    session.csv.import_file(sys.argv[2], progress=progress, options=None)
    print("finished", flush=True)
    """
)


def kill_midway(db_url: str, path: Path, rows: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FINANCE_TUI_BCRYPT_ROUNDS": "4"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, str(path), PASSWORD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for line in child.stdout:
            assert line.strip() != "finished", "the import finished before it was killed"
            if int(line) >= rows:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, child.stderr.read()


@pytest.mark.parametrize("cleaner", ["connect", "doctor"])
def test_kill_9_leaves_nothing_visible_and_the_next_start_removes_it(
    admin, db_url, tmp_path, run_cli, cleaner
):
    """The child writes batches of KILL_ROWS rows (not the default 2,500 and more), so
    several batches are written (and the rest of the file not yet) with a small file."""
    seed(admin)
    before, before_raw, before_fts = visible_view(admin), raw_count(), fts_matches()
    kill_midway(db_url, write_csv(tmp_path / "big.csv", 16 * KILL_ROWS), 6 * KILL_ROWS)

    connect(db_url, migrate=False)  # what is on disk, before any clean-up
    assert raw_count() >= before_raw + 4 * KILL_ROWS  # committed batches of the dead import...
    assert visible_view(admin) == before  # ...that nobody sees
    assert ImportBatch.get().state == imports.PENDING

    if cleaner == "connect":
        connect(db_url)
    else:
        code, out, _ = run_cli(["--db", db_url, "doctor"])
        assert code == 0 and "removed" in out and "rows of an unfinished import" in out
        connect(db_url, migrate=False)
    assert raw_count() == before_raw
    assert fts_matches() == before_fts
    assert search_index.verify(database.obj) == []
    assert visible_view(admin) == before and summaries.verify() == []
    assert ImportBatch.get().state == imports.DISCARDED
    event = AuditEvent.get(AuditEvent.action == "csv_import_discarded")
    assert '"rows_removed": ' in event.after
    # and the same file imports in full afterwards
    session = SessionController.login("root", PASSWORD)
    assert session.csv.import_file(tmp_path / "big.csv").imported == 16 * KILL_ROWS


def test_a_running_import_of_a_live_process_is_left_alone_and_blocks_a_second(admin, tmp_path):
    batch = ImportBatch.create(
        source="other.csv", owner_host=imports._owner()[0], owner_pid=os.getpid()
    )
    assert imports.sweep() == []
    with pytest.raises(imports.ImportBusy, match="another import is running"):
        admin.csv.import_file(write_csv(tmp_path / "a.csv", 10))
    assert ImportBatch.get_by_id(batch.id).state == imports.PENDING
    assert raw_count() == 0


def test_a_dead_process_import_is_swept_before_the_next_import(admin, tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host = imports._owner()[0]
    batch = ImportBatch.create(source="dead.csv", owner_host=host, owner_pid=int(dead.stdout))
    food = Category.get(Category.name_lower == "food").id
    database.execute_sql(
        "INSERT INTO record (id, kind, amount, category_id, date, notes, created_at, updated_at,"
        " is_deleted, version, import_batch) VALUES (?, 'expense', 5, ?, '2025-01-01', 'x',"
        " '2025-01-01', '2025-01-01', ?, 1, ?)".replace("?", "%s" if not is_sqlite() else "?"),
        ("0" * 31 + "1", food, False, batch.id),
    )
    report = admin.csv.import_file(write_csv(tmp_path / "a.csv", 10))
    assert report.imported == 10 and raw_count() == 10
    assert ImportBatch.get_by_id(batch.id).state == imports.DISCARDED


# ---- (3) other users' saves go through while an import runs (SQLite) -------------------
def test_a_concurrent_save_completes_during_an_import(admin, db_url, tmp_path):
    if not is_sqlite():
        pytest.skip("the write lock is SQLite's")
    path = write_csv(tmp_path / "big.csv", 30_000)
    outcome: dict = {}
    started = threading.Event()

    def run_import() -> None:
        try:
            outcome["report"] = admin.csv.import_file(path, progress=lambda d, t: started.set())
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    worker = threading.Thread(target=run_import)
    worker.start()
    other = SessionController.login("root", PASSWORD)
    saves_during = 0
    assert started.wait(60)
    while worker.is_alive():
        pending = ImportBatch.select().where(ImportBatch.state == imports.PENDING).exists()
        other.records.create(
            {"kind": "expense", "amount": "1", "category": "food", "date": date.today().isoformat()}
        )
        SessionController.login("root", PASSWORD)
        saves_during += pending
    worker.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].imported == 30_000
    assert saves_during >= 1
    assert summaries.verify() == []


# ---- (4) cancel and rejection leave nothing --------------------------------------------
def test_a_cancelled_import_leaves_nothing(admin, tmp_path):
    seed(admin)
    before, before_raw, before_fts = visible_view(admin), raw_count(), fts_matches()
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        if raw_count() > before_raw + 2_000:  # some batches are committed
            cancel.set()

    with pytest.raises(ImportCancelled, match="nothing was written"):
        admin.csv.import_file(
            write_csv(tmp_path / "big.csv", 30_000), progress=progress, cancel=cancel
        )
    assert cancel.is_set()
    assert (raw_count(), fts_matches()) == (before_raw, before_fts)
    assert visible_view(admin) == before
    assert ImportBatch.get().state == imports.DISCARDED


def test_a_rejected_import_removes_its_batches_and_created_categories(admin, tmp_path):
    before_raw, categories = raw_count(), Category.select().count()
    path = write_csv(tmp_path / "big.csv", 12_000, bad_last=True, category="Travel")
    with pytest.raises(ImportRejected):
        admin.csv.import_file(path, ImportOptions(create_categories=True))
    assert raw_count() == before_raw and Category.select().count() == categories
    assert AuditEvent.select().where(AuditEvent.action == "category_create").count() == 0


# ---- (5) after publishing: everything visible, summaries exact ------------------------
def test_after_publishing_everything_is_visible_and_summaries_match_a_recount(admin, tmp_path):
    path = write_csv(tmp_path / "big.csv", 12_000, category="Travel")
    report = admin.csv.import_file(path, ImportOptions(create_categories=True))
    assert report.imported == 12_000 and report.created_categories == ["Travel"]
    assert run_count(RecordFilter()) == raw_count() == 12_000
    assert run_count(RecordFilter(text=WORD)) == 12_000
    assert Record.select().where(Record.import_batch.is_null(False)).count() == 0  # tags cleared
    assert ImportBatch.get().state == imports.DONE
    names = {c.id: c.name_lower for c in Category.select()}
    stored: Counter = Counter()
    for (month, category, kind), (count, total) in summaries.stored_rows().items():
        stored[(f"{month:%Y-%m}", names[category], kind, "n")] += count
        stored[(f"{month:%Y-%m}", names[category], kind, "t")] += total
    assert stored == expected_cells(path)
    assert summaries.verify() == [] and search_index.verify(database.obj) == []
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions.count("category_create") == 1 and actions.count("csv_import") == 1
