"""Opening the database the way the app and the CLI start: bind, migrate, clean up.

Above the services (it runs the migrations and the clean-up of dead imports), so
``finance_tui.db`` below them only opens connections.
"""

from __future__ import annotations

from finance_tui.db import AppDatabase, open_database


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
