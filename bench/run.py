"""Every performance benchmark of the 1,000,000-record issue, one command, one table.

    python bench/run.py [--records 1000000] [--dir /tmp/finance-bench]
                        [--pg postgresql://postgres@127.0.0.1:55432/finance_bench | --no-pg]
                        [--fresh] [--repeat 5] [--skip-startup] [--skip-memory]

For SQLite (a file in --dir) and PostgreSQL (--pg, or $FINANCE_TUI_BENCH_PG_URL; the
database is emptied when (re)generated: use a scratch one) it

1. generates the data with ``finance-tui demo --records N`` (timed) unless the database
   already holds N records (reused; --fresh forces it);
2. times the dashboard for every period with the summary path (what the app uses) and
   with plain SQL over the records table (``compute_plain``), in the same run;
3. times the first page of the records screen for a set of filter/sort changes through
   the query service, against the plain SQL page (LIKE for text, no search index);
   the total count (which the screen fetches after the page) and the last page;
4. times saving one record (validation, audit, summaries) through the session;
5. start-up (bench/startup.py) and peak memory (bench/memory.py), when the TUI exists;
6. what a person feels in a real terminal (bench/felt.py): key -> painted screen at 1k
   and at N records, printed as its own table after the service-level one.

Results are medians (after one warm-up run). Nothing here fails: the table says
pass/fail per target. Benchmarks are not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FINANCE_TUI_BCRYPT_ROUNDS", "4")  # logins in the bench, not security

from finance_tui.db import is_postgres  # noqa: E402
from finance_tui.domain.dto import RecordRow  # noqa: E402
from finance_tui.domain.filters import RecordFilter  # noqa: E402
from finance_tui.domain.periods import resolve_period  # noqa: E402
from finance_tui.models import Category, Record, database  # noqa: E402
from finance_tui.money import from_minor  # noqa: E402
from finance_tui.services.dashboard import compute_fast, compute_plain  # noqa: E402
from finance_tui.services.query import run_count, run_query, run_seek  # noqa: E402
from finance_tui.startup import connect  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:55432/finance_bench"
DEMO_ADMIN = ("demo.admin@gmail.com", "demo@admin2026")


@dataclass
class Row:
    engine: str
    measure: str
    value: float | None  # seconds, or bytes for memory
    baseline: float | None = None
    target: str = ""
    passed: bool | None = None
    unit: str = "ms"
    note: str = ""

    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  {row.engine:<10} {row.measure:<34} {fmt(row.value, row.unit):>10}", flush=True)
        return row

    def table(self) -> str:
        head = ("engine", "measure", "value", "baseline", "ratio", "target", "result")
        lines = [head]
        for r in self.rows:
            ratio = r.ratio()
            result = "-" if r.passed is None else ("pass" if r.passed else "FAIL")
            lines.append(
                (
                    r.engine,
                    r.measure,
                    fmt(r.value, r.unit),
                    fmt(r.baseline, r.unit) if r.baseline else "-",
                    f"{ratio:.3f}x" if ratio is not None else "-",
                    r.target,
                    result + (f" ({r.note})" if r.note else ""),
                )
            )
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
        out = []
        for n, line in enumerate(lines):
            out.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value / 1e6:.1f} MB"
    return f"{value:.3g}"


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: caches, prepared plans
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---- data ---------------------------------------------------------------------------
def record_count(url: str) -> int:
    try:
        connect(url)
        return Record.select().count()
    except Exception:
        return 0
    finally:
        if not database.is_closed():
            database.close()


def wipe(url: str, path: Path | None) -> None:
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    db = connect(url, migrate=False)
    db.execute_sql("DROP SCHEMA public CASCADE")
    db.execute_sql("CREATE SCHEMA public")
    db.close()


def generate(url: str, records: int) -> float:
    """Wall time of ``finance-tui demo --records N`` in a fresh process."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "finance_tui", "demo", "--db", url, "--records", str(records)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


