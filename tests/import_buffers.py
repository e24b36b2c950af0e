"""The import's bounded buffers pinned small, so that tests of streaming and of a
crash between batches reach several batches with a few thousand rows instead of tens
of thousands (the defaults, each row costing time under tracemalloc or in a child)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from finance_tui.services import csv_import, csv_steps, imports

SMALL_ROWS = 500  # progress chunk, duplicate-lookup chunk and every write batch

# The same, for a child process started with ``python -c``: tests/ is not on its path.
CHILD_PRELUDE = f"""
from functools import partial
from finance_tui.services import csv_import, csv_steps, imports
csv_import.CHUNK = imports.MIN_ROWS = imports.MAX_ROWS = {SMALL_ROWS}
csv_import.BatchWriter = partial(csv_steps.BatchWriter, first_batch={SMALL_ROWS})
"""


def pin_small(set_attribute: Callable[[Any, str, Any], None], rows: int = SMALL_ROWS) -> None:
    """Pin every buffer to ``rows`` through ``set_attribute`` (``monkeypatch.setattr``)."""
    set_attribute(csv_import, "CHUNK", rows)
    set_attribute(imports, "MIN_ROWS", rows)
    set_attribute(imports, "MAX_ROWS", rows)
    set_attribute(csv_import, "BatchWriter", partial(csv_steps.BatchWriter, first_batch=rows))
