"""``finance-tui recurring add|list|remove|run``: happy paths, one-line errors, cron."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest
from conftest import PASSWORD

from finance_tui.config import reset_settings
from finance_tui.models import AuditEvent, Record, Schedule
from finance_tui.services.users import bootstrap_admin, insert_user


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Token files go to a temporary home, never the real one."""
    for var in ("HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "home" / var.lower()))
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def boss(db_url) -> str:
    bootstrap_admin("boss", "boss@example.com", PASSWORD)
    return db_url


def add(run_cli, url: str, *options: str, user: str = "boss") -> tuple[int, str, str]:
    args = ["recurring", "add", *options, "--db", url, "--user", user]
    return run_cli(args, stdin=PASSWORD + "\n")


def test_add_list_run_remove(run_cli, boss):
    start = (date.today() - timedelta(days=14)).isoformat()
    code, out, err = add(
        run_cli, boss, "--every", "week", "--kind", "expense", "--amount", "12.50",
        "--category", "food", "--notes", "lunch", "--start", start,
    )  # fmt: skip
    assert (code, err) == (0, "")
    weekday = date.fromisoformat(start).strftime("%A")
    assert out.startswith(
        f"Added #1 weekly on {weekday} from {start} (next {start}): expense 12.50 food 'lunch'"
    )

    code, out, _ = run_cli(["recurring", "list", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert code == 0 and out.startswith(f"#1 weekly on {weekday} from {start}")

    code, out, err = run_cli(["recurring", "run", "--db", boss])  # no login: cron
    assert (code, out, err) == (0, "Created 3 recurring record(s)\n", "")
    assert Record.select().count() == 3
    assert run_cli(["recurring", "run", "--db", boss])[1] == "Created 0 recurring record(s)\n"

    code, out, _ = run_cli(
        ["recurring", "remove", "1", "--db", boss, "--user", "boss"], PASSWORD + "\n"
    )
    assert (code, out) == (0, "Removed #1 (3 record(s) it created stay)\n")
    code, out, _ = run_cli(["recurring", "list", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert out == "No recurring schedules\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--every", "month", "--day", "32"], "day: must be a day of the month from 1 to 31"),
        (["--every", "week", "--day", "someday"], "day: must be a weekday: mon, tue"),
        (["--every", "daily"], "every: must be month, week or year"),
        (["--every", "month", "--start", "2026-13-01"], "start: is not a date"),
        (["--every", "month", "--start", "2026-05-02", "--end", "2026-05-01"], "end: must not be before the start date (2026-05-02)"),
        (["--every", "month", "--category", "nowhere"], "category: unknown category 'nowhere'"),
        (["--every", "month", "--kind", "income"], "category: 'rent' is for expense records, not income"),
        (["--every", "month", "--amount", "1.005"], "amount: has more than 2 decimal places"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_changes_nothing(run_cli, boss, options, message):
    base = {"--kind": "expense", "--amount": "900", "--category": "rent"}
    for index in range(0, len(options), 2):
        base[options[index]] = options[index + 1]
    flat = [part for pair in base.items() for part in pair]
    code, out, err = add(run_cli, boss, *flat)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert Schedule.select().count() == 0


def test_only_admins_manage_schedules(run_cli, boss):
    with Record._meta.database.atomic():
        insert_user("ann", "ann@example.com", PASSWORD, "analyst")
    code, _, err = add(
        run_cli, boss, "--every", "month", "--kind", "expense", "--amount", "5",
        "--category", "rent", user="ann",
    )  # fmt: skip
    assert code == 1
    assert (
        err.strip() == "error: Permission denied: role 'analyst' may not manage recurring schedules"
    )
    assert Schedule.select().count() == 0


def test_remove_unknown_id(run_cli, boss):
    code, _, err = run_cli(
        ["recurring", "remove", "7", "--db", boss, "--user", "boss"], PASSWORD + "\n"
    )
    assert (code, err) == (1, "error: No recurring schedule with id 7\n")


def test_cron_run_as_a_separate_process(boss, admin_session_for_boss):
    """What cron runs: the installed entry point, no terminal, no login."""
    admin_session_for_boss.recurring.add(
        {"every": "month", "day": "1", "kind": "expense", "amount": "900", "category": "rent",
         "start": (date.today() - timedelta(days=40)).isoformat()},
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "finance_tui", "recurring", "run", "--db", boss],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    created = int(result.stdout.split()[1])
    assert created in (1, 2) and Record.select().count() == created
    event = AuditEvent.get(AuditEvent.action == "recurring_run")
    assert event.actor_name == "finance-tui recurring run"


@pytest.fixture
def admin_session_for_boss(boss):
    from finance_tui.session import SessionController

    return SessionController.login("boss", PASSWORD)
