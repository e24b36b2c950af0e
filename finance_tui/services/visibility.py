"""Which records readers may see: none of an import that is not published yet.

Every read of records applies :func:`visible` (or :func:`live`); see :mod:`imports` for
how an import is written in short batches and published at once.
"""

from __future__ import annotations

from peewee import Expression, ModelSelect

from finance_tui.models import ImportBatch, Record

PENDING, PUBLISHED, DONE = "pending", "published", "done"
DISCARDING, DISCARDED = "discarding", "discarded"
HIDDEN = (PENDING, DISCARDING)  # states whose rows no reader may see


def visible() -> Expression:
    """Condition on ``Record``: not part of an unpublished import.

    Untagged rows pass on the ``IS NULL`` test, read from the row itself; only the rows
    of a running or just-published import consult the (tiny) list of hidden batches.
    The subquery is part of the same statement, so it sees the same snapshot.
    """
    return Record.import_batch.is_null() | Record.import_batch.not_in(hidden_batches())


def hidden_batches() -> ModelSelect[ImportBatch]:
    """Subquery: ids of the imports whose rows nobody may see yet."""
    return ImportBatch.select(ImportBatch.id).where(ImportBatch.state.in_(HIDDEN))


def live() -> list[Expression]:
    """Conditions for records every user sees: not deleted, not in an unpublished import."""
    return [Record.is_deleted == False, visible()]  # noqa: E712