# ---- plain SQL baselines for the records screen ---------------------------------------
def plain_page_sql(flt: RecordFilter, *, offset: int = 0, count: bool = False):
    """The straightforward SQL for a page (or its count): no search index, no tricks."""
    mark = "%s" if is_postgres() else "?"
    like = "ILIKE" if is_postgres() else "LIKE"
    where, params = ["r.is_deleted = " + mark], [False if is_postgres() else 0]
    if flt.kind:
        where.append("r.kind = " + mark)
        params.append(flt.kind)
    if flt.categories:
        where.append(f"r.category_id IN ({', '.join([mark] * len(flt.categories))})")
        params.extend(flt.categories)
    if flt.amount_min is not None:
        where.append("r.amount >= " + mark)
        params.append(int(flt.amount_min * 100))
    if flt.amount_max is not None:
        where.append("r.amount <= " + mark)
        params.append(int(flt.amount_max * 100))
    if flt.date_from:
        where.append("r.date >= " + mark)
        params.append(flt.date_from if is_postgres() else flt.date_from.isoformat())
    if flt.date_to:
        where.append("r.date <= " + mark)
        params.append(flt.date_to if is_postgres() else flt.date_to.isoformat())
    if flt.text:
        where.append(f"(r.notes {like} {mark} OR c.name_lower {like} {mark})")
        params.extend([f"%{flt.text}%"] * 2)
    sql_where = " AND ".join(where)
    if count:
        return (
            f"SELECT COUNT(*) FROM record r JOIN category c ON c.id = r.category_id "
            f"WHERE {sql_where}",
            params,
        )
    column = {
        "date": "r.date",
        "amount": "r.amount",
        "category": "c.name_lower",
        "kind": "r.kind",
        "created_at": "r.created_at",
    }[flt.sort]
    keys = [column, "r.id"] if flt.sort == "created_at" else [column, "r.created_at", "r.id"]
    direction = " DESC" if flt.descending else " ASC"
    order = ", ".join(k + direction for k in keys)
    sql = (
        "SELECT r.id, r.kind, r.amount, r.category_id, c.name, r.date, r.notes, "
        "cu.username, uu.username, r.created_at, r.updated_at, r.version, r.is_deleted, "
        "r.deleted_at, du.username "
        "FROM record r JOIN category c ON c.id = r.category_id "
        'LEFT JOIN "user" cu ON cu.id = r.created_by_id '
        'LEFT JOIN "user" uu ON uu.id = r.updated_by_id '
        'LEFT JOIN "user" du ON du.id = r.deleted_by_id '
        f"WHERE {sql_where} ORDER BY {order} LIMIT {flt.limit} OFFSET {offset}"
    )
    return sql, params


def _stamp(value):
    return value if value is None or isinstance(value, datetime) else datetime.fromisoformat(value)


def run_plain(sql_params) -> list:
    """Execute and build the same RecordRow objects the service returns."""
    sql, params = sql_params
    rows = database.execute_sql(sql, params).fetchall()
    if rows and len(rows[0]) == 1:
        return rows  # a count
    return [
        RecordRow(
            id=r[0] if isinstance(r[0], UUID) else UUID(r[0]),
            kind=r[1],
            amount=from_minor(r[2]),
            category_id=r[3],
            category=r[4],
            date=r[5] if isinstance(r[5], date) else date.fromisoformat(r[5]),
            notes=r[6],
            created_by=r[7],
            updated_by=r[8],
            created_at=_stamp(r[9]),
            updated_at=_stamp(r[10]),
            version=r[11],
            is_deleted=bool(r[12]),
            deleted_at=_stamp(r[13]),
            deleted_by=r[14],
        )
        for r in rows
    ]


