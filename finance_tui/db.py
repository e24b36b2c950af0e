"""Opening a database by URL, engine-specific tuning, and the write-transaction helper."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import Database, DatabaseError, PostgresqlDatabase, SqliteDatabase

from finance_tui.config import settings, user_path
from finance_tui.errors import FinanceError
from finance_tui.models import database

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    "synchronous": "normal",
    "cache_size": -32_000,  # 32 MB page cache
    "temp_store": "memory",
}


class DatabaseUrlError(FinanceError):
    pass


def normalize_url(url: str | None) -> str:
    """Turn a path or URL into a URL; ``None`` means the environment or the default."""
    url = url or settings().database_url
    if "\x00" in url:
        raise DatabaseUrlError("the database path or URL contains a NUL character")
    if "://" not in url:  # a plain path: a '%' in it is a character, not an escape
        return f"sqlite:///{str(user_path(url).resolve()).replace('%', '%25')}"
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


def make_database(url: str) -> Database:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = sqlite_path(url)
        if "\x00" in path:
            raise DatabaseUrlError(f"the database path {path!r} contains a NUL character (%00)")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).resolve())
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
        apply_migrations(db)
    return db


def current_url() -> str:
    return getattr(database.obj, "finance_url", "")


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


class DiskFull(FinanceError):
    """The database could not grow: the disk (or the database's size limit) is full."""

    def __init__(self, detail: str, outcome: str = "nothing was saved"):
        self.detail = detail
        super().__init__(f"The disk is full ({detail}); {outcome}")


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
        with database.atomic():
            yield
    except DatabaseError as exc:
        original = _original_error(exc)
        if is_disk_full(original):
            detail = " ".join(str(original).split()) or "no space left"
            raise DiskFull(detail) from original
        if original is not exc:
            raise original from None
        raise


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
