"""The one clock the TUI reads "today" and "now" from.

Relative dates ("-7", "today"), the current month on the dashboard and whether a
user's lock is still current all depend on the date. The app is given one
:class:`Clock`; tests and snapshots give it a fixed date so that pictures and
results do not change with the day they run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class Clock:
    """Today's date and the current time; either can be fixed (tests, snapshots).

    ``now()`` is naive UTC, like the timestamps stored in the database.
    """

    fixed_today: date | None = None
    fixed_now: datetime | None = None

    def today(self) -> date:
        return self.fixed_today or date.today()

    def now(self) -> datetime:
        return self.fixed_now or datetime.now(UTC).replace(tzinfo=None)
