"""Imports that never block other users and stay all-or-nothing as everyone sees them.

A big import in one transaction would hold SQLite's write lock for half a minute, and
every save or login meanwhile would fail with "database is locked". Instead:

1. :func:`start` registers an :class:`ImportBatch` (``pending``, with its owner's host,
   pid and a heartbeat). One import runs at a time.
2. The importer writes short transactions of a few thousand rows tagged with the batch
   id (``record.import_batch``), pausing between them so waiting writers get the lock.
   :func:`visible` hides rows of a pending batch from every read, and the monthly
   summaries do not count them yet.
3. :func:`publish` flips the batch to ``published`` and adds its summary deltas and the
   audit event in ONE short transaction: every reader sees none of it, then all of it.
4. :func:`clear_tags` then untags the rows in small chunks (visible either way), so the
   visibility check is a plain ``IS NULL`` again.

A cancelled or rejected import is :func:`discard`-ed (rows removed in chunks). If the
importer dies (kill -9, power loss), its batch stays ``pending`` and invisible; the next
start or ``finance-tui doctor`` (:func:`sweep`) removes it once its owner is gone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta

from peewee import ModelSelect

from finance_tui.db import advisory_lock, write_transaction
from finance_tui.domain.dto import Principal
from finance_tui.errors import FinanceError
from finance_tui.models import Category, ImportBatch, Record, utcnow
from finance_tui.services import summaries
from finance_tui.services.audit import record_event
from finance_tui.services.visibility import (
    DISCARDED,
    DISCARDING,
    DONE,
    HIDDEN,
    PENDING,
    PUBLISHED,
    live,
    visible,
)

CHUNK = 2500  # rows untagged or removed per short transaction (first size; paced)
TARGET_HOLD = 0.08  # seconds one short transaction should hold the write lock
MIN_ROWS, MAX_ROWS = 250, 10_000
MIN_PAUSE = 0.005  # seconds between short transactions, at least...
PAUSE_SHARE = 0.25  # ...and a quarter of the time the last one held the lock
STALE_AFTER = timedelta(minutes=10)  # heartbeat age that marks a batch's owner as gone

Deltas = dict[tuple[date, int, str], list[int]]


class ImportBusy(FinanceError):
    """Another import is running (one at a time keeps de-duplication exact)."""


class ImportAbandoned(FinanceError):
    """This import's batch was discarded by someone else (its heartbeat went stale)."""


def _owner() -> tuple[str, int]:
    return socket.gethostname()[:255], os.getpid()


def start(principal: Principal, source: str) -> int:
    """Register a pending batch and return its id; refuses if another import is running."""
    sweep()
    host, pid = _owner()
    with write_transaction():
        advisory_lock("csv_import")
        for other in ImportBatch.select().where(ImportBatch.state == PENDING):
            if owner_alive(other):
                raise ImportBusy(
                    f"another import is running ({other.source[-60:]}, started "
                    f"{other.started_at:%Y-%m-%d %H:%M} UTC); try again when it has finished"
                )
        # A file name may hold bytes that are not UTF-8: stored spelled out (\udcff).
        stored = source.encode("utf-8", "backslashreplace").decode("utf-8")
        batch = ImportBatch.create(
            source=stored[-255:], actor=principal.user_id, owner_host=host, owner_pid=pid
        )
    return int(batch.id)


def heartbeat(batch_id: int) -> None:
    """Mark the batch alive (inside the importer's write transaction); fails if it was
    discarded meanwhile, so the importer stops instead of writing orphan rows."""
    changed = (
        ImportBatch.update(heartbeat_at=utcnow())
        .where(ImportBatch.id == batch_id, ImportBatch.state == PENDING)
        .execute()
    )
    if changed != 1:
        raise ImportAbandoned("the import was discarded while it ran; nothing was imported")


def note_category(batch_id: int, category_id: int) -> None:
    """Remember a category the import created, so a discard removes it again."""
    batch = ImportBatch.get_by_id(batch_id)
    ids = [*filter(None, batch.created_categories.split(",")), str(category_id)]
    ImportBatch.update(created_categories=",".join(ids)).where(ImportBatch.id == batch_id).execute()


def add_deltas(deltas: Deltas, rows: Iterable[tuple]) -> None:
    """Accumulate ``(kind, amount, category_id, day, ...)`` rows into per-month deltas."""
    for row in rows:
        kind, amount, category_id, day = row[0], row[1], row[2], row[3]
        slot = deltas.setdefault((day.replace(day=1), category_id, kind), [0, 0])
        slot[0] += 1
        slot[1] += amount


