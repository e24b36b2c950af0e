"""Recurring records: the period rules, schedules, the catch-up run, never twice."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

import pytest

from finance_tui.domain import recurrence
from finance_tui.errors import NotFound, PermissionDenied, ValidationError
from finance_tui.migrations import latest_version, schema_version
from finance_tui.models import AuditEvent, Category, MonthlyTotal, Record, Schedule, ScheduleRun
from finance_tui.services.recurring import _create_period, run_due
from finance_tui.session import run_recurring_unattended

RENT = {"every": "month", "day": "31", "kind": "expense", "amount": "1,250.00", "category": "rent"}


def all_periods(every: str, day: int | None, start: date, until: date, end: date | None = None):
    first = recurrence.first_due(every, day, start, end)
    return list(recurrence.periods(every, day, start, end, first, until))


# ---- the rules ----------------------------------------------------------------------
def test_month_end_is_the_last_day_of_short_months():
    got = all_periods("month", 31, date(2024, 1, 1), date(2024, 6, 30))
    assert got == [
        date(2024, 1, 31),
        date(2024, 2, 29),  # leap year
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
    ]
    assert all_periods("month", 30, date(2025, 1, 31), date(2025, 3, 31)) == [
        date(2025, 2, 28),  # 30 January is before the start
        date(2025, 3, 30),
    ]


def test_weekly_on_a_weekday_and_yearly_on_the_start_day():
    # 2026-12-01 is a Tuesday; Friday = 5.
    assert all_periods("week", 5, date(2026, 12, 1), date(2026, 12, 20)) == [
        date(2026, 12, 4),
        date(2026, 12, 11),
        date(2026, 12, 18),
    ]
    assert all_periods("year", None, date(2024, 2, 29), date(2028, 3, 1)) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_end_date_is_respected_by_the_rule():
    got = all_periods("month", 15, date(2026, 1, 1), date(2026, 12, 31), end=date(2026, 3, 15))
    assert got == [date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)]
    assert recurrence.next_after("month", 15, date(2026, 1, 1), date(2026, 3, 15), got[-1]) is None


@pytest.mark.parametrize(
    ("every", "day", "expected"),
    [("week", "fri", 5), ("week", "Monday", 1), ("week", "7", 7), ("month", "31", 31)],
)
def test_parse_day(every, day, expected):
    assert recurrence.parse_day(every, day, date(2026, 12, 1)) == expected


def test_parse_day_defaults_to_the_start_date():
    start = date(2026, 12, 1)  # a Tuesday
    assert recurrence.parse_day("month", None, start) == 1
    assert recurrence.parse_day("week", "", start) == 2
    assert recurrence.parse_day("year", None, start) is None


# ---- schedules ----------------------------------------------------------------------
def test_migration_is_in_place(db):
    assert schema_version(db) == latest_version()
    assert db.table_exists("schedule") and db.table_exists("schedule_run")


def test_catch_up_across_missed_periods_then_nothing_twice(sessions):
    admin = sessions["admin"]
    row = admin.recurring.add({**RENT, "start": "2026-01-01"}, today=date(2026, 1, 1))
    assert (row.rule, row.next_due, row.amount) == (
        "monthly on day 31",
        date(2026, 1, 31),
        Decimal("1250.00"),
    )

    report = sessions["viewer"].recurring.run(date(2026, 5, 15))  # any role may trigger it
    assert report.created == 4 and report.skipped == ()
    records = list(Record.select().order_by(Record.date))
    assert [r.date for r in records] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert {r.amount for r in records} == {125000}
    assert {str(r.created_by_id) for r in records} == {str(admin.principal.user_id)}
    links = {run.period: run.record_id for run in ScheduleRun.select()}
    assert links == {r.date: r.id for r in records}
    assert admin.recurring.schedule_of(records[0].id) == row.id

    assert sessions["analyst"].recurring.run(date(2026, 5, 15)).created == 0
    assert Record.select().count() == 4
    assert admin.recurring.list()[0].next_due == date(2026, 5, 31)
    assert admin.recurring.run(date(2026, 5, 31)).created == 1


def test_run_keeps_summaries_and_audit(sessions):
    admin = sessions["admin"]
    admin.recurring.add(
        {**RENT, "every": "week", "day": "mon", "start": "2026-11-01", "notes": "rent"},
        today=date(2026, 11, 1),
    )
    run = sessions["viewer"].recurring.run(date(2026, 11, 17))
    assert run.created == 3  # Mondays 2, 9 and 16 November
    totals = {(t.month, t.kind): (t.count, t.total) for t in MonthlyTotal.select()}
    assert totals == {(date(2026, 11, 1), "expense"): (run.created, 125000 * run.created)}
    created = list(AuditEvent.select().where(AuditEvent.action == "record_create_scheduled"))
    assert len(created) == run.created
    assert created[0].actor_id is None and created[0].actor_name.startswith("schedule #")
    assert '"triggered_by": "viewer' in created[0].after and '"owner": "root"' in created[0].after
    summary = AuditEvent.get(AuditEvent.action == "recurring_run")
    assert summary.actor_name.startswith("viewer") and f'"created": {run.created}' in summary.after
    # Searchable like any record (the search index follows every insert).
    assert admin.records.count(admin.record_filter({"text": "rent"})) == run.created


def test_end_date_is_respected_by_the_run(admin):
    admin.recurring.add(
        {**RENT, "day": "1", "start": "2026-01-01", "end": "2026-03-01"}, today=date(2026, 1, 1)
    )
    assert admin.recurring.run(date(2026, 12, 31)).created == 3
    assert admin.recurring.list()[0].next_due is None
    assert admin.recurring.run(date(2027, 12, 31)).created == 0


def test_a_deleted_scheduled_record_is_not_created_again(admin):
    admin.recurring.add({**RENT, "day": "1", "start": "2026-01-01"}, today=date(2026, 1, 1))
    admin.recurring.run(date(2026, 1, 1))
    admin.records.delete(Record.get().id)
    assert admin.recurring.run(date(2026, 1, 20)).created == 0


def test_the_unique_period_key_is_the_guard(admin):
    """Even a stale next_due (a racer that read it before the winner committed) cannot
    create a period twice: the (schedule, period) key refuses the second claim."""
    row = admin.recurring.add({**RENT, "day": "1", "start": "2026-01-01"}, today=date(2026, 1, 1))
    assert admin.recurring.run(date(2026, 3, 1)).created == 3
    Schedule.update(next_due=date(2026, 1, 1)).where(Schedule.id == row.id).execute()
    assert admin.recurring.run(date(2026, 3, 1)).created == 0
    assert _create_period(Schedule.get_by_id(row.id), date(2026, 2, 1), None) == 0
    assert Record.select().count() == 3 and ScheduleRun.select().count() == 3


def test_archived_category_skips_that_schedule_only(admin):
    travel = admin.categories.create("Travel", "expense")
    admin.recurring.add({**RENT, "day": "1", "start": "2026-01-01"}, today=date(2026, 1, 1))
    admin.recurring.add(
        {**RENT, "day": "1", "category": "travel", "start": "2026-01-01"}, today=date(2026, 1, 1)
    )
    admin.categories.archive(travel.id)
    report = admin.recurring.run(date(2026, 2, 1))
    assert report.created == 2
    assert report.skipped == ("schedule #2 skipped: category: 'Travel' is archived",)
    admin.categories.archive(travel.id, False)
    assert admin.recurring.run(date(2026, 2, 1)).created == 2  # it catches up later


def test_remove_stops_the_schedule_and_keeps_its_records(admin):
    row = admin.recurring.add({**RENT, "day": "1", "start": "2026-01-01"}, today=date(2026, 1, 1))
    admin.recurring.run(date(2026, 1, 5))
    removed = admin.recurring.remove(row.id)
    assert (removed.is_active, removed.created_count) == (False, 1)
    assert admin.recurring.list() == []
    assert admin.recurring.run(date(2026, 6, 5)).created == 0
    assert Record.select().count() == 1
    with pytest.raises(NotFound, match="No recurring schedule with id 1"):
        admin.recurring.remove(row.id)
    assert AuditEvent.select().where(AuditEvent.action == "schedule_remove").count() == 1


def test_managing_schedules_is_for_admins(sessions, counts):
    for role in ("viewer", "analyst"):
        session = sessions[role]
        before = counts()
        for attempt in (
            lambda s=session: s.recurring.add(RENT),
            lambda s=session: s.recurring.list(),
            lambda s=session: s.recurring.remove(1),
        ):
            with pytest.raises(PermissionDenied, match="manage recurring schedules"):
                attempt()
        after = counts()
        assert after.pop("audit_event") == before.pop("audit_event") + 3
        assert after == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"day": "32"}, "day", "must be a day of the month from 1 to 31"),
        ({"day": "0"}, "day", "must be a day of the month from 1 to 31"),
        ({"every": "week", "day": "funday"}, "day", "must be a weekday: mon, tue"),
        ({"every": "year", "day": "3"}, "day", "is not used by yearly schedules"),
        ({"every": "fortnight"}, "every", "must be month, week or year"),
        ({"start": "2026-02-30"}, "start", "is not a date"),
        ({"end": "soon"}, "end", "is not a date"),
        (
            {"start": "2026-05-01", "end": "2026-04-30"},
            "end",
            "must not be before the start date (2026-05-01)",
        ),
        (
            {"start": "2026-05-01", "end": "2026-05-20", "day": "25"},
            "end",
            "comes before the first period",
        ),
        ({"category": "nope"}, "category", "unknown category 'nope'"),
        ({"kind": "income"}, "category", "'rent' is for expense records, not income"),
        ({"kind": "gift"}, "kind", "must be income or expense"),
        ({"amount": "-5"}, "amount", "must be positive"),
        ({"amount": "12.345"}, "amount", "has more than 2 decimal places"),
        ({"amount": "abc"}, "amount", "is not a number"),
        ({"notes": "a\x1b[31mb"}, "notes", "control character"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(admin, counts, changes, field, message):
    before = counts()
    with pytest.raises(ValidationError) as err:
        admin.recurring.add({**RENT, **changes}, today=date(2026, 5, 1))
    assert message in err.value.fields[field]
    assert counts() == before


def test_unattended_run_is_audited_as_the_command(admin):
    admin.recurring.add({**RENT, "day": "1", "start": "2026-01-01"}, today=date(2026, 1, 1))
    assert run_recurring_unattended(date(2026, 2, 1)).created == 2
    event = AuditEvent.get(AuditEvent.action == "recurring_run")
    assert (event.actor_id, event.actor_name) == (None, "finance-tui recurring run")
    assert run_due(date(2026, 2, 1), None).created == 0


# ---- never twice, with parallel processes ----------------------------------------------
PROCESSES = 6


RACER = """
import sys, time
from datetime import date
start_at = float(sys.argv[2])
from finance_tui.startup import connect
from finance_tui.session import run_recurring_unattended
connect(sys.argv[1])
while time.time() < start_at:
    time.sleep(0.001)