def screen_cases(today: date) -> dict[str, RecordFilter]:
    ids = {c.name_lower: c.id for c in Category.select()}
    month_ago = today - timedelta(days=30)
    return {
        "page: default (date desc)": RecordFilter(),
        "page: sort amount asc": RecordFilter(sort="amount", descending=False),
        "page: sort category asc": RecordFilter(sort="category", descending=False),
        "page: sort kind desc": RecordFilter(sort="kind"),
        "page: sort created_at desc": RecordFilter(sort="created_at"),
        "page: kind income, date asc": RecordFilter(kind="income", descending=False),
        "page: category salary": RecordFilter(categories=(ids["salary"],)),
        "page: category food, amount": RecordFilter(categories=(ids["food"],), sort="amount"),
        "page: amount 500-1000": RecordFilter(amount_min=Decimal(500), amount_max=Decimal(1000)),
        "page: last 30 days by amount": RecordFilter(date_from=month_ago, sort="amount"),
        "page: text 'x' (short)": RecordFilter(text="x"),
        "page: text 'lidl'": RecordFilter(text="lidl"),
        "page: text 'crypto' (rare)": RecordFilter(text="crypto"),
        "page: text 'no such words'": RecordFilter(text="no such words"),
        "page: text 'coffee' + amount": RecordFilter(text="coffee", amount_min=Decimal(50)),
    }


# ---- measurements ---------------------------------------------------------------------
def bench_engine(name: str, url: str, args, report: Report, path: Path | None) -> None:
    print(f"\n== {name}: {url}", flush=True)
    have = record_count(url)
    if args.fresh or have < args.records:
        wipe(url, path)
        took = generate(url, args.records)
        report.add(
            Row(name, f"demo --records {args.records:,}", took, None, "<= 20 s", took <= 20, "s")
        )
    else:
        report.add(Row(name, f"demo --records {args.records:,}", None, note="reused data"))
    connect(url)
    database.execute_sql("ANALYZE")
    today = date.today()
    repeat, plain_repeat = args.repeat, max(1, args.repeat // 2)

    periods = [
        ("all", None, None),
        ("this_month", None, None),
        ("last_month", None, None),
        ("last_30_days", None, None),
        ("ytd", None, None),
        ("custom", today - timedelta(days=3652), today),  # a 10-year series
        ("custom", date(today.year - 1, 3, 15), date(today.year, 2, 14)),
    ]
    for period, date_from, date_to in periods:
        resolved = resolve_period(period, today, date_from, date_to)
        assert compute_fast(today, resolved) == compute_plain(today, resolved)
        fast = median_time(lambda r=resolved: compute_fast(today, r), repeat)
        plain = median_time(lambda r=resolved: compute_plain(today, r), plain_repeat)
        label = period if period != "custom" else f"custom {resolved[0]}..{resolved[1]}"
        report.add(
            Row(
                name,
                f"dashboard {label}",
                fast,
                plain,
                "<=50ms, <=0.1x",
                fast <= 0.050 and fast <= plain / 10,
            )
        )

    for label, flt in screen_cases(today).items():
        service = [r.id for r in run_query(flt, with_total=False).rows]
        same = service == [row.id for row in run_plain(plain_page_sql(flt))]
        fast = median_time(lambda f=flt: run_query(f, with_total=False), repeat)
        plain = median_time(lambda f=flt: run_plain(plain_page_sql(f)), plain_repeat)
        report.add(
            Row(
                name,
                label,
                fast,
                plain,
                "<=100ms, <=1.2x",
                fast <= 0.100 and fast <= plain * 1.2 and same,
                note="" if same else "rows differ from plain SQL!",
            )
        )

    for label, flt in (
        ("count: text 'lidl'", RecordFilter(text="lidl")),
        ("count: text 'x'", RecordFilter(text="x")),
        ("count: all live records", RecordFilter()),
    ):
        fast = median_time(lambda f=flt: run_count(f), repeat)
        plain = median_time(lambda f=flt: run_plain(plain_page_sql(f, count=True)), plain_repeat)
        report.add(Row(name, label, fast, plain, "after page", None))

    flt = RecordFilter()
    total = run_count(flt)
    fast = median_time(lambda: run_seek(flt, last=True), repeat)
    plain = median_time(lambda: run_plain(plain_page_sql(flt, offset=total - 50)), plain_repeat)
    report.add(
        Row(
            name,
            "last page (seek vs OFFSET)",
            fast,
            plain,
            "<=100ms, <=1.2x",
            fast <= 0.100 and fast <= plain * 1.2,
        )
    )

    from finance_tui.session import SessionController

    session = SessionController.login(*DEMO_ADMIN)
    counter = iter(range(10**6))

    def save() -> None:
        n = next(counter)
        session.records.create(
            {
                "kind": "expense",
                "amount": f"{12 + n % 50}.34",
                "category": "food",
                "date": (today - timedelta(days=n % 40)).isoformat(),
                "notes": f"bench lunch {n}",
            }
        )

    took = median_time(save, max(repeat * 4, 20))
    target_ok = took <= 0.020 if name == "sqlite" else None
    report.add(Row(name, "save one record", took, None, "<=20ms (SQLite)", target_ok))
    database.close()


def bench_tui(args, report: Report, sqlite_url: str, small_url: str) -> None:
    app = ROOT / "finance_tui" / "app.py"
    if not app.exists():
        report.add(Row("tui", "start-up / memory", None, note="not measured: no TUI yet"))
        return
    if not args.skip_startup:
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "startup.py"), "--db", sqlite_url],
            capture_output=True,
            text=True,
        )
        values = _parse(out.stdout)
        if "app" in values and "bare" in values:
            app_s, bare = values["app"], values["bare"]
            report.add(
                Row(
                    "tui",
                    "start-up to login screen",
                    app_s,
                    bare,
                    "<=1.25x bare",
                    app_s <= 1.25 * bare,
                )
            )
        else:
            report.add(
                Row(
                    "tui",
                    "start-up to login screen",
                    None,
                    note="failed: " + (out.stderr.strip().splitlines() or ["?"])[-1],
                )
            )
    if not args.skip_memory:
        rss = {}
        for label, url in (("1k", small_url), ("1M", sqlite_url)):
            out = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "memory.py"), "--db", url],
                capture_output=True,
                text=True,
            )
            rss[label] = _parse(out.stdout).get("peak_rss")
            if rss[label] is None:
                err = (out.stderr.strip().splitlines() or ["?"])[-1]
                report.add(Row("tui", f"peak RSS {label}", None, note="failed: " + err))
                return
        big, small = rss["1M"], rss["1k"]
        report.add(
            Row(
                "tui",
                "peak RSS 1M (vs 1k), last page",
                big,
                small,
                "<= 1k + 20 MB",
                big <= small + 20e6,
                "MB",
            )
        )


