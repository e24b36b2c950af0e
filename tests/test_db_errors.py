"""Database failures (busy, full, read-only, server lost) become one clear message, in
the TUI (notification; the app keeps running and the form keeps what was typed) and the
CLI (one line, exit 1); after a PostgreSQL restart the next action reconnects."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from conftest import PASSWORD
from own_postgres import OwnPostgres, unavailable_reason
from peewee import IntegrityError, OperationalError
from test_tui_admin_support import HostApp, notifications
from test_tui_support import SIZE, TODAY, live_records, make_app, settle
from textual.widgets import Input, Static

import finance_tui.db as dbmod
from finance_tui.config import reset_settings
from finance_tui.db import classify, database_errors, sqlite_path
from finance_tui.errors import DatabaseUnavailable
from finance_tui.migrations import apply_migrations
from finance_tui.models import ALL_MODELS, Category, database
from finance_tui.services.users import bootstrap_admin
from finance_tui.session import SessionController
from finance_tui.startup import connect
from screens.account import AccountScreen, LockScreen
from screens.admin_widgets import FormModal
from screens.categories import CategoriesScreen
from screens.login import LoginScreen
from screens.record_form import KindToggle, RecordForm
from screens.records import RecordsScreen

BUSY = "The database is busy (another user's long operation, such as an import); try again"
LOST = "Lost the connection to the database server; it will reconnect on your next action"
FULL = "The disk holding the database is full; nothing was saved; free some space and try again"
READ_ONLY = "The database is read-only"
SHORT_BUSY_MS = 150
LUNCH = {"kind": "expense", "amount": "12.50", "category": "food", "date": "today"}

NO_OWN_PG = unavailable_reason()
needs_own_pg = pytest.mark.skipif(NO_OWN_PG is not None, reason=NO_OWN_PG or "")


# ---- fixtures -------------------------------------------------------------------------
@pytest.fixture
def sqlite_url(db_url: str, monkeypatch) -> str:
    """The test's SQLite database, reopened with a short busy timeout (not 15 s)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite locking, page limits and query_only are SQLite's own")
    monkeypatch.setitem(dbmod.SQLITE_PRAGMAS, "busy_timeout", SHORT_BUSY_MS)
    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_MS)
    connect(db_url)
    return db_url


@pytest.fixture
def write_lock(sqlite_url: str) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction: holds SQLite's write lock until rolled back."""
    other = sqlite3.connect(sqlite_path(sqlite_url), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.rollback()
    other.close()


@pytest.fixture(scope="module")
def own_pg() -> Iterator[OwnPostgres]:
    if NO_OWN_PG is not None:
        pytest.skip(NO_OWN_PG)
    server = OwnPostgres()
    yield server
    server.remove()


@pytest.fixture
def pg_admin(own_pg: OwnPostgres) -> Iterator[SessionController]:
    """A fresh schema on the private server and a logged-in admin."""
    reset_settings()
    if not own_pg.running:
        own_pg.start()
    db = connect(own_pg.url, migrate=False)
    tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
    db.execute_sql(f"DROP TABLE IF EXISTS {tables} CASCADE")
    for extra in db.get_tables():
        db.execute_sql(f'DROP TABLE IF EXISTS "{extra}" CASCADE')
    apply_migrations(db)
    bootstrap_admin("root", "root@example.com", PASSWORD)
    yield SessionController.login("root", PASSWORD)
    if not own_pg.running:
        own_pg.start()
    with database_errors():  # this thread's connection may predate a restart
        database.close()
    reset_settings()


def _problem(call) -> DatabaseUnavailable:
    with pytest.raises(DatabaseUnavailable) as caught, database_errors():
        call()
    return caught.value


# ---- classification ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sqlstate", "reason"),
    [
        ("57P01", "connection"),  # admin shutdown (server restart)
        ("08006", "connection"),  # connection failure
        ("53100", "disk_full"),
        ("53300", "overloaded"),  # too many connections
        ("25006", "read_only"),
        ("40P01", "busy"),  # deadlock
        ("55P03", "busy"),  # lock not available
        ("XX001", "damaged"),
        ("42601", "other"),  # syntax error: still one line, never a traceback
    ],
)
def test_postgres_error_codes_become_reasons(sqlstate, reason):
    driver = psycopg.errors.lookup(sqlstate)("server says no")
    wrapped = OperationalError(driver, *driver.args)  # as peewee raises it
    assert classify(wrapped) == reason
    assert classify(driver) == reason


