"""The workaround in ``finance_tui/_lazy_driver.py``: peewee imports psycopg eagerly.

Each check runs in a fresh interpreter, because this test process has imported both
long ago. If ``test_stock_peewee_imports_psycopg_at_import_time`` fails after a peewee
upgrade, peewee loads the driver lazily by itself and the module can go.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(statement: str) -> set[str]:
    """Which of the PostgreSQL driver modules a fresh interpreter has after ``statement``."""
    code = (
        f"{statement}\n"
        "import sys\n"
        "print(' '.join(m for m in ('psycopg', 'psycopg2') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(out.stdout.split())


def test_stock_peewee_imports_psycopg_at_import_time():
    """The behaviour the module works around. When this fails, remove the module."""
    assert loaded_after("import peewee") & {"psycopg", "psycopg2"}


def test_the_package_imports_peewee_without_the_driver():
    assert loaded_after("import finance_tui, peewee") == set()


def test_a_postgresql_database_gets_the_driver():
    statement = (
        "import finance_tui, peewee\n"
        "assert peewee.psycopg is None\n"
        "peewee.PostgresqlDatabase('nowhere')\n"
        "assert peewee.psycopg is not None and peewee.Json_pg3 is not None\n"
    )
    assert "psycopg" in loaded_after(statement)


@pytest.mark.parametrize("first", ["peewee", "psycopg"])
def test_nothing_is_hidden_when_the_driver_or_peewee_came_first(first):
    """Imported before the package, the module leaves peewee exactly as it is."""
    statement = f"import {first}\nimport finance_tui, peewee\nassert peewee.psycopg is not None\n"
    assert "psycopg" in loaded_after(statement)
