"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when
FINANCE_TUI_TEST_DATABASE_URL is set), and logged-in sessions for each role."""

from __future__ import annotations

import io
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("FINANCE_TUI_BCRYPT_ROUNDS", "4")  # fast hashing in tests only
os.environ.pop("FINANCE_TUI_SECRET_KEY", None)
os.environ.pop("FINANCE_TUI_DATABASE_URL", None)
os.environ["FINANCE_TUI_KEYMAP"] = "/nonexistent/finance-tui-tests/keymap.toml"  # no user keymap

from headless_paint import MARKER, paint_only_what_is_looked_at, painting_every_frame  # noqa: E402
from idle_wait import quicken_idle_waits  # noqa: E402
from parsed_css import share_parsed_css  # noqa: E402
from screen_wait import wait_only_for_busy_nodes  # noqa: E402
from young_gc import collect_young_less_often, settle_heap_for_shutdown  # noqa: E402

from finance_tui.config import reset_settings  # noqa: E402
from finance_tui.db import prepare_sqlite_file  # noqa: E402
from finance_tui.migrations import SIGNING_KEY, apply_migrations  # noqa: E402
from finance_tui.models import ALL_MODELS, Meta, database  # noqa: E402
from finance_tui.services.users import bootstrap_admin, insert_user  # noqa: E402
from finance_tui.session import SessionController  # noqa: E402
from finance_tui.startup import connect  # noqa: E402

share_parsed_css()  # each style sheet parsed once per test process, not once per app
paint_only_what_is_looked_at()  # headless apps paint when a test looks, not every frame
quicken_idle_waits()  # the pilot polls for an idle app every 5 ms, not every 20 ms
wait_only_for_busy_nodes()  # after a key, the pilot waits for the nodes with work only
collect_young_less_often()  # a young collection per 10,000 new objects, not per 700


@pytest.fixture(autouse=True)
def _paint_every_frame_when_marked(request) -> Iterator[None]:
    """``@pytest.mark.paints_every_frame``: the test's headless apps paint every frame."""
    if request.node.get_closest_marker(MARKER) is None:
        yield
        return
    with painting_every_frame():
        yield


