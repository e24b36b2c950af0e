"""Parsers and checks of single typed values, shared by forms, filters, CLI and import.

Pure functions (no database): a screen may run them as the user types, and the services
run the same ones again, so both give the same message.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from finance_tui.money import AmountError, parse_amount
from finance_tui.textsafety import unsafe_char_problem

KINDS = ("income", "expense")
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
_RELATIVE_DAYS = re.compile(r"^[+-]\d{1,5}$", re.ASCII)


class DateError(ValueError):
    pass


def parse_date(value: str | date, today: date | None = None) -> date:
    """ISO ``2026-11-25``, ``today``, ``yesterday``, ``tomorrow`` or ``-3`` / ``+2`` days."""
    if isinstance(value, datetime):  # a datetime is a date too, but would store its time
        result = value.date()
    elif isinstance(value, date):
        result = value
    else:
        text = str(value).strip().lower()
        today = today or date.today()
        if not text:
            raise DateError("is required")
        if text in ("today", "t"):
            result = today
        elif text in ("yesterday", "y"):
            result = today - timedelta(days=1)
        elif text == "tomorrow":
            result = today + timedelta(days=1)
        elif _RELATIVE_DAYS.match(text):
            result = today + timedelta(days=int(text))
        else:
            try:
                result = date.fromisoformat(text)
            except ValueError:
                raise DateError("is not a date (use YYYY-MM-DD, today, yesterday or -3)") from None
    if not MIN_DATE <= result <= MAX_DATE:
        raise DateError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return result


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)


def parse_month(value: str | date) -> date:
    """``2026-11`` (or any date in it) as the first day of that month."""
    if isinstance(value, date):
        result = value.replace(day=1)
    else:
        match = _MONTH.match(str(value).strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise DateError("is not a month (use YYYY-MM, e.g. 2026-11)")
        result = date(int(match.group(1)), int(match.group(2)), 1)
    if not MIN_DATE <= result <= MAX_DATE:
        raise DateError(f"must be between {MIN_DATE:%Y-%m} and {MAX_DATE:%Y-%m}")
    return result


def text_problem(text: str, *, multiline: bool = False, encoding: str = "") -> str | None:
    """Why ``text`` cannot be stored as typed: the one rule for every text field.

    Refused: C0 controls, DEL, C1 controls and bidi overrides/isolates (each can take
    over the terminal of whoever later looks at the text), named with their position;
    ``multiline`` (notes) keeps tab, LF and CR LF. Also refused: lone surrogates (bytes
    that did not decode); ``encoding`` names the file's encoding in that message.
    """
    if problem := unsafe_char_problem(text, multiline=multiline):
        return problem
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if encoding:
            return f"is not valid {encoding} text (use --encoding)"
        return "contains characters that are not valid text (check the file's encoding)"
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def search_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be searched for, or ``None``.

    A control character can never be typed into stored text (and SQLite's LIKE stops
    at a NUL, so "\\x00" matched every record); a lone surrogate (a byte that is not
    UTF-8 on the command line) cannot even be sent to the database.
    """
    if _CONTROL.search(text):
        return "contains a control character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains characters that are not valid text (check the terminal's encoding)"
    return None


def decimal_or_none(value: object, field: str, errors: dict[str, str]) -> Decimal | None:
    """Parse an optional amount bound (filters): '' → None, bad → message in ``errors``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_amount(value)  # type: ignore[arg-type]
    except AmountError as exc:
        errors[field] = str(exc)
        return None