print(run_recurring_unattended(date.fromisoformat(sys.argv[3])).created)
"""


def test_parallel_processes_never_create_a_period_twice(db_url, admin):
    """Several processes start the run at the same instant (as when a team opens the
    app together): every period exists exactly once, and the counts add up."""
    today = date(2026, 12, 1)
    admin.recurring.add({**RENT, "start": "2025-01-01"}, today=today)  # 23 month ends
    admin.recurring.add({**RENT, "every": "week", "day": "fri", "start": "2026-06-01"}, today=today)
    admin.recurring.add({**RENT, "every": "year", "day": "", "start": "2020-02-29"}, today=today)
    expected = 23 + 26 + 7
    start_at = time.time() + 3.0  # every process is connected and waiting by then
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, db_url, repr(start_at), today.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [racer.communicate(timeout=120) for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * PROCESSES, outputs
    created = [int(out.strip()) for out, _ in outputs]
    assert sum(created) == expected, created
    assert Record.select().count() == expected
    periods = list(ScheduleRun.select(ScheduleRun.schedule, ScheduleRun.period).tuples())
    assert len(periods) == len(set(periods)) == expected
    assert ScheduleRun.select().where(ScheduleRun.record.is_null()).count() == 0
    assert MonthlyTotal.select().where(MonthlyTotal.count > 0).count() > 0
    total = sum(t.count for t in MonthlyTotal.select())
    assert total == expected
    assert Category.get(Category.name_lower == "rent").id == Record.get().category_id
