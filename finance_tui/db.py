"""Opening a database by URL, engine-specific tuning, the write-transaction helper, and
the translation of driver errors into :class:`DatabaseUnavailable` (:func:`database_errors`)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from peewee import (
    Database,
    DatabaseError,
    OperationalError,
    PeeweeException,
    PostgresqlDatabase,
    SqliteDatabase,
)

if TYPE_CHECKING:
    from peewee import _atomic

from finance_tui.dburl import DatabaseUrlError as DatabaseUrlError
from finance_tui.dburl import check_url, describe, normalize_url, sqlite_path
from finance_tui.errors import DatabaseUnavailable, FinanceError
from finance_tui.models import database

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Taking the write lock: SQLite's own busy handler backs off to one try per 100 ms, which
# misses the short gaps a long import leaves between its batches; write_transaction
# tries every few milliseconds instead (same overall limit).
_LOCK_TRY_MS = 5
_LOCK_RETRY_SLEEP = 0.002
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    "synchronous": "normal",
    "cache_size": -32_000,  # 32 MB page cache
    "temp_store": "memory",
}


# Modes asked of the OS for a new SQLite file and its directory, before the umask.
# Never anything for "other" users: the file holds password hashes and the data. Group
# bits follow the umask, so a team sharing a setgid directory (umask 002) keeps access.
PRIVATE_FILE_MODE = 0o660
PRIVATE_DIR_MODE = 0o770


def casefold_contains(haystack: str | None, needle: str) -> bool:
    """SQL function for SQLite, whose LIKE folds ASCII case only ('crème' vs 'CRÈME')."""
    return haystack is not None and needle.casefold() in haystack.casefold()


def prepare_sqlite_file(path: Path) -> Path:
    """Create the directory and an empty database file with private modes, if missing.

    SQLite would create the file with 0644 & ~umask (readable by every user) and gives
    its -wal and -shm files the main file's mode, so creating the main file first, with
    no "other" bits, keeps all three private. Existing files keep their mode
    (``finance-tui doctor`` reports loose ones).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        path = path.resolve()
        with contextlib.suppress(FileExistsError):
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            os.close(os.open(path, flags, PRIVATE_FILE_MODE))
    except OSError as exc:
        raise FinanceError(f"Cannot create database {path}: {exc.strerror or exc}") from exc
    return path


class _Opened:
    """What :func:`connect` remembers on the database it opened, for messages and doctor."""

    finance_url: str = ""
    # What the start-up sweep of dead imports did (doctor prints it).
    finance_cleaned: tuple[str, ...] = ()


class SqliteAppDatabase(_Opened, SqliteDatabase):
    pass


class PostgresAppDatabase(_Opened, PostgresqlDatabase):
    """Remembers, per thread, which connection generation it opened (see
    :func:`database_errors`): after the server was lost, older connections are dropped."""

    def _initialize_connection(self, conn: Any) -> None:
        super()._initialize_connection(conn)
        _thread.generation = _generation


AppDatabase = SqliteAppDatabase | PostgresAppDatabase


def make_database(url: str) -> AppDatabase:
    scheme = urlparse(check_url(url)).scheme
    if scheme == "sqlite":
        path = sqlite_path(url)
        if path != ":memory:":
            path = str(prepare_sqlite_file(Path(path)))
        db = SqliteAppDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            lock_type="IMMEDIATE",  # take the write lock up front: no busy-snapshot errors
            check_same_thread=False,
        )
        db.register_function(casefold_contains, "casefold_contains", 2, deterministic=True)
        return db
    parsed = urlparse(url)  # postgres:// or postgresql://
    return PostgresAppDatabase(
        (parsed.path or "/").lstrip("/") or None,
        user=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        host=parsed.hostname,
        port=parsed.port,
        prefer_psycopg3=True,
    )


