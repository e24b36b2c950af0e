"""Login throttling: a password check is reserved in the database before it runs.

Reading the lock before a slow bcrypt check and writing the failure after it lets every
concurrent attempt through (24 parallel guesses got ~20 checks). Here one short write
transaction checks the lock, counts the attempt and, at the threshold, sets the lock;
only then does the caller run bcrypt, outside the transaction. So at most ``threshold``
checks run per lock window, however many terminals or processes try at once.

State is kept per login key (see :class:`~finance_tui.models.LoginThrottle`): a known
account's username and email share one key, and a name that matches no account has its
own, locked on the same schedule, so answers never tell the two apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from finance_tui.config import settings
from finance_tui.db import is_postgres, write_transaction
from finance_tui.models import LoginThrottle, User, database, utcnow

MAX_LOCK = timedelta(minutes=15)  # a longer lock mostly helps whoever locks others out
FORGET_AFTER = timedelta(hours=24)  # quiet this long: failures and lockouts start over
USER_PREFIX = "user:"
NAME_PREFIX = "name:"
_PRUNE_LOCK = 0x4C4F4750  # "LOGP": one pruner at a time on PostgreSQL, others skip


@dataclass(frozen=True)
class Attempt:
    """The outcome of :func:`reserve` for one login attempt."""

    key: str
    refused_until: datetime | None = None  # locked already: no password check may run
    locks_until: datetime | None = None  # this attempt was the last check before a lock


def user_key(user_id: UUID) -> str:
    return f"{USER_PREFIX}{user_id.hex}"


def name_key(identifier: str) -> str:
    """Key of an identifier that names no account (hashed: no typed text is stored)."""
    normalised = identifier.strip().lower().encode("utf-8", "backslashreplace")
    return NAME_PREFIX + hashlib.sha256(normalised).hexdigest()


def lock_duration(lockouts: int) -> timedelta:
    """Doubling lock time per lockout: 30 s, 1 min, 2 min, ... capped at MAX_LOCK."""
    # Compare as plain seconds: past ~40 lockouts 2**n overflows timedelta.
    seconds = settings().lockout_base_seconds * (2 ** min(max(lockouts - 1, 0), 64))
    return timedelta(seconds=min(seconds, MAX_LOCK.total_seconds()))


def reserve(key: str, user_id: UUID | None = None) -> Attempt:
    """Count one attempt on ``key`` atomically, locking at the threshold.

    Call before checking the password; a refused attempt must not check it at all.
    ``user_id`` names the account whose display copy of the state is kept in step.
    """
    with write_transaction():
        now = utcnow()
        _prune(now)
        row = _row_for_update(key, now)
        if row.locked_until is not None and row.locked_until > now:
            return Attempt(key, refused_until=row.locked_until)
        stale = row.updated_at < now - FORGET_AFTER
        failures = 1 if stale else row.failures + 1
        lockouts = 0 if stale else row.lockouts
        until = None
        if failures >= settings().lockout_threshold:
            lockouts += 1
            failures = 0
            until = now + lock_duration(lockouts)
        _store(key, user_id, failures=failures, lockouts=lockouts, locked_until=until, now=now)
    return Attempt(key, locks_until=until)


def clear(key: str, user_id: UUID | None = None) -> None:
    """Forget the key's failures and lock (a success, or an admin lifting the lock).

    Runs inside the caller's transaction.
    """
    LoginThrottle.delete().where(LoginThrottle.key == key).execute()
    if user_id is not None:
        User.update(failed_logins=0, lockouts=0, locked_until=None).where(
            User.id == user_id
        ).execute()


def locked_until(key: str) -> datetime | None:
    """The end of the key's current lock, or None when it is not locked."""
    row = LoginThrottle.get_or_none(LoginThrottle.key == key)
    if row is None or row.locked_until is None or row.locked_until <= utcnow():
        return None
    return row.locked_until


def _row_for_update(key: str, now: datetime) -> LoginThrottle:
    """The key's row, created if missing, locked against concurrent attempts.

    SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs the row lock.
    """
    LoginThrottle.insert(key=key, updated_at=now).on_conflict_ignore().execute()
    query = LoginThrottle.select().where(LoginThrottle.key == key)
    if is_postgres():
        query = query.for_update()
    return query.get()


def _store(
    key: str,
    user_id: UUID | None,
    *,
    failures: int,
    lockouts: int,
    locked_until: datetime | None,
    now: datetime,
) -> None:
    LoginThrottle.update(
        failures=failures, lockouts=lockouts, locked_until=locked_until, updated_at=now
    ).where(LoginThrottle.key == key).execute()
    if user_id is not None:
        User.update(failed_logins=failures, lockouts=lockouts, locked_until=locked_until).where(
            User.id == user_id
        ).execute()


def _prune(now: datetime) -> None:
    """Drop unknown names' rows that went quiet (they would start over anyway).

    Without this, trying random names would grow the table without bound. Account rows
    stay: their display copy on ``user`` must not outlive them.
    """
    if is_postgres():
        got = database.execute_sql("SELECT pg_try_advisory_xact_lock(%s)", (_PRUNE_LOCK,))
        if not got.fetchone()[0]:
            return  # another attempt is pruning; skipping beats deadlocking with it
    LoginThrottle.delete().where(
        LoginThrottle.updated_at < now - FORGET_AFTER,
        LoginThrottle.key.startswith(NAME_PREFIX),
    ).execute()
