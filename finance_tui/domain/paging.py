"""What the records screen asks for in one database round trip, and what it gets back.

One key action (a page, End, a sort change, a typed filter, a save) is one
:class:`WindowRequest` answered by one :class:`Window`: the typed filter is parsed, the
rows are read by key (keyset paging, the same cost at any depth) and the total is
counted when that is cheap, all in the same call. An expensive count is asked for
separately, after the rows are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from finance_tui.domain.dto import RecordRow
from finance_tui.domain.filters import RecordFilter

# Where the window goes:
#   first / last    the first or last page in the filter's order;
#   after / before  the page after / before ``row`` (a row of the window on screen);
#   around          ``before_rows`` rows before ``row``, then ``row`` and the rows after
#                   it (the record just saved, or the cursor's row on a reload);
#   offset          rows from position ``offset`` by LIMIT/OFFSET from the nearer end:
#                   only for a jump to an arbitrary position, which no key makes.
ANCHORS = ("first", "last", "after", "before", "around", "offset")
# How to count: "no" (the total is known), "cheap" (only from the summaries) or "always".
COUNTS = ("no", "cheap", "always")


@dataclass(frozen=True)
class WindowRequest:
    """One window of records for the screen.

    ``flt`` carries the sort, the order, trash or not and the window size; with ``raw``
    the other conditions are parsed from the typed filter bar instead (and the window
    is read only if they differ from ``flt``'s). ``position`` is ``row``'s position and
    ``total`` the known total (both to place the new window). ``known`` maps ids of the
    rows on screen to their positions not counting ``row``: an ``around`` window that
    shares a row with them is placed without counting.
    """

    flt: RecordFilter
    anchor: str = "first"
    row: RecordRow | None = None
    position: int = 0
    total: int | None = None
    offset: int = 0
    before_rows: int = 0
    count: str = "cheap"
    raw: Mapping[str, str] | None = None
    today: date | None = None
    known: Mapping[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """Rows ``start .. start + len(rows)`` of ``flt``'s result.

    ``total`` is None when it was not counted (known already, or too expensive to count
    here). ``found`` is the index of the ``around`` row in ``rows`` (None when the
    filter leaves it out). ``changed`` is False when a typed filter parsed to the filter
    already shown: nothing was read.
    """

    flt: RecordFilter
    rows: list[RecordRow]
    start: int
    total: int | None = None
    found: int | None = None
    changed: bool = True