def _parse(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        try:
            values[key.strip()] = float(value)
        except ValueError:
            continue
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/finance-bench"))
    parser.add_argument("--pg", default=os.environ.get("FINANCE_TUI_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="regenerate the data")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-tui", action="store_true", help="skip start-up and memory")
    parser.add_argument("--skip-felt", action="store_true", help="skip bench/felt.py")
    parser.add_argument("--felt-runs", type=int, default=4)
    args = parser.parse_args()

    args.dir.mkdir(parents=True, exist_ok=True)
    report = Report()
    path = args.dir / f"bench-{args.records}.db"
    sqlite_url = f"sqlite:///{path}"
    bench_engine("sqlite", sqlite_url, args, report, path)
    if not args.no_pg:
        try:
            connect(args.pg, migrate=False).close()
        except Exception as exc:
            report.add(Row("postgresql", "all", None, note=f"not measured: {exc}"))
        else:
            bench_engine("postgresql", args.pg, args, report, None)
    if not args.skip_tui:
        small = args.dir / "bench-1000.db"
        small_url = f"sqlite:///{small}"
        if record_count(small_url) < 1000:
            wipe(small_url, small)
            generate(small_url, 1000)
        bench_tui(args, report, sqlite_url, small_url)

    print("\n" + report.table())
    results_file = args.dir / "results.txt"
    results_file.write_text(report.table() + "\n")
    print(
        f"\n(also written to {results_file}; python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})"
    )
    if not args.skip_felt:
        print("\nkey -> painted screen in tmux (bench/felt.py):\n", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "felt.py"),
                f"--sizes=1000,{args.records}",
                f"--runs={args.felt_runs}",
                f"--work={args.dir}",
                "--prefix=bench",
            ],
            check=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
