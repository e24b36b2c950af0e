"""Other users' saves and logins while a big CSV import runs (SQLite; not a test).

    python bench/import_contention.py [--rows 1000000] [--workers 2] [--baseline 10]
                                      [--dir /tmp/import_contention]

One process imports a generated, date-sorted CSV of ``--rows`` rows into a fresh
database; ``--workers`` other processes each save a record every ~100 ms and log in
every ~500 ms for as long as the import runs, recording every latency. Before that, the
same workers run for ``--baseline`` seconds with no import, for comparison. Prints
count, median, p99 and max of saves and logins in both phases, failures (e.g.
"database is locked"), and the import's time and rows/s. bcrypt uses 4 rounds (set
FINANCE_TUI_BCRYPT_ROUNDS to change), so a login measures the database, not the hash.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FINANCE_TUI_BCRYPT_ROUNDS", "4")

from bench.bench_csv import PASSWORD, fresh_session, generate  # noqa: E402

SAVE_EVERY = 0.1
LOGIN_EVERY = 0.5


def worker(url: str, name: str, stop: Path, out: Path) -> None:
    """Save every ~100 ms and log in every ~500 ms until ``stop`` exists; JSON lines."""
    from finance_tui.session import SessionController
    from finance_tui.startup import connect

    connect(url)
    session = SessionController.login(name, PASSWORD)
    next_login = time.monotonic() + LOGIN_EVERY
    n = 0
    with out.open("w") as log:
        while not stop.exists():
            n += 1
            kind, started = "save", time.monotonic()
            try:
                if started >= next_login:
                    kind = "login"
                    SessionController.login(name, PASSWORD)
                    next_login = started + LOGIN_EVERY
                else:
                    data = {"kind": "expense", "amount": f"{1 + n % 50}.25", "category": "food"}
                    session.records.create({**data, "date": date.today().isoformat()})
                error = ""
            except Exception as exc:  # recorded: the point is to count them
                error = f"{type(exc).__name__}: {exc}"
            took = time.monotonic() - started
            log.write(json.dumps({"kind": kind, "s": took, "error": error}) + "\n")
            log.flush()
            time.sleep(max(0.0, SAVE_EVERY - took))


def run_workers(url: str, names: list[str], work: Path, phase: str, body) -> list[dict]:
    """Start the workers, run ``body()`` (or sleep), stop them, return their samples."""
    stop = work / f"stop-{phase}"
    stop.unlink(missing_ok=True)
    outs = [work / f"{phase}-{name}.jsonl" for name in names]
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, name, str(stop), str(out)],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        for name, out in zip(names, outs, strict=True)
    ]
    time.sleep(1.5)  # let them connect and log in
    try:
        result = body()
    finally:
        stop.touch()
        for proc in procs:
            proc.wait(timeout=120)
    samples = []
    for out in outs:
        samples += [json.loads(line) for line in out.read_text().splitlines() if line]
    return samples, result


def describe(label: str, samples: list[dict]) -> str:
    ok = sorted(s["s"] for s in samples if not s["error"])
    failed = [s["error"] for s in samples if s["error"]]
    if not ok:
        return f"  {label:<6} none completed, {len(failed)} failed: {failed[:1]}"
    p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))]
    text = (
        f"  {label:<6} n={len(ok):5d}  median {statistics.median(ok) * 1000:7.1f} ms  "
        f"p99 {p99 * 1000:7.1f} ms  max {ok[-1] * 1000:7.1f} ms  failed {len(failed)}"
    )
    if failed:
        text += f" (first: {failed[0][:80]})"
    return text


def report(phase: str, samples: list[dict]) -> None:
    print(phase)
    for kind in ("save", "login"):
        print(describe(kind, [s for s in samples if s["kind"] == kind]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds without import")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/import_contention"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    csv_path = args.dir / f"import-{args.rows}.csv"
    if not csv_path.exists():
        generate(csv_path, args.rows)
    db_path = args.dir / "contention.db"
    url = f"sqlite:///{db_path}"
    admin = fresh_session(db_path)
    names = [f"worker{i}" for i in range(args.workers)]
    for name in names:
        admin.users.create(name, f"{name}@example.com", PASSWORD, role="admin")
    print(f"{args.rows:,} rows, {args.workers} worker processes, SQLite {db_path}")

    baseline, _ = run_workers(url, names, args.dir, "baseline", lambda: time.sleep(args.baseline))
    report(f"baseline ({args.baseline:.0f} s, no import)", baseline)

    def do_import():
        started = time.perf_counter()
        result = admin.csv.import_file(csv_path)
        return result, time.perf_counter() - started

    during, (result, seconds) = run_workers(url, names, args.dir, "import", do_import)
    report("during the import", during)
    print(
        f"import: {result.imported:,} rows in {seconds:.1f} s = "
        f"{result.imported / seconds:,.0f} rows/s"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
