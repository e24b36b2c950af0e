"""Start-up: the first frame loads no database layer, the database opens after it, and a
database that cannot open still ends the app with one line. Memory: the TUI caps
SQLite's heap, so several warm connections do not each grow to their own cache."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_tui_support import SIZE, settle

from finance_tui.app import FinanceApp
from finance_tui.db import (
    TUI_SQLITE_HEAP_LIMIT,
    current_database,
    current_url,
    limit_sqlite_heap,
    sqlite_heap_limit,
)
from finance_tui.migrations import latest_version, schema_version

REPO = Path(__file__).resolve().parent.parent
# What the login screen does not need: the database layer, password hashing, tokens.
NOT_BEFORE_THE_FIRST_FRAME = (
    "peewee",
    "psycopg",
    "bcrypt",
    "jwt",
    "finance_tui.db",
    "finance_tui.models",
    "finance_tui.session",
    "finance_tui.services",
    "tomllib",  # the keymap file's parser, when there is such a file
    "importlib.resources",  # through importlib.abc
)


def loaded_in_fresh_process(code: str) -> list[str]:
    """Which of :data:`NOT_BEFORE_THE_FIRST_FRAME` a fresh interpreter has after ``code``."""
    check = (
        f"{code}\n"
        "import sys\n"
        f"print(' '.join(m for m in {NOT_BEFORE_THE_FIRST_FRAME!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    return out.stdout.split()


def test_the_app_and_its_login_screen_import_no_database_layer():
    assert loaded_in_fresh_process("import finance_tui.app, screens.login") == []


def test_the_cli_starts_the_tui_without_the_database_layer(tmp_path):
    code = (
        "import finance_tui.app as app\n"
        "seen = []\n"
        "app.run_app = lambda url, **options: seen.append(url) or 0\n"
        "from finance_tui.cli import main\n"
        f"assert main(['--db', {str(tmp_path / 'team.db')!r}]) == 0\n"
        f"assert seen == ['sqlite:///{tmp_path / 'team.db'}'], seen\n"
    )
    assert loaded_in_fresh_process(code) == []
    assert not (tmp_path / "team.db").exists()  # the app opens it, after its first frame


def test_the_cli_starts_the_tui_with_garbage_collection_paused(tmp_path):
    code = (
        "import gc\n"
        "import finance_tui.app as app\n"
        "seen = []\n"
        "app.run_app = lambda url, **options: seen.append(gc.isenabled()) or 0\n"
        "from finance_tui.cli import main\n"
        f"assert main(['--db', {str(tmp_path / 'team.db')!r}]) == 0\n"
        "assert seen == [False], seen\n"
    )
    loaded_in_fresh_process(code)  # raises if an assertion in ``code`` failed


async def test_garbage_collection_is_back_on_once_the_login_screen_is_painted(tmp_path):
    """The CLI pauses collection on the way to the first frame; the app resumes it."""
    gc.disable()
    try:
        app = _opening_app(f"sqlite:///{tmp_path / 'new.db'}", tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert type(app.screen).__name__ == "LoginScreen"
            assert gc.isenabled()
    finally:
        gc.enable()


def _opening_app(url: str, tmp_path: Path) -> FinanceApp:
    return FinanceApp(
        url,
        open_database=True,
        idle_lock_minutes=0,
        state_path=tmp_path / "state.json",
        refresh_seconds=0,
    )


async def test_the_app_opens_and_migrates_the_database_after_the_login_screen(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    app = _opening_app(url, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        # A database call made before the opening finished waits for it.
        assert await app.run_db(current_url) == url
        await settle(pilot)
        assert type(app.screen).__name__ == "LoginScreen"
        assert await app.run_db(lambda: schema_version(current_database())) == latest_version()
        try:
            assert await app.run_db(sqlite_heap_limit) == TUI_SQLITE_HEAP_LIMIT
        finally:  # process-wide: the next tests in this process run uncapped
            await app.run_db(lambda: limit_sqlite_heap(0))
        assert app.startup_error == ""


@pytest.mark.parametrize("content", ["this is not a database\n" * 100])
async def test_a_database_that_cannot_open_ends_the_app_with_its_reason(tmp_path, content):
    junk = tmp_path / "notes.txt"
    junk.write_text(content)
    app = _opening_app(f"sqlite:///{junk}", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.monotonic() + 30  # a busy machine: the failure comes, only later
        while not app.startup_error and time.monotonic() < deadline:
            await pilot.pause(0.05)
    assert app.startup_error == f"Cannot open database {junk}: file is not a database"
    assert app.return_value == 1
    assert junk.read_text() == content


def test_the_tui_refuses_an_unopenable_database_in_one_line(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a database\n" * 100)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-m", "finance_tui", "--db", str(junk)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.rstrip("\n").rsplit("\n", 1)[-1]
    assert last.endswith(f"error: Cannot open database {junk}: file is not a database")
