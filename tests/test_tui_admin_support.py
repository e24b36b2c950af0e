"""Helpers for the admin/account/analytics screen tests (no tests here).

``HostApp`` is a test-only app that pushes one screen, so each screen can be tested
and snapshotted on its own at a fixed size, independent of the app shell.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from finance_tui.clock import Clock
from finance_tui.db import write_transaction
from finance_tui.dbpool import DatabasePool
from finance_tui.models import AuditEvent, User

SIZE = (120, 36)
FIXED_NOW = datetime(2026, 11, 25, 9, 30)
T = TypeVar("T")


class HostApp(App):
    """Pushes the screens made by ``factories`` on mount; records what they dismissed
    with and the app-shell hooks they call (``logout``, ``session_expired``, ``goto``).
    It is a ``screens.base.ShellApp``: a clock (fixed with ``clock``) and its own
    database pool, without the shell's navigation."""

    def __init__(
        self, *factories: Callable[[], Screen], session=None, clock: Clock | None = None
    ) -> None:
        super().__init__()
        self.factories = factories
        self.session = session
        self.clock = clock or Clock()
        self.database = DatabasePool()
        self.visited: list[str] = []
        self.results: list[object] = []
        self.expired: list[str] = []
        self.logged_out = 0

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        for factory in self.factories:
            self.push_screen(factory(), self.results.append)

    def on_unmount(self) -> None:
        self.database.close()

    def run_db(self, call: Callable[[], T]) -> Awaitable[T]:
        return self.database.run(call)

    def nav_entries(self) -> list:
        return []

    def goto(self, name: str) -> None:
        self.visited.append(name)

    def session_expired(self, message: str) -> None:
        self.expired.append(message)

    def logout(self, message: str = "") -> None:
        """Like the real shell: revoke the token (here synchronously) and leave."""
        self.logged_out += 1
        if self.session is not None:
            self.session.logout()


def in_shell(name: str, then: Callable | None = None) -> Callable:
    """``run_before`` for a snapshot of screen ``name`` inside the real app shell (nav
    bar, footer), optionally followed by ``then(pilot)``."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.goto(name)
        await settle(pilot)
        if then is not None:
            await then(pilot)
        for box in pilot.app.screen.query(Input):  # no blink phase in the picture
            box.cursor_blink = False
        await pilot.pause()

    return run_before


async def settle(pilot: Pilot) -> None:
    """Wait until no worker runs (completions may start further workers)."""
    for _ in range(50):
        await pilot.pause()
        running = [w for w in pilot.app.workers if not w.is_finished]
        if not running:
            break
        await pilot.app.workers.wait_for_complete(running)
    await pilot.pause()


def notifications(app: App) -> list[str]:
    return [str(n.message) for n in app._notifications]


def fix_user_times(when: datetime = FIXED_NOW) -> None:
    """Deterministic timestamps for snapshots (login/creation times are wall-clock)."""
    with write_transaction():
        User.update(created_at=when, updated_at=when, last_login_at=when).execute()


def fix_audit_times(when: datetime = FIXED_NOW) -> None:
    with write_transaction():
        AuditEvent.update(at=when).execute()


def sqlite_only(db_url: str) -> None:
    """Snapshots do not depend on the engine: take them once, on SQLite."""
    if not db_url.startswith("sqlite"):
        pytest.skip("appearance is engine-independent; snapshot taken on SQLite")
