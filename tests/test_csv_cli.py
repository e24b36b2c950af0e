"""``finance-tui import`` / ``export`` in-process via ``cli.main`` (and once through
``python -m finance_tui``): options, reports, exit codes, permissions, no tracebacks."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD

from finance_tui.commands.csv_cmds import format_progress
from finance_tui.config import reset_settings
from finance_tui.models import Category, Record
from finance_tui.services.users import insert_user

REPO = Path(__file__).resolve().parent.parent
HEADER = "date,kind,amount,category,notes\n"


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    for var, sub in (("HOME", ""), ("XDG_STATE_HOME", "state"), ("XDG_DATA_HOME", "data")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("FINANCE_TUI_DATABASE_URL", raising=False)
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def run(run_cli, admin, db_url):
    """``run(args, stdin=PASSWORD)`` → (exit code, stdout, stderr), on the test database."""

    def invoke(args: list[str], stdin: str = PASSWORD + "\n") -> tuple[int, str, str]:
        return run_cli([*args, "--db", db_url], stdin)

    return invoke


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_import_then_reimport(run, tmp_path):
    path = write(tmp_path, HEADER + "2026-01-01,expense,1.50,food,x\n2026-01-02,income,2,salary,\n")
    code, out, err = run(["import", str(path), "--user", "root"])
    assert (code, err) == (0, "")
    assert f"Imported 2 of 2 rows from {path} (0 already imported)" in out
    code, out, _ = run(["import", str(path), "--user", "root"])
    assert code == 0 and "Imported 0 of 2 rows" in out and "2 already imported" in out
    assert Record.select().count() == 2


def test_rejected_import_lists_every_bad_line_and_exits_1(run, tmp_path):
    path = write(
        tmp_path,
        HEADER + "2026-01-01,expense,1,food,ok\n2026-01-01,expense,-1,food,x\n"
        "2026-01-01,expense,1,Travel,x\n",
    )
    code, out, err = run(["import", str(path), "--user", "root"])
    assert (code, out) == (1, "")
    lines = err.strip().splitlines()
    assert lines[0] == "error: nothing imported: 2 of 3 rows are invalid"
    assert "  line 3: amount: must be positive (the kind says income or expense)" in lines
    assert "  line 4: category: unknown category 'Travel'" in lines
    assert any("--create-categories" in line for line in lines)
    assert "Traceback" not in err and Record.select().count() == 0


def test_options_map_date_format_delimiter_create_categories(run, tmp_path):
    path = write(tmp_path, "Tag|Wert|Art\n31/12/2025|-4.20|Snacks\n")
    code, out, err = run(
        [
            "import",
            str(path),
            "--user",
            "root",
            "--map",
            "date=Tag,amount=Wert",
            "--map",
            "category=Art",
            "--date-format",
            "%d/%m/%Y",
            "--delimiter",
            "pipe",
            "--create-categories",
        ]
    )
    assert code == 0, err
    assert "created categories: 'Snacks'" in out
    rec = Record.get()
    assert (rec.kind, rec.amount, str(rec.date)) == ("expense", 420, "2025-12-31")


def test_skip_invalid_and_dry_run(run, tmp_path):
    path = write(tmp_path, HEADER + "2026-01-01,expense,1,food,ok\n2026-01-01,expense,x,food,\n")
    code, out, _ = run(["import", str(path), "--user", "root", "--dry-run"])
    assert code == 1 and Record.select().count() == 0
    rejects = tmp_path / "bad.csv"
    code, out, err = run(
        ["import", str(path), "--user", "root", "--skip-invalid", "--rejects", str(rejects)]
    )
    assert code == 0, err
    assert "1 invalid rows skipped" in out and f"rejected rows written to {rejects}" in out
    assert list(csv.reader(rejects.open()))[1][-2:] == [
        "3",
        "amount: is not a number (use e.g. 1234.50 or 1,234.50)",
    ]
    assert Record.select().count() == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--map", "date"], "use FIELD=HEADER"),
        (["--map", "when=x"], "unknown field 'when'"),
        (["--date-format", "%Y"], "has no day"),
        (["--encoding", "nope"], "unknown encoding"),
        (["--rejects", "r.csv"], "only makes sense with --skip-invalid"),
        (["--max-errors", "0"], "at least 1"),
    ],
)
def test_bad_import_options_are_one_line_errors(run, tmp_path, args, fragment):
    path = write(tmp_path, HEADER)
    code, out, err = run(["import", str(path), "--user", "root", *args])
    assert code == 1 and out == ""
    assert err.startswith("error: ") and fragment in err and len(err.strip().splitlines()) == 1


def test_import_needs_an_admin(run, tmp_path):
    with Category._meta.database.atomic():
        insert_user("ana", "ana@example.com", PASSWORD, "analyst")
    path = write(tmp_path, HEADER + "2026-01-01,expense,1,food,ok\n")
    code, _, err = run(["import", str(path), "--user", "ana"])
    assert code == 1 and "may not import CSV" in err and Record.select().count() == 0
    code, _, err = run(["import", str(path)])
    assert code == 1 and "not logged in" in err
    code, _, err = run(["import", "-", "--user", "root"])
    assert code == 1 and "standard input" in err
    code, _, err = run(["import", str(tmp_path / "missing.csv"), "--user", "root"])
    assert code == 1 and "no such file" in err


def test_export_to_stdout_and_file_with_filters(run, tmp_path):
    path = write(
        tmp_path,
        HEADER + "2026-01-01,expense,1,food,lunch\n2026-01-02,expense,20,rent,flat\n"
        "2026-01-03,income,300,salary,pay\n",
    )
    run(["import", str(path), "--user", "root"])
    with Category._meta.database.atomic():
        insert_user("ana", "ana@example.com", PASSWORD, "analyst")
    code, out, err = run(["export", "--user", "ana", "--kind", "expense", "--sort", "+amount"])
    assert code == 0 and err.strip() == "Exported 2 records"
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["amount"], r["category"]) for r in rows] == [("1.00", "food"), ("20.00", "rent")]
    target = tmp_path / "out.csv"
    code, out, _ = run(["export", str(target), "--user", "ana", "--text", "PAY", "--min", "100"])
    assert code == 0 and out.strip() == f"Exported 1 record to {target}"
    assert "300.00,salary,pay" in target.read_text()
    code, _, err = run(["export", str(target), "--user", "ana"])
    assert code == 1 and "--force" in err
    code, _, err = run(["export", str(target), "--user", "ana", "--force", "--include-deleted"])
    assert code == 1 and "may not view deleted records" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--kind", "gift"], "kind: must be income or expense"),
        (["--category", "nosuch"], "unknown category 'nosuch'"),
        (["--from", "2026-02-30"], "date_from"),
        (["--min", "-1"], "amount_min"),
        (["--sort", "colour"], "unknown sort field"),
    ],
)
def test_bad_export_filters(run, args, fragment):
    code, out, err = run(["export", "--user", "root", *args])
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and fragment in err


def test_viewer_cannot_export(run, tmp_path):
    with Category._meta.database.atomic():
        insert_user("vic", "vic@example.com", PASSWORD, "viewer")
    code, _, err = run(["export", str(tmp_path / "x.csv"), "--user", "vic"])
    assert code == 1 and "may not export CSV" in err and not (tmp_path / "x.csv").exists()


def test_progress_line_text():
    assert format_progress("importing", 50_000, 200_000, 2.0) == (
        "importing 50,000 rows  25,000 rows/s  ETA 0:06"
    )
    assert format_progress("exporting", 10, None, 0.0) == "exporting 10 rows  0 rows/s"


def test_through_python_m_with_stdin_csv_and_stored_login(admin, db_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path / "h")}
    env["XDG_STATE_HOME"] = str(tmp_path / "h" / "state")
    base = [sys.executable, "-m", "finance_tui", "--db", db_url]
    login = subprocess.run(
        [*base, "login", "--user", "root"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert login.returncode == 0, login.stderr
    data = HEADER + "2026-01-01,expense,1,food,from stdin\nbad,row\n"
    proc = subprocess.run(
        [*base, "import", "-"], input=data, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "line 3: " in proc.stderr
    proc = subprocess.run(
        [*base, "import", "-"],
        input=data[: data.index("bad")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0 and "Imported 1 of 1 rows from stdin" in proc.stdout