def auto_workers(cpus: int) -> int:
    """``pytest -n auto``: five workers per two CPUs. A Textual pilot test spends more
    than half of its time off the CPU (the pilot's idle polls after each key, debounce
    timers, database threads: 149 s of CPU in 320 s of the tui files' tests), and the
    tests of real processes (SSH, web, browser, pty) wait on their children; one worker
    per CPU leaves that CPU unused meanwhile. On 2 CPUs, alternating on 2026-12-03 (the
    machine drifted about 2.5 s slower a run): 5 workers 153.8 and 161.4 s, 4 workers
    168.0 and 175.7 s, 6 workers 175.7 and 184.1 s. Earlier, 3 workers took 184 and 190 s
    where 4 took 176 s."""
    return max(2, cpus * 5 // 2)


@pytest.hookimpl(optionalhook=True)  # pytest -p no:xdist has no such hook
def pytest_xdist_auto_num_workers(config) -> int | None:
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own reading of the variable
    return auto_workers(usable_cpus())


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session) -> None:
    settle_heap_for_shutdown()  # a worker ends in well under execnet's 5 s


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _worker_database(base_url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (finance_test_gw0,
    ...), created fresh from the server named by ``base_url``, so the workers never reset
    each other's tables and the PostgreSQL pass can run in parallel."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not base_url or not worker:
        return base_url
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(base_url)
    name = f"{(parsed.path or '/').lstrip('/') or 'finance_test'}_{worker}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = parsed._replace(path=f"/{name}").geturl()
    os.environ["FINANCE_TUI_TEST_DATABASE_URL"] = url  # subprocesses of this worker too
    return url


PG_URL = _worker_database(os.environ.get("FINANCE_TUI_TEST_DATABASE_URL", ""))
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct-horse-1"


def _reset_postgres() -> None:
    """Empty every table and re-apply the migrations (fast compared to a new database)."""
    db = connect(PG_URL, migrate=False)
    tables = [m._meta.table_name for m in reversed(ALL_MODELS)]
    with db.atomic():
        db.execute_sql("DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        for extra in db.get_tables():
            db.execute_sql(f'DROP TABLE IF EXISTS "{extra}" CASCADE')
    apply_migrations(db)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per session (per xdist worker), copied by every test:
    running all migrations per test cost far more than a file copy. Checkpointed and
    closed, so the copy needs no -wal/-shm file to be complete."""
    path = tmp_path_factory.mktemp("template") / "finance.db"
    connect(f"sqlite:///{path}")
    _close_complete(path)
    return path


def _checkpoint_and_close() -> None:
    """Move the write-ahead log into the main file and close: that file is complete."""
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()


def _close_complete(path: Path) -> None:
    """Checkpoint and close the database at ``path``: the file alone is then complete."""
    _checkpoint_and_close()
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert not leftovers, f"template left journal files behind: {leftovers}"


Roles = tuple[str, ...]
USERS_OF: dict[str, Roles] = {  # the fixture a test uses -> the users it logs in
    "sessions": ("admin", "viewer", "analyst"),
    "admin": ("admin",),
    "make_user": ("admin",),
}


def _roles_needed(request) -> Roles:
    """The logged-in users the test's fixtures ask for, most first (``sessions`` holds
    the admin's too)."""
    return next((USERS_OF[f] for f in USERS_OF if f in request.fixturenames), ())


def _log_in(roles: Roles) -> dict[str, SessionController]:
    """Create and log in the users: "root" the bootstrapped admin, then one user per other
    role named after it and its place ("viewer1", "analyst2"), all with PASSWORD."""
    logged_in: dict[str, SessionController] = {}
    for place, role in enumerate(roles):
        if place == 0:
            bootstrap_admin("root", "root@example.com", PASSWORD)
            logged_in[role] = SessionController.login("root", PASSWORD)
        else:
            logged_in[role] = _new_user(f"{role}{place}", role)
    return logged_in


def _new_user(username: str, role: str) -> SessionController:
    """A new user with PASSWORD, logged in."""
    with database.atomic():
        insert_user(username, f"{username}@example.com", PASSWORD, role)
    return SessionController.login(username, PASSWORD)


class SqliteTemplates:
    """Migrated SQLite files to copy, one per set of logged-in users, each built once
    per worker: creating and logging in three users cost 26 ms of CPU per test, five
    times the copy. A copy holds their open sessions, their tokens resume on it
    (verified there), and it keeps the signing key the tokens were signed with."""

    def __init__(self, migrated: Path, tmp_path_factory: pytest.TempPathFactory):
        self._files: dict[Roles, tuple[Path, dict[str, str]]] = {(): (migrated, {})}
        self._tmp_path_factory = tmp_path_factory

    def file(self, roles: Roles) -> tuple[Path, dict[str, str]]:
        """The template for ``roles`` and the token of each role's session in it."""
        if roles not in self._files:
            path = self._tmp_path_factory.mktemp("template-" + "-".join(roles)) / "finance.db"
            shutil.copyfile(self._files[()][0], path)
            connect(f"sqlite:///{path}")
            tokens = {role: session.token for role, session in _log_in(roles).items()}
            _close_complete(path)
            self._files[roles] = (path, tokens)
        return self._files[roles]


@pytest.fixture(scope="session")
def sqlite_templates(sqlite_template, tmp_path_factory) -> SqliteTemplates:
    return SqliteTemplates(sqlite_template, tmp_path_factory)


def _fresh_sqlite(template: Path, path: Path, *, new_key: bool) -> str:
    """A private copy of the template at ``path``, connected and bound to the models;
    ``new_key``: with its own signing key, as a newly created database would have."""
    prepare_sqlite_file(path)  # the app's own private file modes; copyfile keeps them
    shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    connect(url)
    if new_key:
        Meta.update(value=secrets.token_hex(32)).where(Meta.key == SIGNING_KEY).execute()
    return url


def save_sqlite_copy(path: Path, to: Path) -> None:
    """Copy the connected SQLite database at ``path`` to ``to``, complete in one file,
    and connect to ``path`` again."""
    _checkpoint_and_close()
    shutil.copyfile(path, to)
    connect(f"sqlite:///{path}")


def restore_sqlite_copy(saved: Path, path: Path) -> None:
    """Replace the connected SQLite database at ``path`` with the copy ``saved`` (file
    modes stay those of ``path``), and connect to it."""
    database.close()
    for journal in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        journal.unlink(missing_ok=True)
    shutil.copyfile(saved, path)
    connect(f"sqlite:///{path}")


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path) -> Iterator[str]:
    """URL of a fresh, migrated database for this test (tests may reconnect to it);
    on SQLite already holding the users that the test's ``admin`` or ``sessions`` asks for."""
    reset_settings()
    if request.param == "sqlite":
        roles = _roles_needed(request)
        template, _ = request.getfixturevalue("sqlite_templates").file(roles)
        url = _fresh_sqlite(template, tmp_path / "finance.db", new_key=not roles)
    else:
        _reset_postgres()
        url = PG_URL
    yield url
    if not database.is_closed():
        database.close()
    reset_settings()


@pytest.fixture
def db(db_url):
    """The connected peewee database for this test."""
    return database.obj


@pytest.fixture
def logged_in(request, db_url) -> dict[str, SessionController]:
    """The sessions of the users the test asks for: resumed from the SQLite template's
    tokens, or created and logged in on PostgreSQL."""
    roles = _roles_needed(request)
    if not db_url.startswith("sqlite"):
        return _log_in(roles)
    _, tokens = request.getfixturevalue("sqlite_templates").file(roles)
    return {role: SessionController.resume(token) for role, token in tokens.items()}


@pytest.fixture
def admin(logged_in) -> SessionController:
    return logged_in["admin"]


@pytest.fixture
def make_user(logged_in) -> Callable[..., SessionController]:
    """``make_user("analyst")`` → a logged-in session of a new user with that role."""
    counter = {"n": len(logged_in) - 1}  # the users logged in already ("viewer1", ...)

    def factory(role: str = "viewer", name: str | None = None) -> SessionController:
        counter["n"] += 1
        return _new_user(name or f"{role}{counter['n']}", role)

    return factory


@pytest.fixture
def sessions(logged_in) -> dict[str, SessionController]:
    return logged_in


def table_counts() -> dict[str, int]:
    """Row count of every table: tests compare before/after to prove nothing changed."""
    return {m._meta.table_name: m.select().count() for m in ALL_MODELS}


@pytest.fixture
def counts() -> Callable[[], dict[str, int]]:
    """``counts()`` → {table: rows}; compare two calls to prove a refusal wrote nothing."""
    return table_counts


@pytest.fixture
def run_cli(monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    """``run_cli(args, stdin="") -> (exit code, stdout, stderr)``; stdin is not a terminal."""
    from finance_tui import cli

    def invoke(args: list[str], stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke
