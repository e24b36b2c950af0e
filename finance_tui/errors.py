"""Exceptions the core raises for user-facing problems. Each carries a clear message."""

from __future__ import annotations

import math
from datetime import UTC, datetime


class FinanceError(Exception):
    """Base for every error that is the user's to fix, never a bug: shown, not traced."""


class ValidationError(FinanceError):
    """Input was rejected; ``fields`` maps each bad field to its message."""

    def __init__(self, fields: dict[str, str]):
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


class PermissionDenied(FinanceError):
    def __init__(self, action: str, role: str | None = None):
        self.action = action
        self.role = role
        who = f"role '{role}'" if role else "you"
        super().__init__(f"Permission denied: {who} may not {action}")


class AuthError(FinanceError):
    """Login or token failure. Message is deliberately generic."""


class AccountLocked(AuthError):
    """Too many failed logins for this name. Worded the same whether or not it exists."""

    def __init__(self, until: datetime, now: datetime | None = None):
        self.until = until
        now = now or datetime.now(UTC).replace(tzinfo=None)
        left = wait_text((until - now).total_seconds())
        super().__init__(f"Too many failed attempts; try again in {left}")


def wait_text(seconds: float) -> str:
    """'30 s' under a minute, else whole minutes rounded up ('2 min'): never too early."""
    whole = max(math.ceil(seconds), 1)
    if whole < 60:
        return f"{whole} s"
    return f"{math.ceil(whole / 60)} min"


class SessionExpired(AuthError):
    pass


class NotFound(FinanceError):
    pass


class ConflictError(FinanceError):
    """A write named a version that is no longer current."""

    def __init__(self, changed_by: str | None, changed_at: datetime | None, current_version: int):
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.current_version = current_version
        when = f" at {changed_at:%Y-%m-%d %H:%M:%S} UTC" if changed_at else ""
        super().__init__(
            f"This record was changed by {changed_by or 'someone else'}{when} "
            f"after you opened it (now version {current_version}); reload and try again"
        )


class DatabaseUnavailable(FinanceError):
    """The database could not do what was asked: busy, unreachable, full, read-only, ...

    ``reason`` is a short key (``busy``, ``connection``, ``disk_full``, ...) for code that
    reacts differently; the message is a plain-language sentence, then the driver's words.
    """

    def __init__(self, reason: str, message: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{message} (database: {detail})" if detail else message)


class ViewExists(ValidationError):
    """A saved view of that name exists already: the screen asks before replacing it."""

    def __init__(self, name: str):
        self.name = name
        super().__init__({"name": f"you already have a view named {name!r}"})


class NothingToUndo(FinanceError):
    """Undo was asked for, but this session has no record change left to undo."""


class UndoConflict(FinanceError):
    """The change to undo was overtaken: someone changed the record since.

    ``event_id`` is the audit event that can no longer be undone.
    """

    def __init__(self, event_id: int, message: str):
        self.event_id = event_id
        super().__init__(message)
