"""Benchmark CSV import and export on SQLite (not part of the test suite).

    python bench/bench_csv.py [--rows 1000000] [--repeat 3] [--dir /tmp/bench_csv]
                              [--url postgresql://...]   (emptied first: use a scratch DB)

For each repetition: a fresh SQLite database, ``session.csv.import_file`` of a generated
file (date-sorted, like a bank statement or our own export), then ``session.csv.export``
of everything, both protected (the default) and ``raw=True`` (text unchanged, the SQL
without the spreadsheet-protection test) in alternating order, so their cost compares
within one run. Also measures the import pipeline alone (read + decode + validate +
fingerprint, with the database insert replaced by a counter) so the cost of the schema
(indexes, search triggers) can be told apart from ours. Reports medians of wall-clock
rows/s, and CPU-time rows/s of this process (fairer on a shared, busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FINANCE_TUI_BCRYPT_ROUNDS", "4")

from finance_tui.domain.filters import RecordFilter  # noqa: E402
from finance_tui.models import Record, database  # noqa: E402
from finance_tui.services import bulk  # noqa: E402
from finance_tui.services.users import bootstrap_admin  # noqa: E402
from finance_tui.session import SessionController  # noqa: E402
from finance_tui.startup import connect  # noqa: E402

PASSWORD = "bench-password-1"
CATEGORIES = [("food", "expense"), ("rent", "expense"), ("salary", "income"), ("other", "expense")]
WORDS = ["lunch", "groceries", "coffee", "flat", "bonus", "taxi", "books", "gift", "fuel"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Date-sorted rows over ~10 years, realistic amounts and short notes."""
    rnd = random.Random(seed)
    start = date(2016, 1, 1)
    per_day = max(1, rows // 3650)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("date,kind,amount,category,notes\n")
        for i in range(rows):
            day = start + timedelta(days=i // per_day)
            name, kind = CATEGORIES[rnd.randrange(len(CATEGORIES))]
            amount = f"{rnd.randint(1, 500_000) / 100:.2f}"
            notes = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} #{rnd.randrange(1000)}"
            out.write(f"{day.isoformat()},{kind},{amount},{name},{notes}\n")


def fresh_session(db_path: Path, url: str | None = None) -> SessionController:
    """A new empty database: a SQLite file, or the given (scratch!) PostgreSQL emptied."""
    if url:
        from finance_tui.migrations import apply_migrations
        from finance_tui.models import ALL_MODELS

        db = connect(url, migrate=False)
        tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
        with db.atomic():
            db.execute_sql(f"DROP TABLE IF EXISTS {tables} CASCADE")
        apply_migrations(db)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        connect(f"sqlite:///{db_path}")
    bootstrap_admin("bench", "bench@example.com", PASSWORD)
    return SessionController.login("bench", PASSWORD)


def timed(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def bench_pipeline(session: SessionController, csv_path: Path) -> tuple[float, float]:
    """Import with the insert replaced by a counter (everything else is real)."""
    real = bulk.insert_tuples  # the call the import makes per batch

    def count_only(rows, actor_id, **kwargs):
        return sum(1 for _ in rows)

    bulk.insert_tuples = count_only
    try:
        wall, cpu, report = timed(lambda: session.csv.import_file(csv_path))
    finally:
        bulk.insert_tuples = real
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench_csv"))
    parser.add_argument("--url", help="a scratch PostgreSQL database instead (it is emptied)")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    csv_path = args.dir / f"records_{args.rows}.csv"
    if not csv_path.exists():
        generate(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"{args.rows:,} rows, {size_mb:.1f} MB, {os.cpu_count()} CPUs", flush=True)

    results: dict[str, list[float]] = {
        k: []
        for k in (
            "import",
            "import_cpu",
            "export",
            "export_cpu",
            "export_raw",
            "export_raw_cpu",
            "pipe",
            "pipe_cpu",
        )
    }
    for i in range(args.repeat):
        session = fresh_session(args.dir / "bench.db", args.url)
        wall, cpu = bench_pipeline(session, csv_path)
        results["pipe"].append(args.rows / wall)
        results["pipe_cpu"].append(args.rows / cpu)
        wall, cpu, report = timed(lambda s=session: s.csv.import_file(csv_path))
        assert report.imported == args.rows, report.summary()  # type: ignore[union-attr]
        results["import"].append(args.rows / wall)
        results["import_cpu"].append(args.rows / cpu)
        out = args.dir / "export.csv"
        for raw in (False, True) if i % 2 == 0 else (True, False):
            wall, cpu, exported = timed(
                lambda s=session, o=out, r=raw: s.csv.export(RecordFilter(), o, raw=r)
            )
            assert exported.rows == args.rows  # type: ignore[union-attr]
            key = "export_raw" if raw else "export"
            results[key].append(args.rows / wall)
            results[f"{key}_cpu"].append(args.rows / cpu)
        assert Record.select().count() == args.rows
        database.close()
        print(
            f"run {i + 1}: import {results['import'][-1]:,.0f}/s "
            f"(pipeline alone {results['pipe'][-1]:,.0f}/s), "
            f"export {results['export'][-1]:,.0f}/s (raw {results['export_raw'][-1]:,.0f}/s)",
            flush=True,
        )
    medians = {k: round(statistics.median(v)) for k, v in results.items()}
    print(
        f"median rows/s — import: {medians['import']:,} wall / {medians['import_cpu']:,} cpu; "
        f"import pipeline without the insert: {medians['pipe']:,} wall / "
        f"{medians['pipe_cpu']:,} cpu; export: {medians['export']:,} wall / "
        f"{medians['export_cpu']:,} cpu; raw export: {medians['export_raw']:,} wall / "
        f"{medians['export_raw_cpu']:,} cpu"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mb:.0f} MB (flat: compare --rows 100000)")
    print(json.dumps({"rows": args.rows, "median_rows_per_s": medians, "peak_rss_mb": peak_mb}))
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
