"""Keep peewee from importing the PostgreSQL driver until a PostgreSQL database is opened.

peewee imports psycopg (~0.1-0.2 s) when it is itself first imported, even for a SQLite
user. The package installs, before anything imports peewee, an import hook that runs
peewee's first import with the driver hidden and hands the driver to peewee when a
``PostgresqlDatabase`` is created. The hook does not import peewee itself: the terminal
UI paints its login screen before it needs the database (start-up time).

When it can be removed: when ``tests/test_lazy_driver.py``'s
``test_stock_peewee_imports_psycopg_at_import_time`` fails after a peewee upgrade
(peewee then loads the driver lazily itself), delete this module and its import in
``finance_tui/__init__.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importlib.abc would cost the first frame importlib.resources
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec


def load_postgres_driver() -> None:
    """Give peewee the psycopg module it did not import."""
    import peewee

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


def _load_driver_first(peewee: ModuleType) -> None:
    original = peewee.PostgresqlDatabase.__init__

    def init_with_driver(self: Any, *args: Any, **kwargs: Any) -> None:
        load_postgres_driver()
        original(self, *args, **kwargs)

    peewee.PostgresqlDatabase.__init__ = init_with_driver


class _DriverHidingLoader:
    """Runs peewee's module code while ``import psycopg`` fails (unless it is loaded)."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        hide = "psycopg" not in sys.modules
        if hide:
            sys.modules["psycopg"] = None  # type: ignore[assignment]  # `import psycopg` fails
        try:
            self.loader.exec_module(module)
        finally:
            if hide:
                del sys.modules["psycopg"]
        if hide:
            _load_driver_first(module)


class _PeeweeFinder:
    """Finds peewee with the other finders and wraps its loader; used once."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "peewee":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None and spec.loader is not None:
                spec.loader = _DriverHidingLoader(spec.loader)
                return spec
        return None


if "peewee" not in sys.modules and "psycopg" not in sys.modules:
    sys.meta_path.insert(0, _PeeweeFinder())