def test_client_side_driver_errors_and_plain_bugs():
    refused = psycopg.OperationalError("connection failed: Connection refused")
    twice = OperationalError(OperationalError(refused))  # a reconnect inside a query
    assert classify(twice) == "connection"
    assert classify(psycopg.InterfaceError("the connection is closed")) == "connection"
    assert classify(sqlite3.OperationalError("database is locked")) == "busy"
    assert classify(IntegrityError("UNIQUE constraint failed: user.email")) == "other"
    assert classify(ValueError("a bug")) is None
    with pytest.raises(ValueError, match="a bug"), database_errors():
        raise ValueError("a bug")  # not the database's: stays a bug (traceback)


def test_message_is_plain_language_then_the_drivers_first_line():
    problem = _problem(lambda: _raise(sqlite3.OperationalError("database is locked\nmore")))
    assert (problem.reason, problem.detail) == ("busy", "database is locked")
    assert str(problem) == (
        "The database is busy (another user's long operation, such as an import); "
        "try again in a moment (database: database is locked)"
    )


def _raise(exc: Exception) -> None:
    raise exc


# ---- SQLite: locked, full, read-only --------------------------------------------------
def test_sqlite_write_lock_held_elsewhere_is_busy(admin, write_lock):
    problem = _problem(lambda: admin.records.create(LUNCH, today=TODAY))
    assert problem.reason == "busy"
    assert str(problem).startswith(BUSY)
    assert "database is locked" in str(problem)
    write_lock.rollback()
    with database_errors():
        admin.records.create(LUNCH, today=TODAY)
    assert [r.amount for r in live_records()] == [1250]


def test_sqlite_disk_full(admin, sqlite_url):
    pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
    database.execute_sql(f"PRAGMA max_page_count = {pages}")  # the "disk" is full now
    notes = "x" * 1000

    def fill() -> None:
        for _ in range(200):
            admin.records.create({**LUNCH, "notes": notes}, today=TODAY)

    problem = _problem(fill)
    assert problem.reason == "disk_full"
    assert str(problem).startswith(FULL)
    assert "database or disk is full" in str(problem)


def test_sqlite_read_only(admin, sqlite_url, monkeypatch):
    monkeypatch.setitem(dbmod.SQLITE_PRAGMAS, "query_only", 1)
    connect(sqlite_url, migrate=False)
    problem = _problem(lambda: admin.records.create(LUNCH, today=TODAY))
    assert problem.reason == "read_only"
    assert str(problem).startswith(READ_ONLY)
    assert "readonly" in problem.detail


# ---- TUI on SQLite ------------------------------------------------------------------
async def _new_form_with_lunch(pilot) -> RecordForm:
    """Records screen, ``n``, then type: expense 12.50 food, notes 'lunch'."""
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RecordsScreen)
    await pilot.press("n")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, RecordForm)
    await pilot.press("e", "enter", *"12.50", "enter", *"food", "enter", "enter", *"lunch")
    assert _typed(form) == ("expense", "12.50", "food", TODAY.isoformat(), "lunch")
    return form


def _typed(form: RecordForm) -> tuple[str, ...]:
    fields = ("amount", "category", "date", "notes")
    values = [form.query_one(f"#field-{f}", Input).value for f in fields]
    return (form.query_one(KindToggle).value, *values)


def _form_error(form: RecordForm) -> str:
    return form.query_one("#form-error", Static).content.plain


