"""Opening the database the way the app and the CLI start: bind, migrate, clean up.

Above the services (it runs the migrations and the clean-up of dead imports), so
``finance_tui.db`` below them only opens connections.
"""

from __future__ import annotations

from peewee import DatabaseError

from finance_tui.db import AppDatabase, open_database
from finance_tui.dburl import describe
from finance_tui.errors import FinanceError


def connect(url: str | None = None, *, migrate: bool = True) -> AppDatabase:
    """Open (and by default create/migrate) the database and bind the models to it."""
    db = open_database(url)
    if migrate:
        # Imported here: only a migrating start needs them (the first frame does not).
        from finance_tui.migrations import apply_migrations
        from finance_tui.services.imports import sweep

        apply_migrations(db)
        # an import whose process died leaves invisible rows: remove them (doctor shows it)
        db.finance_cleaned = tuple(sweep())
    return db


def connect_checked(url: str, *, migrate: bool = True) -> AppDatabase:
    """:func:`connect`, with a path that cannot be created or a file that is not a
    database reported as one :class:`FinanceError` naming the database."""
    try:
        return connect(url, migrate=migrate)
    except FinanceError:
        raise
    except OSError as exc:  # e.g. the directory of a SQLite path cannot be created
        raise FinanceError(f"Cannot open database {describe(url)}: {exc.strerror or exc}") from exc
    except DatabaseError as exc:  # e.g. the path is not a SQLite database
        raise FinanceError(f"Cannot open database {describe(url)}: {exc}") from exc
