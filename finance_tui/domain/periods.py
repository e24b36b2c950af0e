"""Named reporting periods (dashboard period picker, CLI)."""

from __future__ import annotations

from datetime import date, timedelta

from finance_tui.errors import ValidationError

TREND_CHOICES = (12, 24)  # months a trend chart may show
COMPARABLE_PERIODS = ("this_month", "last_month", "last_30_days", "ytd", "custom")

PERIODS = {
    "all": "All time",
    "this_month": "This month",
    "last_month": "Last month",
    "last_30_days": "Last 30 days",
    "ytd": "Year to date",
    "custom": "Custom range",
}


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def resolve_period(
    name: str,
    today: date,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[date | None, date | None, str]:
    """Inclusive (from, to) for a named period; ``None`` means unbounded."""
    if name == "all":
        return None, None, PERIODS[name]
    if name == "this_month":
        return first_of_month(today), first_of_next_month(today) - timedelta(days=1), PERIODS[name]
    if name == "last_month":
        end = first_of_month(today) - timedelta(days=1)
        return first_of_month(end), end, PERIODS[name]
    if name == "last_30_days":
        return today - timedelta(days=29), today, PERIODS[name]
    if name == "ytd":
        return today.replace(month=1, day=1), today, PERIODS[name]
    if name == "custom":
        if date_from and date_to and date_from > date_to:
            raise ValidationError({"date_to": "must not be before the start date"})
        label = f"{date_from or '…'} – {date_to or '…'}"
        return date_from, date_to, label
    raise ValidationError({"period": f"unknown period {name!r}; use one of {', '.join(PERIODS)}"})