async def test_tui_save_while_database_locked_keeps_the_form(admin, tmp_path, write_lock):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        form = await _new_form_with_lunch(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running and app.screen is form
        assert any(n.startswith(BUSY) for n in notifications(app))
        assert _form_error(form).startswith(BUSY)
        assert _typed(form) == ("expense", "12.50", "food", TODAY.isoformat(), "lunch")
        assert live_records() == []
        write_lock.rollback()  # the other user's operation ends
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
    (rec,) = live_records()
    assert (rec.kind, rec.amount, rec.category.name, rec.notes) == (
        "expense",
        1250,
        "food",
        "lunch",
    )


async def test_tui_login_while_database_locked_keeps_the_password(admin, tmp_path, write_lock):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        login = app.screen
        assert isinstance(login, LoginScreen)
        await pilot.press(*"root", "tab", *PASSWORD, "enter")
        await settle(pilot)
        assert app.is_running and app.screen is login and app.session is None
        assert any(n.startswith(BUSY) for n in notifications(app))
        assert login.query_one("#login-password", Input).value == PASSWORD
        assert login.query_one("#login-identifier", Input).value == "root"
        write_lock.rollback()
        await pilot.press("enter")
        await settle(pilot)
        assert app.session is not None and app.session.principal.username == "root"


async def test_tui_category_form_on_read_only_database_keeps_the_form(
    admin, sqlite_url, monkeypatch
):
    monkeypatch.setitem(dbmod.SQLITE_PRAGMAS, "query_only", 1)
    connect(sqlite_url, migrate=False)  # every connection from now on refuses writes
    app = HostApp(lambda: CategoriesScreen(admin), session=admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-name", Input).value = "Travel"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running and app.screen is form
        assert any(n.startswith(READ_ONLY) for n in notifications(app))
        assert form.query_one("#field-name", Input).value == "Travel"
        monkeypatch.delitem(dbmod.SQLITE_PRAGMAS, "query_only")
        connect(sqlite_url, migrate=False)  # the administrator fixed the permissions
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    assert Category.get(Category.name_lower == "travel").name == "Travel"


async def test_tui_password_form_while_database_locked_keeps_the_fields(admin, write_lock):
    new = "a-much-better-1"
    app = HostApp(lambda: AccountScreen(admin), session=admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        typed = {"old_password": PASSWORD, "new_password": new, "confirm": new}
        for name, value in typed.items():
            screen.query_one(f"#field-{name}", Input).value = value
        screen.query_one("#field-confirm", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and app.screen is screen
        assert any(n.startswith(BUSY) for n in notifications(app))
        assert {n: screen.query_one(f"#field-{n}", Input).value for n in typed} == typed
        write_lock.rollback()
        await pilot.press("enter")
        await settle(pilot)
        assert "Password changed; your other sessions were signed out" in notifications(app)
    assert SessionController.login("root", new)


async def test_tui_unlock_while_database_locked_keeps_the_password(admin, tmp_path, write_lock):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")  # what the idle timer does
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        await pilot.press(*PASSWORD, "enter")
        await settle(pilot)
        assert app.is_running and app.screen is lock
        assert lock.error_text.startswith(BUSY)
        assert any(n.startswith(BUSY) for n in notifications(app))
        assert lock.query_one("#lock-password", Input).value == PASSWORD
        write_lock.rollback()
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, LockScreen) and app.session is admin


# ---- CLI ---------------------------------------------------------------------------------
def test_cli_database_busy_is_one_line(admin, sqlite_url, write_lock, run_cli):
    code, out, err = run_cli(["user", "list", "--user", "root", "--db", sqlite_url], PASSWORD)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: " + BUSY)
    assert "(database: database is locked)" in err


# ---- PostgreSQL: the server restarts under a running session ------------------------------
@needs_own_pg
def test_every_threads_connection_reconnects_after_a_restart(pg_admin, own_pg):
    """Each thread has its own connection; one thread's failure retires them all."""

    def one() -> object:
        with database_errors():
            return database.execute_sql("SELECT 1").fetchone()[0]

    def in_three_threads(pool: ThreadPoolExecutor) -> list[object]:
        barrier = threading.Barrier(3)  # all three at once: three threads, three connections

        def each(_: int) -> object:
            barrier.wait()
            return one()

        return list(pool.map(each, range(3)))

    with ThreadPoolExecutor(3) as pool:
        assert in_three_threads(pool) == [1, 1, 1]
        own_pg.stop()
        own_pg.start()
        with pytest.raises(DatabaseUnavailable, match="^" + LOST):
            one()  # this thread learns of the restart
        assert in_three_threads(pool) == [1, 1, 1]  # the others do not fail again


@needs_own_pg
async def test_tui_save_during_postgres_restart(pg_admin, own_pg, tmp_path):
    app = make_app(tmp_path, pg_admin)
    async with app.run_test(size=SIZE) as pilot:
        form = await _new_form_with_lunch(pilot)
        own_pg.stop()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running and app.screen is form
        assert any(n.startswith(LOST) for n in notifications(app))
        assert _form_error(form).startswith(LOST)
        assert _typed(form) == ("expense", "12.50", "food", TODAY.isoformat(), "lunch")
        own_pg.start()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        assert app.screen.total == 1
    with database_errors():
        (rec,) = live_records()
    assert (rec.amount, rec.category.name, rec.notes) == (1250, "food", "lunch")


@needs_own_pg
async def test_tui_live_refresh_reports_outage_and_recovery(pg_admin, own_pg, tmp_path):
    app = make_app(tmp_path, pg_admin, refresh_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        own_pg.stop()
        await _wait_for(pilot, lambda: any("live refresh paused" in n for n in notifications(app)))
        (paused,) = [n for n in notifications(app) if "live refresh paused" in n]
        assert paused.startswith(LOST)
        own_pg.start()
        await _wait_for(pilot, lambda: "The database is available again" in notifications(app))
        assert app.is_running
        assert len([n for n in notifications(app) if "live refresh paused" in n]) == 1


async def _wait_for(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)
