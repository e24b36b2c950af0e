"""When a recurring record is due: parsing a schedule's rule and listing its periods.

Pure date arithmetic (no database), so the CLI, the form and the service give the same
answers and messages. A period is the date of the record it creates:

- ``month`` on day N: that day of each month, or the month's last day when it is
  shorter (day 31 is 30 April and 28 or 29 February);
- ``week`` on a weekday (ISO numbers, Monday = 1);
- ``year``: the start date's month and day each year (29 February is the 28th in
  other years).

Periods run from the first one on or after the start date to the end date (if any).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

from finance_tui.domain.values import MAX_DATE

EVERY = ("month", "week", "year")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_HINT = "must be a weekday: mon, tue, wed, thu, fri, sat, sun (or 1-7, Monday = 1)"
_MONTH_DAY_HINT = "must be a day of the month from 1 to 31 (31: the last day of short months)"


def parse_every(value: object) -> str:
    """``month``, ``week`` or ``year`` (also ``monthly``, ``weekly``, ``yearly``)."""
    text = str(value or "").strip().lower()
    text = {"monthly": "month", "weekly": "week", "yearly": "year", "annual": "year"}.get(
        text, text
    )
    if text not in EVERY:
        raise ValueError("must be month, week or year")
    return text


def parse_day(every: str, value: object, start: date) -> int | None:
    """The stored day of a rule; blank means the start date's (day of month, weekday)."""
    text = str(value if value is not None else "").strip().lower()
    if every == "year":
        if text:
            raise ValueError(
                "is not used by yearly schedules (they use the start date's month and day)"
            )
        return None
    if every == "week":
        return _weekday(text) if text else start.isoweekday()
    if not text:
        return start.day
    if not text.isdigit() or not 1 <= int(text) <= 31:
        raise ValueError(_MONTH_DAY_HINT)
    return int(text)


def _weekday(text: str) -> int:
    if text.isdigit() and 1 <= int(text) <= 7:
        return int(text)
    for number, name in enumerate(WEEKDAYS, start=1):
        if len(text) >= 3 and name.startswith(text):
            return number
    raise ValueError(_WEEKDAY_HINT)


def clamped(year: int, month: int, day: int) -> date:
    """``day`` of that month, or its last day when the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_after(year: int, month: int, day: int) -> date | None:
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None if year > MAX_DATE.year else clamped(year, month, day)


def first_period(every: str, day: int | None, start: date) -> date | None:
    """The first period on or after ``start`` (None past the last storable date)."""
    if every == "month":
        assert day is not None
        first = clamped(start.year, start.month, day)
        return first if first >= start else _month_after(start.year, start.month, day)
    if every == "week":
        assert day is not None
        first = start + timedelta(days=(day - start.isoweekday()) % 7)
        return first if first <= MAX_DATE else None
    return start


def following(every: str, day: int | None, start: date, period: date) -> date | None:
    """The period after ``period`` (None past the last storable date)."""
    if every == "month":
        assert day is not None
        return _month_after(period.year, period.month, day)
    if every == "week":
        later = period + timedelta(days=7) if period <= MAX_DATE - timedelta(days=7) else None
        return later
    if period.year >= MAX_DATE.year:
        return None
    return clamped(period.year + 1, start.month, start.day)


def periods(
    every: str, day: int | None, start: date, end: date | None, first: date | None, until: date
) -> Iterator[date]:
    """Periods from ``first`` up to ``until`` and ``end`` (inclusive), in order."""
    current = first
    while current is not None and current <= until and (end is None or current <= end):
        yield current
        current = following(every, day, start, current)


def next_after(
    every: str, day: int | None, start: date, end: date | None, period: date
) -> date | None:
    """The period due after ``period``; None when the schedule is over."""
    later = following(every, day, start, period)
    return later if later is not None and (end is None or later <= end) else None


def first_due(every: str, day: int | None, start: date, end: date | None) -> date | None:
    """A new schedule's first period; None if it ends before its first period."""
    first = first_period(every, day, start)
    return first if first is not None and (end is None or first <= end) else None


def describe(every: str, day: int | None, start: date) -> str:
    """``monthly on day 31``, ``weekly on Monday``, ``yearly on 02-29``."""
    if every == "month":
        return f"monthly on day {day}"
    if every == "week":
        return f"weekly on {WEEKDAYS[(day or 1) - 1].capitalize()}"
    return f"yearly on {start:%m-%d}"
