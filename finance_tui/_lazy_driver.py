"""Keep peewee from importing the PostgreSQL driver until a PostgreSQL database is opened.

peewee imports psycopg (~0.1-0.2 s) when it is itself first imported, even for a SQLite
user. This module, imported by the package before anything imports peewee, hides the
driver during that import and hands it to peewee when a ``PostgresqlDatabase`` is
created. Start-up of the TUI on SQLite stays fast; PostgreSQL works as before.

When it can be removed: when ``tests/test_lazy_driver.py``'s
``test_stock_peewee_imports_psycopg_at_import_time`` fails after a peewee upgrade
(peewee then loads the driver lazily itself), delete this module and its import in
``finance_tui/__init__.py``.
"""

from __future__ import annotations

import sys
from typing import Any

_HIDE_DRIVER = "peewee" not in sys.modules and "psycopg" not in sys.modules
if _HIDE_DRIVER:
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # `import psycopg` fails
try:
    import peewee
finally:
    if _HIDE_DRIVER:
        del sys.modules["psycopg"]


def load_postgres_driver() -> None:
    """Give peewee the psycopg module it did not import."""
    if peewee.psycopg is not None or peewee.psycopg2 is not None:
        return
    try:
        import psycopg
        from psycopg.pq import TransactionStatus
        from psycopg.types.json import Json, Jsonb
    except ImportError:
        return  # peewee reports "psycopg postgres driver not found" itself
    peewee.psycopg = psycopg
    peewee.TransactionStatus = TransactionStatus
    peewee.Json_pg3, peewee.Jsonb_pg3 = Json, Jsonb


_original_init = peewee.PostgresqlDatabase.__init__


def _init_with_driver(self: peewee.PostgresqlDatabase, *args: Any, **kwargs: Any) -> None:
    load_postgres_driver()
    _original_init(self, *args, **kwargs)


if _HIDE_DRIVER:
    peewee.PostgresqlDatabase.__init__ = _init_with_driver  # type: ignore[method-assign]
