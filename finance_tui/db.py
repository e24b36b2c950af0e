"""Opening a database by URL, engine-specific tuning, and the write-transaction helper."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import Database, OperationalError, PostgresqlDatabase, SqliteDatabase

from finance_tui.config import settings, user_path
from finance_tui.errors import FinanceError
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


class DatabaseUrlError(FinanceError):
    pass


def normalize_url(url: str | None) -> str:
    """Turn a path or URL into a URL; ``None`` means the environment or the default."""
    url = url or settings().database_url
    if "://" not in url:
        return f"sqlite:///{user_path(url).resolve()}"
    return url


def describe(url: str) -> str:
    """URL without the password, for display ("connected to ...")."""
    parsed = urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        return sqlite_path(url)
    host = parsed.hostname or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    user = f"{parsed.username}@" if parsed.username else ""
    return f"{parsed.scheme}://{user}{host}{port}{parsed.path}"


def sqlite_path(url: str) -> str:
    """The file of a SQLite URL: ``sqlite:///relative`` or ``sqlite:////absolute``."""
    path = url.split("://", 1)[1]
    return unquote(path[1:] if path.startswith("/") else path)


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


def make_database(url: str) -> Database:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = sqlite_path(url)
        if path != ":memory:":
            path = str(prepare_sqlite_file(Path(path)))
        db = SqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            lock_type="IMMEDIATE",  # take the write lock up front: no busy-snapshot errors
            check_same_thread=False,
        )
        db.register_function(casefold_contains, "casefold_contains", 2, deterministic=True)
        return db
    if scheme in ("postgres", "postgresql"):
        parsed = urlparse(url)
        return PostgresqlDatabase(
            (parsed.path or "/").lstrip("/") or None,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port,
            prefer_psycopg3=True,
        )
    raise DatabaseUrlError(
        f"Unsupported database URL {url!r}: use a file path, sqlite:///PATH "
        "or postgresql://user:password@host:port/dbname"
    )


def connect(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open (and by default create/migrate) the database and bind the models to it."""
    from finance_tui.migrations import apply_migrations

    url = normalize_url(url)
    db = make_database(url)
    if not isinstance(database.obj, type(None)) and database.obj is not db:
        with contextlib.suppress(Exception):
            database.obj.close()
    database.initialize(db)
    db.finance_url = url  # type: ignore[attr-defined]
    try:
        db.connect(reuse_if_open=True)
    except Exception as exc:  # driver errors name the cause; show them without a traceback
        raise FinanceError(f"Cannot open database {describe(url)}: {exc}") from exc
    if migrate:
        from finance_tui.services.imports import sweep

        apply_migrations(db)
        # an import whose process died leaves invisible rows: remove them (doctor shows it)
        db.finance_cleaned = sweep()  # type: ignore[attr-defined]
    return db


def current_url() -> str:
    return getattr(database.obj, "finance_url", "")


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """One short write transaction (BEGIN IMMEDIATE on SQLite). Nests as a savepoint."""
    if not is_sqlite() or database.transaction_depth() > 0:
        with database.atomic():
            yield
        return
    with contextlib.ExitStack() as stack:
        stack.push(_begin_sqlite())
        yield


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _begin_sqlite():
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
