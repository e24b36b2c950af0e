"""A one-row SELECT whose SQL is generated once per database, then run with new values.

Peewee builds a query's SQL anew at every execution: for the session check's
ten-column join that was about 60% of the time the query took on SQLite. That matters only for a query run
before every service call, the session check; everything else goes through peewee's
query builder as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from peewee import Database, Field, Select

from finance_tui.db import current_database

# Stands in for the value while the SQL is generated; it never reaches the database.
SLOT = "finance-tui-compiled-select-slot-7d3f9a"


class CompiledSelect:
    """``build(value)`` gives the query; its SQL is made once per open database.

    ``fields`` names the model field behind each selected column, so rows come back
    as peewee would give them: UUIDs, datetimes, booleans, on SQLite as on PostgreSQL.
    """

    def __init__(self, build: Callable[[str], Select], fields: Sequence[Field]) -> None:
        self._build = build
        self._converters = [field.python_value for field in fields]
        self._compiled: tuple[Database, str, list[Any], int] | None = None

    def first(self, value: str) -> tuple[Any, ...] | None:
        """The first row for ``value``, converted, or None."""
        database, sql, params, slot = self._for(current_database())
        cursor = database.execute_sql(sql, [*params[:slot], value, *params[slot + 1 :]])
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return tuple(convert(item) for convert, item in zip(self._converters, row, strict=True))

    def _for(self, database: Database) -> tuple[Database, str, list[Any], int]:
        compiled = self._compiled
        if compiled is None or compiled[0] is not database:
            sql, params = self._build(SLOT).sql()
            compiled = (database, sql, list(params), list(params).index(SLOT))
            self._compiled = compiled
        return compiled
