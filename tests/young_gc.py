"""Fewer young-generation collections in the test processes.

A test worker starts hundreds of apps one after another, and starting one allocates
objects by the hundred thousand. With CPython's default thresholds (700, 10, 10) the
collector ran about 80 young collections and 7 middle ones for each start of the app on
its dashboard, each of them scanning what the app had built so far. Collecting only
every 10,000 new objects cut ``tests/test_tui_records.py`` with
``tests/test_tui_dashboard.py`` from 94.1 s (71.5 s of CPU) to 83.5 s (61.0 s) in one
process.

As sharp as before: the collector still runs and still frees every cycle; only the
number of new objects that starts a young collection is larger. Tests that measure
memory run under the interpreter's own thresholds, the ones a user's process has
(``stock_thresholds``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

STOCK = gc.get_threshold()
TEST_THRESHOLDS = (10_000, 10, 10)


def collect_young_less_often() -> None:
    """Start a young collection every 10,000 new objects instead of every 700."""
    gc.set_threshold(*TEST_THRESHOLDS)


def settle_heap_for_shutdown() -> None:
    """Collect once, then freeze what is left: pytest collects five times more as the
    session ends, and execnet interrupts a worker still busy 5 s after it was told to
    stop. A full collection of a worker's heap (about 400,000 objects after its share
    of the suite) took 0.9-1.2 s, so those five came near the limit, and twice the
    interrupt landed inside one of them. Frozen objects are alive by then; only garbage
    made after this point is left to those collections."""
    gc.collect()
    gc.freeze()


@contextmanager
def stock_thresholds() -> Iterator[None]:
    """Run the body under the interpreter's default thresholds (memory measurements)."""
    tuned = gc.get_threshold()
    gc.set_threshold(*STOCK)
    try:
        yield
    finally:
        gc.set_threshold(*tuned)
