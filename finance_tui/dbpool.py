"""A small fixed set of long-lived threads that run the TUI's database work.

A thread per action would open a connection per action: each SQLite connection
brings its own page cache (32 MB), starts cold, and the memory of finished threads is
not handed back to the system (a dozen actions grew the process from 28 to 203 MB).
So every database call of the screens runs here instead, on one of :data:`POOL_SIZE`
threads whose thread-local peewee connections stay open and warm. Nothing here
imports Textual: the app owns one pool and screens await :meth:`DatabasePool.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Two for a screen's parallel reads (the first rows and the slow total count of the
# records screen), one more so a write or a page is not queued behind them.
POOL_SIZE = 3
THREAD_PREFIX = "finance-db"


class DatabasePool:
    """Runs database calls on a fixed number of threads, at most ``size`` at once."""

    def __init__(self, size: int = POOL_SIZE, *, name: str = THREAD_PREFIX) -> None:
        self.size = size
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self.closed = False

    def run(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """Start ``call`` on a pool thread now; await the returned future for its result.

        Driver errors arrive as :class:`~finance_tui.errors.DatabaseUnavailable`.
        Cancelling the future before a thread picked the call up drops the call, so a
        stale request (the user has typed on) costs no query.
        """
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, _guarded, call)

    def close(self) -> None:
        """Drop queued calls and let the threads end after their current call; their
        connections close with them. Does not wait (a long count must not hold the
        exit)."""
        self.closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)


def _guarded(call: Callable[[], T]) -> T:
    # Imported on the pool thread: the database layer (peewee) loads off the UI thread,
    # after the first frame.
    from finance_tui.db import database_errors

    with database_errors():
        return call()
