"""Recurring records: schedules that admins manage, and the run that creates what is due.

Admins add and remove schedules (``Permission.MANAGE_RECURRING``). The run is a system
action any logged-in session (or ``finance-tui recurring run`` from cron) may trigger:
it only materialises what an admin scheduled, with the schedule's owner as the records'
author, and it is audited as such (``record_create_scheduled``, ``recurring_run``).

Never twice: each created period is a ``schedule_run`` row, unique per (schedule,
period), inserted in the transaction that creates the record. A run that races another
one (two people opening the app at the same moment, cron and a login) hits that key,
which undoes only that period's savepoint, and skips it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from peewee import JOIN, IntegrityError, fn

from finance_tui.db import advisory_lock, write_transaction
from finance_tui.domain import recurrence
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import Principal, RecurringRunReport, ScheduleRow
from finance_tui.domain.values import parse_date
from finance_tui.errors import NotFound, ValidationError
from finance_tui.models import Category, Schedule, ScheduleRun, User, database
from finance_tui.money import from_minor
from finance_tui.permissions import Permission
from finance_tui.services.audit import record_event
from finance_tui.services.records import insert_record, snapshot
from finance_tui.services.validation import CleanRecord, collect_problem, validate_record

SCHEDULE_FIELDS = ("every", "day", "kind", "amount", "category", "notes", "start", "end")


@dataclass(frozen=True)
class CleanSchedule:
    every: str
    day: int | None
    start: date
    end: date | None
    first_due: date
    template: CleanRecord


def _optional_date(value: object, today: date) -> date | None:
    text = str(value if value is not None else "").strip()
    return parse_date(text, today) if text else None


def _rule(values: Mapping[str, object], today: date, errors: dict[str, str]) -> tuple:
    """(every, day, start, end) with a message in ``errors`` for each bad one."""
    every = collect_problem(errors, "every", recurrence.parse_every, values.get("every"))
    start = collect_problem(errors, "start", _optional_date, values.get("start"), today) or today
    end = collect_problem(errors, "end", _optional_date, values.get("end"), today)
    day = None
    if every is not None:
        day = collect_problem(errors, "day", recurrence.parse_day, every, values.get("day"), start)
    if end is not None and "start" not in errors and end < start:
        errors["end"] = f"must not be before the start date ({start})"
    return every, day, start, end


def _template(values: Mapping[str, object], start: date, errors: dict[str, str]) -> CleanRecord:
    """The record template, checked by the very rules a typed record goes through."""
    fields = {name: values.get(name) for name in ("kind", "amount", "category", "notes")}
    try:
        return validate_record({**fields, "date": start}, today=start)
    except ValidationError as exc:
        errors.update({name: message for name, message in exc.fields.items() if name != "date"})
        return CleanRecord("", 0, 0, start, "")


def clean_schedule(values: Mapping[str, object], today: date) -> CleanSchedule:
    """Validate everything at once: one message per bad field, nothing written."""
    errors = {
        name: "is not a schedule field" for name in sorted(set(values) - set(SCHEDULE_FIELDS))
    }
    every, day, start, end = _rule(values, today, errors)
    template = _template(values, start, errors)
    first = recurrence.first_due(every, day, start, end) if not errors else None
    if not errors and first is None:
        errors["end"] = "comes before the first period: the schedule would never create a record"
    if errors:
        raise ValidationError(errors)
    assert first is not None
    return CleanSchedule(every, day, start, end, first, template)


def _counts(ids: list[int]) -> dict[int, int]:
    query = (
        ScheduleRun.select(ScheduleRun.schedule, fn.COUNT(ScheduleRun.id))
        .where(ScheduleRun.schedule.in_(ids))
        .group_by(ScheduleRun.schedule)
    )
    return {int(sid): int(n) for sid, n in query.tuples()}


def _to_row(schedule: Schedule, category: str, owner: str | None, created: int) -> ScheduleRow:
    return ScheduleRow(
        id=schedule.id,
        every=schedule.every,
        day=schedule.day,
        rule=recurrence.describe(schedule.every, schedule.day, schedule.start_date),
        start_date=schedule.start_date,
        end_date=schedule.end_date,
        next_due=schedule.next_due,
        kind=schedule.kind,
        amount=from_minor(schedule.amount),
        category=category,
        notes=schedule.notes,
        created_by=owner,
        is_active=schedule.is_active,
        created_count=created,
    )


def _rows(where: object) -> list[ScheduleRow]:
    query = (
        Schedule.select(Schedule, Category.name, User.username)
        .join(Category, on=Schedule.category == Category.id)
        .join_from(Schedule, User, JOIN.LEFT_OUTER, on=Schedule.created_by == User.id)
        .where(where)
        .order_by(Schedule.id)
        .objects()
    )
    found = list(query)
    counts = _counts([s.id for s in found])
    return [_to_row(s, s.name, s.username, counts.get(s.id, 0)) for s in found]


def _snapshot(schedule: Schedule) -> dict:
    return {
        "every": schedule.every,
        "day": schedule.day,
        "start_date": schedule.start_date,
        "end_date": schedule.end_date,
        "kind": schedule.kind,
        "amount": str(from_minor(schedule.amount)),
        "category_id": schedule.category_id,
        "notes": schedule.notes,
        "is_active": schedule.is_active,
    }


class RecurringService:
    def __init__(self, session: Authoriser):
        self.session = session

    def list(self) -> list[ScheduleRow]:
        """Active schedules, oldest first, with their next due date."""
        self.session.require(Permission.MANAGE_RECURRING)
        return _rows(Schedule.is_active == True)  # noqa: E712

    def add(self, values: Mapping[str, object], *, today: date | None = None) -> ScheduleRow:
        """A new schedule; its first period may already be due (the next run creates it)."""
        principal = self.session.require(Permission.MANAGE_RECURRING)
        clean = clean_schedule(values, today or date.today())
        template = clean.template
        with write_transaction():
            schedule = Schedule.create(
                every=clean.every,
                day=clean.day,
                start_date=clean.start,
                end_date=clean.end,
                next_due=clean.first_due,
                kind=template.kind,
                amount=template.amount_minor,
                category=template.category_id,
                notes=template.notes,
                created_by=principal.user_id,
            )
            record_event(
                principal, "schedule_create", "schedule", schedule.id, after=_snapshot(schedule)
            )
        return _rows(Schedule.id == schedule.id)[0]

    def remove(self, schedule_id: int | str) -> ScheduleRow:
        """Stop a schedule. The records it created stay, and so does their link to it."""
        principal = self.session.require(Permission.MANAGE_RECURRING)
        sid = _parse_id(schedule_id)
        with write_transaction():
            advisory_lock(f"finance_tui.schedule.{sid}")
            schedule = Schedule.get_or_none(Schedule.id == sid, Schedule.is_active == True)  # noqa: E712
            if schedule is None:
                raise NotFound(f"No recurring schedule with id {schedule_id}")
            before = _snapshot(schedule)
            Schedule.update(is_active=False).where(Schedule.id == sid).execute()
            after = {**before, "is_active": False}
            record_event(principal, "schedule_remove", "schedule", sid, before, after)
        return _rows(Schedule.id == sid)[0]

    def run(self, today: date | None = None) -> RecurringRunReport:
        """Create every due record up to ``today``: any logged-in role may trigger it."""
        trigger = self.session.require(Permission.VIEW_RECORDS)
        return run_due(today or date.today(), trigger)

    def schedule_of(self, record_id: object) -> int | None:
        """The schedule that created a record, if any (the record's link to it)."""
        self.session.require(Permission.VIEW_RECORDS)
        run = ScheduleRun.get_or_none(ScheduleRun.record == str(record_id))
        return run.schedule_id if run is not None else None


def _parse_id(schedule_id: int | str) -> int:
    text = str(schedule_id).strip().lstrip("#")
    if not text.isdigit():
        raise NotFound(f"No recurring schedule with id {schedule_id}")
    return int(text)


def run_due(today: date, trigger: Principal | None) -> RecurringRunReport:
    """Catch up on every active schedule's missed periods up to ``today``.

    One short transaction per schedule, so a schedule whose template no longer passes
    (its category archived since) is skipped with the reason, and the others still run.
    ``trigger`` is who opened the app (None: ``finance-tui recurring run``).
    """
    due = (
        Schedule.select(Schedule.id)
        .where(Schedule.is_active == True, Schedule.next_due <= today)  # noqa: E712
        .order_by(Schedule.id)
    )
    created: dict[int, int] = {}
    skipped: list[str] = []
    for sid in [s.id for s in due]:
        try:
            created[sid] = _run_schedule(sid, today, trigger)
        except ValidationError as exc:
            skipped.append(f"schedule #{sid} skipped: {exc}")
    total = sum(created.values())
    if total:
        _audit_run(trigger, {str(sid): n for sid, n in created.items() if n}, today)
    return RecurringRunReport(total, tuple(skipped))


def _audit_run(trigger: Principal | None, created: dict[str, int], today: date) -> None:
    name = None if trigger else "finance-tui recurring run"
    with write_transaction():
        after = {"created": sum(created.values()), "by_schedule": created, "today": today}
        record_event(trigger, "recurring_run", "schedule", "", after=after, actor_name=name)


def _run_schedule(sid: int, today: date, trigger: Principal | None) -> int:
    """Create one schedule's due periods; returns how many this run created."""
    with write_transaction():
        advisory_lock(f"finance_tui.schedule.{sid}")  # PostgreSQL: racers wait, then re-read
        schedule = Schedule.get_or_none(Schedule.id == sid)
        if schedule is None or not schedule.is_active or schedule.next_due is None:
            return 0
        rule = (schedule.every, schedule.day, schedule.start_date, schedule.end_date)
        made = 0
        last = None
        for period in recurrence.periods(*rule, schedule.next_due, today):
            made += _create_period(schedule, period, trigger)
            last = period
        if last is not None:
            following = recurrence.next_after(*rule, last)
            Schedule.update(next_due=following).where(Schedule.id == sid).execute()
    return made


def _create_period(schedule: Schedule, period: date, trigger: Principal | None) -> int:
    """Claim ``period`` (the unique key) and create its record; 0 if it was taken."""
    try:
        with database.atomic():  # a savepoint: a clash undoes only this claim
            claim = ScheduleRun.create(schedule=schedule.id, period=period)
    except IntegrityError:
        return 0
    data = {
        "kind": schedule.kind,
        "amount": from_minor(schedule.amount),
        "category": schedule.category_id,
        "date": period,
        "notes": schedule.notes,
    }
    clean = validate_record(data, today=period)
    rec = insert_record(clean, schedule.created_by_id)
    ScheduleRun.update(record=rec.id).where(ScheduleRun.id == claim.id).execute()
    owner = User.get_or_none(User.id == schedule.created_by_id) if schedule.created_by_id else None
    after = {
        **snapshot(rec),
        "schedule_id": schedule.id,
        "period": period,
        "owner": owner.username if owner else None,
        "triggered_by": trigger.username if trigger else "finance-tui recurring run",
    }
    record_event(
        None,
        "record_create_scheduled",
        "record",
        rec.id,
        after=after,
        actor_name=f"schedule #{schedule.id}",
    )
    return 1
