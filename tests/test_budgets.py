"""Budgets: changes from a month on, spent from the summary, permissions, audit, errors."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from conftest import PASSWORD

from finance_tui.db import is_postgres
from finance_tui.domain.values import DateError, parse_month
from finance_tui.errors import NotFound, PermissionDenied, ValidationError
from finance_tui.migrations import latest_version, schema_version
from finance_tui.models import AuditEvent, Budget, Category, database
from finance_tui.services import budgets as budget_module

TODAY = date(2026, 11, 25)


def spend(admin, amount: str, day: str, category: str = "food", kind: str = "expense") -> None:
    admin.records.create({"kind": kind, "amount": amount, "category": category, "date": day})


def lines(session, month: str) -> dict[str, tuple[Decimal, Decimal, Decimal, bool]]:
    return {
        line.category: (line.budget, line.spent, line.left, line.over)
        for line in session.budgets.for_month(month, today=TODAY)
    }


def test_migration_creates_the_budget_table(db):
    assert schema_version(db) == latest_version()
    assert db.table_exists("budget")


def test_parse_month():
    assert parse_month("2026-03") == date(2026, 3, 1)
    assert parse_month(" 2026-3 ") == date(2026, 3, 1)
    assert parse_month(date(2026, 3, 17)) == date(2026, 3, 1)
    for bad in ("2026-13", "2026", "March", "2026-03-01", "", "1800-01"):
        with pytest.raises(DateError):
            parse_month(bad)


def test_spent_left_and_over_for_a_month(sessions):
    admin, viewer = sessions["admin"], sessions["viewer"]
    spend(admin, "120.50", "2026-11-03")
    spend(admin, "30.00", "2026-11-20")
    spend(admin, "999.00", "2026-10-31")  # another month
    spend(admin, "70.00", "2026-11-04", category="investment", kind="income")  # not spending
    admin.budgets.set("food", "100", "2026-11", today=TODAY)
    admin.budgets.set("Investment", "1,000.00", "2026-11", today=TODAY)
    assert lines(viewer, "2026-11") == {
        "food": (Decimal("100.00"), Decimal("150.50"), Decimal("-50.50"), True),
        "investment": (Decimal("1000.00"), Decimal("0.00"), Decimal("1000.00"), False),
    }
    line = viewer.budgets.for_month("2026-11", today=TODAY)[0]
    assert line.used_pct == 150 and line.since == date(2026, 11, 1)
    assert lines(viewer, "2026-10") == {}  # before the budget started
    assert [line.category for line in viewer.budgets.for_month(today=TODAY)] == [
        "food",
        "investment",
    ]


def test_a_change_applies_from_its_month_on(admin):
    admin.budgets.set("food", "100", "2026-01")
    admin.budgets.set("rent", "900", "2026-01")
    admin.budgets.set("food", "200", "2026-04")
    assert lines(admin, "2025-12") == {}
    assert lines(admin, "2026-03")["food"][0] == Decimal("100.00")
    assert lines(admin, "2026-04")["food"][0] == Decimal("200.00")
    assert lines(admin, "2030-01")["food"][0] == Decimal("200.00")
    # An earlier change replaces the ones planned after it.
    admin.budgets.set("food", "150", "2026-02")
    assert lines(admin, "2026-06")["food"][0] == Decimal("150.00")
    assert lines(admin, "2026-01")["food"][0] == Decimal("100.00")
    assert Budget.select().where(Budget.from_month >= date(2026, 2, 1)).count() == 1


def test_set_defaults_to_this_month(admin):
    line = admin.budgets.set("food", "40", today=TODAY)
    assert line.month == line.since == date(2026, 11, 1)
    assert line.budget == Decimal("40.00") and line.spent == Decimal("0.00")


def test_remove_from_a_month_keeps_the_months_before(admin):
    admin.budgets.set("food", "100", "2026-01")
    admin.budgets.set("food", "200", "2026-03")
    assert admin.budgets.remove("FOOD", "2026-03") == ("food", date(2026, 3, 1))
    assert lines(admin, "2026-02")["food"][0] == Decimal("100.00")
    assert lines(admin, "2026-03") == {} and lines(admin, "2027-03") == {}
    assert admin.budgets.remove("food") == ("food", None)
    assert lines(admin, "2026-02") == {} and Budget.select().count() == 0


def test_removing_nothing_is_an_error_that_changes_nothing(admin, counts):
    admin.budgets.set("food", "100", "2026-05")
    admin.budgets.remove("food", "2026-07")
    before = counts()
    with pytest.raises(NotFound, match="'food' has no budget from 2026-08 on; nothing"):
        admin.budgets.remove("food", "2026-08")
    with pytest.raises(NotFound, match="'rent' has no budget; nothing was changed"):
        admin.budgets.remove("rent")
    with pytest.raises(ValidationError, match="no category named 'nope'"):
        admin.budgets.remove("nope")
    with pytest.raises(ValidationError, match="is not a month"):
        admin.budgets.remove("food", "May")
    assert counts() == before
    assert lines(admin, "2026-06")["food"][0] == Decimal("100.00")


@pytest.mark.parametrize(
    ("category", "amount", "month", "errors"),
    [
        ("nope", "10", "2026-11", {"category": "no category named 'nope'"}),
        (
            "salary",
            "10",
            "2026-11",
            {"category": "'salary' is an income category; budgets are for expenses"},
        ),
        ("food", "-5", "2026-11", {"amount": "must be greater than zero"}),
        ("food", "0", "2026-11", {"amount": "must be greater than zero"}),
        ("food", "0.00", "2026-11", {"amount": "must be greater than zero"}),
        ("food", "ten", "2026-11", {"amount": "is not a number (use e.g. 1234.50 or 1,234.50)"}),
        ("food", "1.234", "2026-11", {"amount": "has more than 2 decimal places"}),
        ("food", "10", "2026-13", {"month": "is not a month (use YYYY-MM, e.g. 2026-11)"}),
        (
            "salary",
            "-1",
            "11/2026",
            {
                "category": "'salary' is an income category; budgets are for expenses",
                "amount": "must be greater than zero",
                "month": "is not a month (use YYYY-MM, e.g. 2026-11)",
            },
        ),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(admin, counts, category, amount, month, errors):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        admin.budgets.set(category, amount, month)
    assert caught.value.fields == errors
    assert counts() == before


def test_archived_category_is_refused(admin):
    food = next(c for c in admin.categories.list() if c.name == "food")
    admin.categories.archive(food.id)
    with pytest.raises(ValidationError, match="'food' is archived"):
        admin.budgets.set("food", "10", "2026-11")


def test_only_admins_set_and_remove_everyone_sees(sessions, counts):
    sessions["admin"].budgets.set("food", "10", "2026-11")
    for role in ("viewer", "analyst"):
        session = sessions[role]
        assert lines(session, "2026-11")["food"][0] == Decimal("10.00")
        assert session.budgets.history(3, today=TODAY)[-1].budget == Decimal("10.00")
        before = counts()
        with pytest.raises(PermissionDenied, match="may not set or remove budgets"):
            session.budgets.set("food", "20", "2026-11")
        with pytest.raises(PermissionDenied):
            session.budgets.remove("food")
        after = counts()
        assert after.pop("audit_event") == before.pop("audit_event") + 2
        assert after == before


def test_set_and_remove_are_audited_with_before_and_after(admin):
    admin.budgets.set("food", "100", "2026-01")
    admin.budgets.set("food", "250.5", "2026-03")
    admin.budgets.remove("food", "2026-05")
    events = list(
        AuditEvent.select()
        .where(AuditEvent.action.in_(["budget_set", "budget_remove"]))
        .order_by(AuditEvent.id)
    )
    assert [e.action for e in events] == ["budget_set", "budget_set", "budget_remove"]
    second, removal = events[1], events[2]
    assert json.loads(second.before) == {
        "category": "food",
        "budgets": [{"from": "2026-01", "amount": "100.00"}],
    }
    assert json.loads(second.after)["budgets"] == [
        {"from": "2026-01", "amount": "100.00"},
        {"from": "2026-03", "amount": "250.50"},
    ]
    assert json.loads(removal.after)["budgets"][-1] == {"from": "2026-05", "amount": "0.00"}
    assert removal.entity_type == "category" and removal.actor_name == "root"


def test_history_is_budget_against_actual_by_month(admin):
    admin.budgets.set("food", "100", "2026-09")
    admin.budgets.set("rent", "500", "2026-10")
    admin.budgets.remove("food", "2026-11")
    spend(admin, "80", "2026-09-02")
    spend(admin, "130", "2026-10-02")
    spend(admin, "520", "2026-10-05", category="rent")
    spend(admin, "40", "2026-11-02")  # food has no budget in November: not counted
    spend(admin, "45", "2026-11-03", category="other")  # never budgeted
    history = admin.budgets.history(4, today=TODAY)
    assert [(m.month, m.budget, m.spent, m.over) for m in history] == [
        (date(2026, 8, 1), Decimal("0.00"), Decimal("0.00"), False),
        (date(2026, 9, 1), Decimal("100.00"), Decimal("80.00"), False),
        (date(2026, 10, 1), Decimal("600.00"), Decimal("650.00"), True),
        (date(2026, 11, 1), Decimal("500.00"), Decimal("0.00"), False),
    ]
    with pytest.raises(ValidationError, match="months: must be between 1 and 60"):
        admin.budgets.history(0)


def test_deleted_records_do_not_count(admin):
    admin.budgets.set("food", "100", "2026-11")
    record = admin.records.create(
        {"kind": "expense", "amount": "60", "category": "food", "date": "2026-11-02"}
    )
    assert lines(admin, "2026-11")["food"][1] == Decimal("60.00")
    admin.records.delete(record.id, record.version)
    assert lines(admin, "2026-11")["food"][1] == Decimal("0.00")


def _plan(sql: str, params: tuple) -> str:
    prefix = "EXPLAIN " if is_postgres() else "EXPLAIN QUERY PLAN "
    rows = database.execute_sql(prefix + sql, params).fetchall()
    return " ".join(str(part) for row in rows for part in row)


def test_spent_reads_the_summary_index_never_the_records(admin):
    """A month's spending is a lookup in monthly_total's (month, category, kind) index."""
    month = date(2026, 11, 1)
    sql, params = budget_module.spent_query(month, month, [1, 2]).sql()
    assert '"record"' not in sql
    plan = _plan(sql, tuple(params)).lower()
    assert "record" not in plan.replace("monthly_total", "")
    if not is_postgres():  # PostgreSQL may seq-scan a tiny table; SQLite plans are stable
        assert "search" in plan and "using index monthly_total_" in plan
        assert "scan" not in plan


# ---- command line ------------------------------------------------------------------
def cli(run_cli, db_url, user: str, *args: str) -> tuple[int, str, str]:
    return run_cli(["budget", *args, "--user", user, "--db", db_url], PASSWORD + "\n")


def test_cli_set_list_remove(run_cli, db_url, admin, make_user):
    make_user("viewer", name="vera")
    spend(admin, "150.50", "2026-11-03")
    code, out, err = cli(run_cli, db_url, "root", "set", "food", "100", "--from", "2026-11")
    assert (code, err) == (0, "")
    assert out == "Budget of food: 100.00 USD a month from 2026-11 on\n"
    code, out, err = cli(run_cli, db_url, "vera", "list", "--month", "2026-11")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Budgets for 2026-11 (amounts in USD)",
        "Category                     Budget          Spent           Left   Used",
        "food                         100.00         150.50         -50.50   150%  OVER",
    ]
    code, out, _ = cli(run_cli, db_url, "vera", "list", "--month", "2026-10")
    assert (code, out) == (0, "No budgets for 2026-10\n")
    code, out, err = cli(run_cli, db_url, "root", "remove", "food", "--from", "2026-12")
    assert (code, out, err) == (0, "Removed the budget of food from 2026-12 on\n", "")
    code, out, _ = cli(run_cli, db_url, "root", "remove", "food")
    assert (code, out) == (0, "Removed the budget of food\n")
    assert Budget.select().count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "salary", "10"), "category: 'salary' is an income category"),
        (("set", "nope", "10"), "category: no category named 'nope'"),
        (("set", "food", "-10"), "amount: must be greater than zero"),
        (("set", "food", "1O"), "amount: is not a number"),
        (("set", "food", "10", "--from", "2026-1-1"), "month: is not a month (use YYYY-MM"),
        (("list", "--month", "nov"), "month: is not a month"),
        (("remove", "food"), "'food' has no budget; nothing was changed"),
    ],
)
def test_cli_bad_input_is_one_line_and_changes_nothing(
    run_cli, db_url, admin, counts, args, message
):
    before = counts()
    code, out, err = cli(run_cli, db_url, "root", *args)
    assert code == 1 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    after = counts()
    for logged in ("session", "audit_event"):  # the login itself
        after.pop(logged), before.pop(logged)
    assert after == before


def test_cli_viewer_may_not_set(run_cli, db_url, make_user):
    make_user("viewer", name="vera")
    code, _, err = cli(run_cli, db_url, "vera", "set", "food", "10")
    assert code == 1 and "Permission denied: role 'viewer' may not set or remove budgets" in err
    assert Budget.select().count() == 0


def test_cli_escapes_hostile_category_names(run_cli, db_url, admin):
    evil = "[b]x\u202e\x1b[2J"  # stored before names were checked
    Category.create(name=evil, name_lower=evil.lower(), kind="expense")
    admin.budgets.set(evil, "5")
    code, out, _ = cli(run_cli, db_url, "root", "list")
    assert code == 0 and "\u202e" not in out and "[b]x\\u202e\\x1b[2J " in out
