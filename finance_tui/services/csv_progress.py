"""Progress reports and cancellation, the same for CSV import and export.

Both run in a UI thread worker or the CLI and take ``progress(done_rows,
estimated_total_or_None)`` and ``cancel`` (a ``threading.Event``, a callable or
``None``), checked between batches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Progress = Callable[[int, int | None], None]
Cancel = Callable[[], bool] | threading.Event | None


def cancel_check(cancel: Cancel) -> Callable[[], bool]:
    """``cancel`` as one callable that answers "stop now?" (never, without one)."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel
