"""Robustness of CSV import: random bytes never give a traceback (always a report or a
clear FinanceError, and nothing written on error), and ``kill -9`` in the middle of a
large import leaves the database exactly as before and usable."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
from conftest import PASSWORD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance_tui.db import connect
from finance_tui.errors import FinanceError
from finance_tui.models import AuditEvent, Category, Record
from finance_tui.services import summaries
from finance_tui.services.csv_import import CHUNK
from finance_tui.services.csvio import ImportOptions
from finance_tui.session import SessionController

REPO = Path(__file__).resolve().parent.parent
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def state() -> tuple:
    """Everything an import may touch."""
    return (
        Record.select().count(),
        Category.select().count(),
        AuditEvent.select().where(AuditEvent.action == "csv_import").count(),
        tuple(sorted(summaries.stored_rows().items())),
    )


def check_import(session: SessionController, data: bytes, **options) -> None:
    before = state()
    try:
        report = session.csv.import_file(io.BytesIO(data), ImportOptions(**options), name="f")
    except FinanceError as exc:
        assert str(exc).strip(), "an error must say what is wrong"
        assert state() == before, "a refused import must write nothing"
        return
    assert report.imported + report.already_imported + report.invalid <= report.rows
    assert Record.select().count() == before[0] + report.imported
    assert summaries.verify() == []


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_never_crash(admin, data):
    check_import(admin, data)


CELL = st.one_of(
    st.sampled_from(["food", "salary", "income", "expense", "2026-01-31", "12.50", "-3", "€"]),
    st.text(alphabet=list("0123456789-.,;\"' \t\r\nabcéx\x00\udcff+eE€"), max_size=12),
)
ROW = st.lists(CELL, min_size=0, max_size=7)


@FUZZ
@given(
    header=st.sampled_from(
        [
            "date,kind,amount,category,notes",
            "date;amount;category",
            "id,date,kind,amount,category,notes,created_by,created_at,deleted",
            "\ufeffdate\tkind\tamount\tcategory",
        ]
    ),
    rows=st.lists(ROW, max_size=12),
    skip=st.booleans(),
    create=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]),
)
def test_random_rows_under_a_valid_header(admin, tmp_path, header, rows, skip, create, encoding):
    sep = "\t" if "\t" in header else (";" if ";" in header else ",")
    text = header + "\n" + "\n".join(sep.join(r) for r in rows)
    data = text.encode(encoding, errors="surrogateescape" if encoding == "utf-8" else "replace")
    check_import(
        admin,
        data,
        skip_invalid=skip,
        create_categories=create,
        rejects_path=tmp_path / "rejects.csv",
    )


CHILD = textwrap.dedent(
    """
    import sys
    from finance_tui.db import connect
    from finance_tui.session import SessionController
    connect(sys.argv[1])
    session = SessionController.login("root", sys.argv[3])

    def progress(done, total):
        print(done, flush=True)

    session.csv.import_file(sys.argv[2], progress=progress)
    print("finished", flush=True)
    """
)


def test_kill_9_midway_leaves_the_database_as_before(admin, db_url, tmp_path):
    admin.records.create(
        {"kind": "income", "amount": "10", "category": "salary", "date": "2026-01-01"}
    )
    admin.csv.import_file(_write(tmp_path / "small.csv", 30), ImportOptions(create_categories=True))
    before = state()
    big = _write(tmp_path / "big.csv", 8 * CHUNK)
    env = {**os.environ, "PYTHONPATH": str(REPO), "FINANCE_TUI_BCRYPT_ROUNDS": "4"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, str(big), PASSWORD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for line in child.stdout:
            assert line.strip() != "finished", "the import finished before it was killed"
            if int(line) >= 5 * CHUNK:  # several batches are in the open transaction
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, child.stderr.read()

    connect(db_url)  # a fresh connection sees what is really on disk
    assert state() == before
    assert summaries.verify() == []
    session = SessionController.login("root", PASSWORD)
    session.records.create(
        {"kind": "expense", "amount": "1", "category": "food", "date": "2026-02-02"}
    )
    report = session.csv.import_file(big)
    assert report.imported == 8 * CHUNK and report.already_imported == 0
    assert Record.select().count() == before[0] + 1 + 8 * CHUNK
    assert summaries.verify() == []


def _write(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("date,kind,amount,category,notes\n")
        for i in range(n):
            kind, cat = ("expense", "food") if i % 4 else ("income", "Bonus")
            day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
            handle.write(f"{day},{kind},{1 + i % 997}.{i % 100:02d},{cat},row {i} of {path.name}\n")
    return path


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])


def test_memory_does_not_grow_with_the_file(admin, tmp_path):
    """Python's peak allocation is the same for an 8-chunk and a 12-chunk file (streaming:
    one insert batch, a fixed-size Bloom filter, bounded caches); SQLite's page cache is
    bounded by its own setting.

    Still as sharp with 12 chunks instead of 20: the bound is per extra row, 16 bytes
    (the old 1 MiB over 60,000 extra rows was 17.5), less than a list slot plus one int
    object (8 + 28), so keeping anything per row (a fingerprint set, the rows) fails. The
    small file must stay at 8 chunks: the peak still rises up to about 40,000 rows, then
    stays flat (measured: 2 chunks 23.5 MB, 5 chunks 32.2 MB, 8 and 20 chunks 36.6 MB,
    within 30 KB of each other), so a smaller pair would measure the filling, not a leak.
    """
    small = _write(tmp_path / "small.csv", 8 * CHUNK)
    big = _write(tmp_path / "big.csv", 12 * CHUNK)
    allowed = 16 * (12 - 8) * CHUNK

    def peak(path: Path) -> int:
        tracemalloc.start()
        try:
            report = admin.csv.import_file(path, ImportOptions(create_categories=True))
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert report.imported > 0
        return top

    peak(_write(tmp_path / "warm.csv", 10))  # from now on every chunk is checked for dedupe
    small_peak, big_peak = peak(small), peak(big)
    assert big_peak < small_peak + allowed, (small_peak, big_peak, allowed)