def open_database(url: str | None = None) -> AppDatabase:
    """Open the database and bind the models to it (no schema change: see
    ``finance_tui.startup.connect``, which also migrates)."""
    url = normalize_url(url)
    db = make_database(url)
    previous = database.obj
    if previous is not None and previous is not db:
        with contextlib.suppress(Exception):
            previous.close()
    database.initialize(db)
    db.finance_url = url
    try:
        db.connect(reuse_if_open=True)
    except Exception as exc:  # driver errors name the cause; show them without a traceback
        raise FinanceError(f"Cannot open database {describe(url)}: {exc}") from exc
    return db


def current_url() -> str:
    """The URL of the database the models are bound to ("" before :func:`connect`)."""
    db = database.obj
    return db.finance_url if isinstance(db, _Opened) else ""


def current_database() -> Database:
    """The database the models are bound to, for code that needs the engine itself (an
    error before :func:`connect`: the proxy has nothing to hand over then)."""
    db = database.obj
    if db is None:
        raise RuntimeError("no database is open: call finance_tui.db.connect() first")
    return db


# The terminal UI's SQLite memory, every connection's page cache together. Each pool
# thread's connection may cache up to cache_size (32 MB); at a million records a long
# session filled several of them (+67 MB peak RSS against 1k records). Past this limit
# SQLite recycles cached pages instead of growing; the pages stay in the OS file cache.
TUI_SQLITE_HEAP_LIMIT = 16 * 1024 * 1024


def limit_sqlite_heap(limit: int = TUI_SQLITE_HEAP_LIMIT) -> None:
    """Cap SQLite's heap for this whole process (a process-wide pragma), on SQLite only.

    For long-lived processes holding several connections (the TUI); one-shot commands
    keep full caches (an import writes to many indexes at once)."""
    if is_sqlite():
        current_database().execute_sql(f"PRAGMA soft_heap_limit = {int(limit)}")


def sqlite_heap_limit() -> int:
    """The process's current soft heap limit (0: none)."""
    return int(current_database().execute_sql("PRAGMA soft_heap_limit").fetchone()[0])


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


class DiskFull(DatabaseUnavailable):
    """The database could not grow: the disk (or the database's size limit) is full.

    Raised by :func:`write_transaction` with the error SQLite's own rollback hid;
    ``outcome`` says what was not written (a save, an import).
    """

    def __init__(self, detail: str, outcome: str = "nothing was saved"):
        message = MESSAGES[DISK_FULL].replace("nothing was saved", outcome)
        super().__init__(DISK_FULL, message, detail)


# What the ROLLBACK after an error says when SQLite had already rolled back by itself,
# as it does on SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM (the real error is the one before).
_ROLLBACK_FAILED = ("cannot rollback - no transaction is active", "no such savepoint")
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"


def _rollback_failed(exc: BaseException) -> bool:
    return any(text in str(exc) for text in _ROLLBACK_FAILED)


def _original_error(exc: BaseException) -> BaseException:
    """The error that started it all, when ``exc`` is only the failed ROLLBACK after it."""
    if not _rollback_failed(exc):
        return exc
    cause = exc.__context__
    while cause is not None and _rollback_failed(cause):
        cause = cause.__context__
    return cause if cause is not None else exc