def publish(batch_id: int, deltas: Deltas, audit: Callable[[], None]) -> None:
    """Make the whole batch visible at once: O(months x categories), one transaction."""
    with write_transaction():
        changed = (
            ImportBatch.update(state=PUBLISHED, heartbeat_at=utcnow())
            .where(ImportBatch.id == batch_id, ImportBatch.state == PENDING)
            .execute()
        )
        if changed != 1:
            raise ImportAbandoned("the import was discarded while it ran; nothing was imported")
        summaries.apply_merged((m, c, k, n, t) for (m, c, k), (n, t) in sorted(deltas.items()))
        audit()


class Pacer:
    """Sizes short write transactions by how long the last one held the lock, and
    pauses after each one, so a waiting writer gets in even on a slow, busy machine.

    A fixed row count would hold the lock for 50 ms on an idle machine and for half a
    second on a loaded one; a fixed pause of a few ms is too short for a waiting process
    to be scheduled when the CPUs are busy. Use: ``with pacer.hold(): ...`` per batch.
    """

    def __init__(self, rows: int = CHUNK):
        self.rows = rows

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """One write transaction; then adapt the size and pause (lock released)."""
        with write_transaction():
            started, rows = time.monotonic(), self.rows
            yield
            held = time.monotonic() - started
        scaled = int(rows * TARGET_HOLD / max(held, 0.001))
        self.rows = max(MIN_ROWS, min(MAX_ROWS, scaled, rows * 2))
        time.sleep(max(MIN_PAUSE, held * PAUSE_SHARE))


def _chunked(action: Callable[[int], int]) -> int:
    """Run ``action(rows)`` (one chunk) in paced short transactions until it does less."""
    total, pacer = 0, Pacer()
    while True:
        size = pacer.rows
        with pacer.hold():
            done = action(size)
        total += done
        if done < size:
            return total


def _tagged(batch_id: int, rows: int) -> ModelSelect[Record]:
    return Record.select(Record.id).where(Record.import_batch == batch_id).limit(rows)


def clear_tags(batch_id: int) -> None:
    """Untag a published batch's rows in small chunks, then mark it done."""

    def untag(rows: int) -> int:
        query = Record.update(import_batch=None).where(Record.id.in_(_tagged(batch_id, rows)))
        return query.execute()

    _chunked(untag)
    ImportBatch.update(state=DONE).where(ImportBatch.id == batch_id).execute()


def discard(batch_id: int) -> int:
    """Remove an unpublished batch: its rows (chunks), the categories it created if
    still unused, then the batch is marked discarded. Returns the rows removed."""
    with write_transaction():
        changed = (
            ImportBatch.update(state=DISCARDING)
            .where(ImportBatch.id == batch_id, ImportBatch.state.in_(HIDDEN))
            .execute()
        )
    if not changed:
        return 0

    def remove(rows: int) -> int:
        return Record.delete().where(Record.id.in_(_tagged(batch_id, rows))).execute()

    removed = _chunked(remove)
    with write_transaction():
        batch = ImportBatch.get_by_id(batch_id)
        ids = [int(i) for i in batch.created_categories.split(",") if i]
        if ids:
            used = Record.select(Record.category).where(Record.category.in_(ids))
            Category.delete().where(Category.id.in_(ids), Category.id.not_in(used)).execute()
        ImportBatch.update(state=DISCARDED).where(ImportBatch.id == batch_id).execute()
    return removed


def owner_alive(batch: ImportBatch) -> bool:
    """Whether the process that runs ``batch`` still exists (same host: by pid; else by
    heartbeat age)."""
    if utcnow() - batch.heartbeat_at > STALE_AFTER:
        return False
    host, _ = _owner()
    if batch.owner_host != host or not batch.owner_pid:
        return True
    try:
        os.kill(batch.owner_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep() -> list[str]:
    """Remove dead imports' leftovers (start-up, doctor); returns what was done.

    A pending batch whose owner is gone is discarded (audited); a published one whose
    owner died while untagging is untagged here.
    """
    done: list[str] = []
    open_batches = ImportBatch.select().where(ImportBatch.state.in_([*HIDDEN, PUBLISHED]))
    for batch in list(open_batches):
        if owner_alive(batch):
            continue
        if batch.state == PUBLISHED:
            clear_tags(batch.id)
            continue
        removed = discard(batch.id)
        with write_transaction():
            record_event(
                None,
                "csv_import_discarded",
                "import",
                batch.source[-40:],
                after={"file": batch.source, "rows_removed": removed, "batch": batch.id},
                actor_name="finance-tui",
            )
        done.append(f"removed {removed:,} rows of an unfinished import of {batch.source}")
    return done


__all__ = ["ImportAbandoned", "ImportBusy", "live", "visible"]
