"""One typed line to the raw fields of a new record: ``12.50 fo lunch``.

The grammar, word by word (words are separated by spaces or tabs):

1. **amount**, first: ``12.50``, ``1,234.50``, ``1234`` (positive, at most two
   decimals). A leading ``+`` marks income; it is needed only for a category of both
   kinds, which otherwise takes an expense.
2. **category**, second: a case-insensitive prefix of one active category's name
   (``fo`` for food). An exact name wins over longer names it is a prefix of, and a
   name with spaces may be typed in full (``eating out``). The category decides the
   kind. A prefix of several names is an error naming them; a word that starts no
   name is an error naming the close ones (or saying none is close).
3. **notes**: the rest of the line, kept exactly as typed between the category and
   the date word (inner spaces and all).
4. **date**, optional, the last word only: ``today``, ``yesterday``, ``-N`` (N days
   ago) or ``YYYY-MM-DD``; without it the record is dated today. A last word of that
   form is always the date: notes that end in one (``room -3``) need a date after it
   (``room -3 today``), since only the final word is read as a date.

Pure (no database): a screen runs it on every key for the live preview, with the
categories it loaded; the session runs it again when saving, and the record service's
one parser then validates the fields like any form's. Only the raw fields come out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from finance_tui.domain.values import DateError, parse_date, text_problem
from finance_tui.errors import ValidationError
from finance_tui.money import AmountError, parse_amount
from finance_tui.textsafety import visible

EXAMPLE = "12.50 food lunch"
MAX_CANDIDATES = 5
_WORD = re.compile(r"[^ \t]+")  # only spaces and tabs part words: other characters stay
_DATE_WORD = re.compile(r"today|yesterday|-\d+|\d{4}-\d{2}-\d{2}", re.ASCII | re.IGNORECASE)


class NamedKind(Protocol):
    """An active category as the parser needs it (``CategoryRow`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...


class QuickAddError(ValidationError):
    """A line that does not make a record; ``field`` names the part that is wrong."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__({field: message})


@dataclass(frozen=True)
class QuickAdd:
    """What a line stands for; :meth:`fields` is what the session saves."""

    kind: str
    amount: Decimal
    category: str
    date: date
    notes: str
    date_word: str = ""  # as typed; "" when the line had none (today)

    def fields(self) -> dict[str, str]:
        """The record form's raw fields, for the record service's one parser."""
        return {
            "kind": self.kind,
            "amount": f"{self.amount:.2f}",
            "category": self.category,
            "date": self.date.isoformat(),
            "notes": self.notes,
        }


def parse_quick_add(line: str, categories: Sequence[NamedKind], today: date) -> QuickAdd:
    """The record ``line`` stands for, or :class:`QuickAddError` with one message."""
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(line)]
    if not words:
        raise QuickAddError("line", f"type an amount, a category and notes, e.g. {EXAMPLE}")
    income, amount = _amount(words[0][0])
    if len(words) < 2:
        raise QuickAddError("category", f"type a category after the amount, e.g. {EXAMPLE}")
    category, used = _category([w for w, _, _ in words[1:]], categories)
    rest = words[1 + used :]
    when, date_word = today, ""
    if rest and _DATE_WORD.fullmatch(rest[-1][0]):
        date_word = rest.pop()[0]
        when = _date(date_word, today)
    start = words[used][2]
    notes = line[start : rest[-1][2]].strip(" \t") if rest else ""
    if problem := text_problem(notes, multiline=True):
        raise QuickAddError("notes", problem)
    kind = _kind(category, income)
    return QuickAdd(kind, amount, category.name, when, notes, date_word)


def _amount(word: str) -> tuple[bool, Decimal]:
    """(whether a ``+`` marks income, the amount)."""
    if word.startswith("-"):
        raise QuickAddError(
            "amount", f"{_quoted(word)} must be positive (the category says income or expense)"
        )
    try:
        return word.startswith("+"), parse_amount(word)
    except AmountError as exc:
        if str(exc).startswith("is not a number"):
            raise QuickAddError(
                "amount", f"{_quoted(word)} is not a number: start with the amount, e.g. {EXAMPLE}"
            ) from None
        raise QuickAddError("amount", f"{_quoted(word)} {exc}") from None


def _category(words: list[str], categories: Sequence[NamedKind]) -> tuple[NamedKind, int]:
    """The category the words after the amount start with, and how many words it took."""
    if found := _full_name(words, categories):
        return found
    typed = words[0].lower()
    exact = [c for c in categories if c.name.lower() == typed]
    matches = exact or [c for c in categories if c.name.lower().startswith(typed)]
    if len(matches) == 1:
        return matches[0], 1
    if matches:
        raise QuickAddError(
            "category",
            f"{_quoted(words[0])} could be {_names(matches)}: type more of the name",
        )
    close = close_names(typed, categories)
    hint = f" (close: {', '.join(close)})" if close else ", and none is close"
    raise QuickAddError("category", f"no category starts with {_quoted(words[0])}{hint}")


def _full_name(words: list[str], categories: Sequence[NamedKind]) -> tuple[NamedKind, int] | None:
    """A name with spaces typed in full (the longest such name wins)."""
    typed = [w.lower() for w in words]
    found = [
        (category, len(parts))
        for category in categories
        if len(parts := category.name.lower().split()) > 1 and typed[: len(parts)] == parts
    ]
    return max(found, key=lambda pair: pair[1], default=None)


def close_names(typed: str, categories: Sequence[NamedKind]) -> list[str]:
    """Names that contain ``typed`` or look like it, at most :data:`MAX_CANDIDATES`."""
    names = [c.name for c in categories]
    lowered = {name.lower(): name for name in names}
    containing = [name for name in names if typed in name.lower()]
    similar = difflib.get_close_matches(typed, list(lowered), n=MAX_CANDIDATES, cutoff=0.6)
    found = containing + [lowered[n] for n in similar if lowered[n] not in containing]
    return sorted((visible(name) for name in found[:MAX_CANDIDATES]), key=str.lower)


def _date(word: str, today: date) -> date:
    try:
        return parse_date(word, today)
    except DateError as exc:
        raise QuickAddError("date", f"{_quoted(word)} {exc}") from None


def _kind(category: NamedKind, income: bool) -> str:
    """The category's kind; a category of both kinds is an expense unless ``+``."""
    if category.kind == "both":
        return "income" if income else "expense"
    if income and category.kind != "income":
        raise QuickAddError(
            "amount",
            f"'+' marks income, but {visible(category.name)} is an {category.kind} category",
        )
    return category.kind


def _names(categories: Sequence[NamedKind]) -> str:
    names = sorted((visible(c.name) for c in categories), key=str.lower)
    if len(names) > MAX_CANDIDATES:
        more = len(names) - MAX_CANDIDATES
        return ", ".join(names[:MAX_CANDIDATES]) + f" or {more} more"
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def _quoted(word: str) -> str:
    """The typed word, safe to show, cut when long."""
    shown = visible(word)
    return f"'{shown if len(shown) <= 40 else shown[:39] + '…'}'"