def is_disk_full(exc: BaseException) -> bool:
    """SQLITE_FULL ("database or disk is full") or PostgreSQL's disk_full (53100)."""
    for error in (exc, getattr(exc, "orig", None), exc.__context__):
        if error is None:
            continue
        if getattr(error, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if _PG_DISK_FULL in (getattr(error, "sqlstate", None), getattr(error, "pgcode", None)):
            return True
        if "database or disk is full" in str(error):
            return True
    return False


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """One short write transaction (BEGIN IMMEDIATE on SQLite). Nests as a savepoint.

    On a full disk SQLite rolls the transaction back itself, and the ROLLBACK that
    follows fails with "cannot rollback - no transaction is active", hiding the cause:
    the original error is raised instead, as :class:`DiskFull` when it is one.
    """
    try:
        if not is_sqlite() or database.transaction_depth() > 0:
            with database.atomic():
                yield
            return
        with contextlib.ExitStack() as stack:
            stack.push(_begin_sqlite())
            yield
    except DatabaseError as exc:
        original = _original_error(exc)
        if is_disk_full(original):
            detail = " ".join(str(original).split()) or "no space left"
            raise DiskFull(detail) from original
        if original is not exc:
            raise original from None
        raise


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _begin_sqlite() -> _atomic:
    """Enter an outer SQLite transaction, polling for the write lock every few ms (up
    to the usual busy timeout) so a writer gets in between another one's short batches."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    database.execute_sql(f"PRAGMA busy_timeout = {_LOCK_TRY_MS}")
    try:
        while True:
            transaction = database.atomic()
            try:
                transaction.__enter__()
                return transaction
            except OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(_LOCK_RETRY_SLEEP)
    finally:
        database.execute_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def change_token() -> tuple[int, int]:
    """Cheap value that changes whenever anyone commits a change (for live refresh).

    Every change writes an audit event in its own transaction, so the newest audit id
    moves on every write; SQLite's data_version also catches writes from other processes.
    """
    newest = database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM audit_event").fetchone()[0]
    version = 0
    if is_sqlite():
        version = database.execute_sql("PRAGMA data_version").fetchone()[0]
    return int(newest), int(version)


def advisory_lock(name: str) -> None:
    """Serialise a check-then-write across processes (inside a write transaction).

    SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock so
    that, e.g., two admins demoting each other cannot both pass the last-admin check.
    """
    if is_postgres():
        database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))


# ---- driver errors -> DatabaseUnavailable ------------------------------------------
# A server restart kills every open connection, but each thread (peewee keeps one
# connection per thread) only learns it on its next query. So when any thread loses
# its connection the generation moves on, and every thread drops a connection opened
# before that at its next use instead of failing once more.
_generation = 0
_generation_lock = threading.Lock()
_thread = threading.local()

BUSY = "busy"
CONNECTION = "connection"
OVERLOADED = "overloaded"
DISK_FULL = "disk_full"
READ_ONLY = "read_only"
CANT_OPEN = "cant_open"
IO_ERROR = "io_error"
DAMAGED = "damaged"
OTHER = "other"

MESSAGES = {
    BUSY: "The database is busy (another user's long operation, such as an import); "
    "try again in a moment",
    CONNECTION: "Lost the connection to the database server; it will reconnect on your next action",
    OVERLOADED: "The database server is overloaded (too many connections or out of "
    "memory); try again in a moment",
    DISK_FULL: "The disk holding the database is full; nothing was saved; free some space "
    "and try again",
    READ_ONLY: "The database is read-only (file or folder permissions, or a read-only "
    "server); nothing can be saved",
    CANT_OPEN: "Cannot open the database file (moved, deleted, or its folder is not accessible)",
    IO_ERROR: "The disk reported an error reading or writing the database; try again, "
    "and tell your administrator if it persists",
    DAMAGED: "The database file is damaged; ask your administrator to restore a backup",
    OTHER: "The database reported an error",
}

# SQLite result codes by name (extended codes such as SQLITE_IOERR_WRITE share the prefix).
_SQLITE_REASONS = {
    "SQLITE_BUSY": BUSY,
    "SQLITE_LOCKED": BUSY,
    "SQLITE_FULL": DISK_FULL,
    "SQLITE_READONLY": READ_ONLY,
    "SQLITE_CANTOPEN": CANT_OPEN,
    "SQLITE_IOERR": IO_ERROR,
    "SQLITE_CORRUPT": DAMAGED,
    "SQLITE_NOTADB": DAMAGED,
    "SQLITE_NOMEM": OVERLOADED,
}
# PostgreSQL SQLSTATE codes, exact first, then by class (the first two characters).
_PG_STATES = {
    "57P01": CONNECTION,  # admin_shutdown: the server is stopping or restarting
    "57P02": CONNECTION,  # crash_shutdown
    "57P03": CONNECTION,  # cannot_connect_now: starting up or shutting down
    "53100": DISK_FULL,
    "25006": READ_ONLY,  # read_only_sql_transaction (a hot standby)
    "40001": BUSY,  # serialization_failure
    "40P01": BUSY,  # deadlock_detected
    "55P03": BUSY,  # lock_not_available
    "57014": BUSY,  # query_canceled (statement_timeout)
    "58030": IO_ERROR,
    "XX001": DAMAGED,  # data_corrupted
    "XX002": DAMAGED,  # index_corrupted
}
_PG_CLASSES = {"08": CONNECTION, "53": OVERLOADED}
# Last resort when a driver gives no code: words of the message.
_WORDS = (
    ("locked", BUSY),
    ("busy", BUSY),
    ("disk is full", DISK_FULL),
    ("no space left", DISK_FULL),
    ("readonly", READ_ONLY),
    ("read-only", READ_ONLY),
    ("unable to open", CANT_OPEN),
    ("disk i/o", IO_ERROR),
    ("malformed", DAMAGED),
    ("not a database", DAMAGED),
)


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The DB-API error classes in use (psycopg only once a PostgreSQL database loaded it)."""
    classes: list[type[BaseException]] = [PeeweeException, sqlite3.Error]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        classes.append(psycopg.Error)
    return tuple(classes)


def _original(exc: BaseException) -> BaseException:
    """The driver's exception inside peewee's wrappers (each keeps the one it wrapped as
    ``orig``; a failed reconnect inside a query is wrapped twice)."""
    while isinstance(inner := getattr(exc, "orig", None), BaseException):
        exc = inner
    return exc


def _detail(exc: BaseException) -> str:
    """The driver's first line, whitespace collapsed: enough to report, short to show."""
    text = str(_original(exc)).strip()
    first = " ".join(text.splitlines()[0].split()) if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def classify(exc: BaseException) -> str | None:
    """The reason key for a database error, or None when ``exc`` is not one."""
    if not isinstance(exc, _driver_errors()):
        return None
    orig = _original(exc)
    name = getattr(orig, "sqlite_errorname", None)
    if name:
        for prefix, reason in _SQLITE_REASONS.items():
            if name == prefix or name.startswith(prefix + "_"):
                return reason
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state:
        return _PG_STATES.get(state) or _PG_CLASSES.get(state[:2]) or OTHER
    if type(orig).__module__.startswith("psycopg") and type(orig).__name__ in (
        "OperationalError",
        "InterfaceError",
    ):
        return CONNECTION  # client-side: refused, closed, broken (no SQLSTATE)
    text = str(orig).lower()
    return next((reason for words, reason in _WORDS if words in text), OTHER)


def _drop_connection() -> None:
    """Close this thread's connection so that its next query connects afresh."""
    if database.obj is None or database.is_closed() or database.in_transaction():
        return
    with contextlib.suppress(Exception):  # closing a dead connection may itself fail
        database.close()


def _connection_lost() -> None:
    global _generation
    with _generation_lock:
        _generation += 1
    _drop_connection()


def _drop_stale_connection() -> None:
    """A connection opened before some thread lost the server is dead too: drop it."""
    if getattr(_thread, "generation", _generation) != _generation:
        _drop_connection()
        _thread.generation = _generation


def _broken() -> bool:
    """Whether this thread's PostgreSQL connection is unusable (lost, or in error)."""
    db = database.obj
    if db is None or not is_postgres() or database.is_closed():
        return False
    with contextlib.suppress(Exception):
        return not db.is_connection_usable()
    return True


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """Turn driver errors into :class:`DatabaseUnavailable` (a FinanceError: shown as one
    line, never a traceback). Wrap each unit of work at a boundary (a TUI worker, a CLI
    command, a poll), outside its transactions: a lost connection is closed so that the
    next unit reconnects, and so are other threads' connections older than the loss."""
    _drop_stale_connection()
    try:
        yield
    except Exception as exc:
        reason = classify(exc)
        if reason is None:
            raise
        if reason == CONNECTION or _broken():
            _connection_lost()
        raise DatabaseUnavailable(reason, MESSAGES[reason], _detail(exc)) from exc
