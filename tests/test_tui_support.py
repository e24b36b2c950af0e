"""Helpers for the shell / login / dashboard / records / form tests (no tests here)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot

from finance_tui.app import FinanceApp
from finance_tui.db import write_transaction
from finance_tui.models import Category, Record, User
from finance_tui.services.bulk import NewRecord, insert_records
from finance_tui.session import SessionController
from screens.records import RecordsScreen

SIZE = (120, 36)
TODAY = date(2026, 11, 25)
FIXED_AT = datetime(2026, 11, 25, 9, 30)


def make_app(tmp_path: Path, session: SessionController | None = None, **kwargs) -> FinanceApp:
    """The real app with a fixed date, no idle lock, no polling, a private state file."""
    options = {
        "today": TODAY,
        "idle_lock_minutes": 0,
        "state_path": tmp_path / "tui-state.json",
        "refresh_seconds": 0,
        "db_label": "test.db",
    }
    options.update(kwargs)
    return FinanceApp(session=session, **options)


async def settle(pilot: Pilot, *, timers: float = 0.0) -> None:
    """Wait for debounce timers (``timers`` seconds) and every DB worker to finish."""
    if timers:
        await pilot.pause(timers)
    for _ in range(100):
        await pilot.pause()
        running = [w for w in pilot.app.workers if not w.is_finished and w.group != "change-poll"]
        if not running:
            break
        await pilot.app.workers.wait_for_complete(running)
    await pilot.pause()


async def type_text(pilot: Pilot, text: str) -> None:
    """Type ``text`` into the focused widget as one burst of key events, as a terminal
    delivers fast typing, and wait until every key is handled.

    The key events are those ``pilot.press(*text)`` sends, but ``pilot.press`` idles at
    least 40 ms after each key (and the screen redraws in between), which is most of
    the cost of a test that types dates or names. Use it where the text, not the pace
    of typing, matters, and only for text meant for one widget: without the app's
    typeahead gate, headless Textual gives each key of a burst to the widget focused
    when the key is read, so keys that move focus or open a screen (Enter, Tab, a
    screen key) still go through ``pilot.press``.
    """
    app = pilot.app
    for character in text:
        name = character if character.isalnum() else _character_to_key(character)
        event = events.Key(name, character)
        event.set_sender(app)
        app._driver.send_message(event)
    for _ in range(100):
        await pilot.pause()
        nodes = [app, *app.screen.walk_children(with_self=True)]
        if not any(node.message_queue_size for node in nodes):
            break


def category_id(name: str) -> int:
    return Category.get(Category.name_lower == name).id


def seed(count: int, *, start: date = TODAY, owner: SessionController | None = None) -> None:
    """``count`` records on distinct days back from ``start``: deterministic order.

    Every 4th is income (salary); expenses cycle food, rent, other. Amount of record i
    is ``10.50 + 7 * i``; notes are ``note i``.
    """
    ids = {name: category_id(name) for name in ("salary", "food", "rent", "other")}
    rows = []
    for i in range(count):
        income = i % 4 == 0
        category = "salary" if income else ("food", "rent", "other")[i % 3]
        rows.append(
            NewRecord(
                kind="income" if income else "expense",
                amount_minor=1050 + 700 * i,
                category_id=ids[category],
                date=start - timedelta(days=i),
                notes=f"note {i}",
                created_at=FIXED_AT - timedelta(minutes=i),
            )
        )
    creator = owner.principal.user_id if owner else User.select().first().id
    with write_transaction():
        insert_records(rows, creator)


def amount_of(i: int) -> Decimal:
    return Decimal(1050 + 700 * i) / 100


def live_records() -> list[Record]:
    return list(Record.select().where(Record.is_deleted == False))  # noqa: E712


def assert_only_the_documented_expense() -> None:
    """The one record the README's keystrokes enter: 12.50, food, today, lunch."""
    (rec,) = live_records()
    assert (rec.kind, rec.amount, rec.category.name, rec.date, rec.notes) == (
        "expense",
        1250,
        "food",
        TODAY,
        "lunch",
    )


def write_fingerprint() -> tuple:
    """Everything a write would change: records (incl. deleted), categories, users."""
    records = sorted(
        (str(r.id), r.version, r.is_deleted, r.amount, r.notes) for r in Record.select()
    )
    categories = sorted((c.id, c.name, c.kind, c.is_archived) for c in Category.select())
    users = sorted((str(u.id), u.role, u.is_active, u.password_hash) for u in User.select())
    return records, categories, users


def table_column(table, index: int) -> list[str]:
    """Plain text of one column of a DataTable, in display order."""
    values = []
    for row in range(table.row_count):
        cell = table.get_row_at(row)[index]
        values.append(getattr(cell, "plain", str(cell)))
    return values


def palette_titles(app: FinanceApp, screen) -> set[str]:
    """Every command the palette offers on ``screen``: the app's and the screen's own."""
    system = {c.title for c in app.get_system_commands(screen)}
    return system | {command.title for command in screen.palette_commands()}


async def open_records(pilot: Pilot) -> RecordsScreen:
    """Go to the records screen (key 2) once the app has settled; return it."""
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RecordsScreen)
    return screen
