"""The command line: every command's happy path and its bad-input message, in-process via
``cli.main`` and (to prove no tracebacks escape) a few through ``python -m finance_tui``."""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import PASSWORD

from finance_tui import __version__, cli
from finance_tui.commands import common
from finance_tui.config import reset_settings
from finance_tui.models import AuditEvent, Session, User
from finance_tui.services.users import bootstrap_admin, insert_user
from finance_tui.session import SessionController

REPO = Path(__file__).resolve().parent.parent
UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/nowhere"


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch) -> Path:
    """Token files and default databases go to a temporary home, never the real one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_STATE_HOME", "state"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("FINANCE_TUI_DATABASE_URL", raising=False)
    reset_settings()
    yield home
    reset_settings()


@pytest.fixture
def run(run_cli):
    """``run(args, stdin="") -> (exit code, stdout, stderr)`` with stdin not a terminal."""
    return run_cli


@pytest.fixture
def boss(db_url) -> str:
    """An admin "boss" with PASSWORD; returns the database URL."""
    bootstrap_admin("boss", "boss@example.com", PASSWORD)
    return db_url


def add_user(name: str, role: str) -> None:
    with User._meta.database.atomic():
        insert_user(name, f"{name}@example.com", PASSWORD, role)


def user(name: str) -> User:
    return User.get(User.username_lower == name.lower())


def can_login(name: str, password: str) -> bool:
    try:
        SessionController.login(name, password).logout()
    except Exception:
        return False
    return True


def one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


# ---- top level ---------------------------------------------------------------------
def test_version(run, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"finance-tui {__version__}"


def test_every_present_command_module_registers():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names = set(sub.choices)
    assert {"init", "user", "login", "logout", "passwd", "backup"} <= names


def test_no_command_opens_the_tui_on_the_given_database(run, db_url, monkeypatch):
    opened: list[str] = []
    fake_app = types.ModuleType("finance_tui.app")
    fake_app.run_app = lambda url, **options: opened.append((url, options)) or 0
    monkeypatch.setitem(sys.modules, "finance_tui.app", fake_app)
    code, _, err = run(["--db", db_url])
    assert (code, err) == (0, "")
    # The CLI only checks the URL; the app opens the database after its first frame.
    assert opened == [(db_url, {})]


def test_no_command_with_bad_database_reports_before_the_tui(run, monkeypatch):
    fake_app = types.ModuleType("finance_tui.app")
    fake_app.run_app = lambda url, **options: pytest.fail("the TUI must not start")
    monkeypatch.setitem(sys.modules, "finance_tui.app", fake_app)
    code, _, err = run(["--db", "mysql://somewhere/db"])
    assert code == 1
    one_line_error(err, "Unsupported database URL")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://host/db", "Unsupported database URL"),
        (UNREACHABLE_PG, "Cannot open database postgresql://postgres@127.0.0.1:1/nowhere"),
    ],
)
def test_bad_database_urls_are_one_line_errors(run, url, fragment):
    code, out, err = run(["user", "list", "--db", url])
    assert (code, out) == (1, "")
    one_line_error(err, fragment)


def test_a_file_that_is_not_a_database(run, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a database\n" * 100)
    code, _, err = run(["init", "--db", str(junk)])
    assert code == 1
    one_line_error(err, "Cannot open database", str(junk))
    assert junk.read_text().startswith("this is not a database")


def test_db_option_goes_before_or_after_the_command(run, boss):
    code_before, out_before, _ = run(["--db", boss, "user", "list", "--user", "boss"], PASSWORD)
    code_after, out_after, _ = run(["user", "list", "--user", "boss", "--db", boss], PASSWORD)
    assert code_before == code_after == 0
    assert "boss@example.com" in out_before
    assert out_before == out_after


# ---- init ----------------------------------------------------------------------------
def test_init_creates_the_first_admin_from_stdin(run, db_url):
    code, out, err = run(
        ["init", "--db", db_url, "--admin-user", "Alice", "--admin-email", "alice@example.com"],
        "long-password-1\n",
    )
    assert (code, err) == (0, "")
    assert "Created admin Alice <alice@example.com>" in out
    alice = user("alice")
    assert alice.role == "admin" and alice.is_active
    assert can_login("alice@example.com", "long-password-1")


def test_init_on_a_new_sqlite_file_creates_it(run, tmp_path):
    path = tmp_path / "sub" / "team.db"
    code, out, _ = run(
        ["init", "--db", str(path), "--admin-user", "root", "--admin-email", "r@example.com"],
        "long-password-1\n",
    )
    assert code == 0
    assert path.is_file()
    assert f"Database ready: {path}" in out


def test_init_refuses_a_bad_admin_password_and_creates_nobody(run, db_url):
    code, _, err = run(
        ["init", "--db", db_url, "--admin-user", "alice", "--admin-email", "a@example.com"],
        "short\n",
    )
    assert code == 1
    one_line_error(err, "password: must be at least 8 characters")
    assert User.select().count() == 0


def test_init_without_admin_details_off_a_terminal(run, db_url):
    code, _, err = run(["init", "--db", db_url])
    assert code == 1
    one_line_error(err, "--admin-user NAME --admin-email EMAIL")
    assert User.select().count() == 0


def test_init_needs_both_admin_options(run, db_url):
    code, _, err = run(["init", "--db", db_url, "--admin-user", "alice"], "long-password-1\n")
    assert code == 1
    one_line_error(err, "--admin-user and --admin-email go together")
    assert User.select().count() == 0


def test_init_on_a_database_with_users(run, boss):
    code, out, err = run(["init", "--db", boss])
    assert (code, err) == (0, "")
    assert "Database ready" in out
    code, _, err = run(
        ["init", "--db", boss, "--admin-user", "eve", "--admin-email", "eve@example.com"],
        "long-password-1\n",
    )
    assert code == 1
    one_line_error(err, "already has users")
    assert [u.username for u in User.select()] == ["boss"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_init_interactive_asks_again_after_invalid_details(db_url, monkeypatch, capsys):
    answers = iter(["bob", "not-an-email", "bob", "bob@example.com"])
    secrets = iter(["long-password-1", "long-password-1", "long-password-1", "long-password-1"])
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr(common.getpass, "getpass", lambda prompt="": next(secrets))
    assert cli.main(["init", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "email: is not a valid email address" in out
    assert "Created admin bob <bob@example.com>" in out
    assert user("bob").role == "admin"


def test_init_interactive_password_mismatch_changes_nothing(db_url, monkeypatch, capsys):
    answers = iter(["bob", "bob@example.com"])
    secrets = iter(["long-password-1", "long-password-2"])
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr(common.getpass, "getpass", lambda prompt="": next(secrets))
    assert cli.main(["init", "--db", db_url]) == 1
    one_line_error(capsys.readouterr().err, "do not match")
    assert User.select().count() == 0


# ---- login / logout ----------------------------------------------------------------
def test_login_stores_a_private_token_that_later_commands_use(run, boss):
    code, out, err = run(["login", "--db", boss, "--user", "BOSS"], PASSWORD + "\n")
    assert (code, err) == (0, "")
    assert "as boss (admin)" in out
    path = common.token_path(boss)
    assert str(path).startswith(os.environ["XDG_STATE_HOME"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    where, token = path.read_text().splitlines()
    assert where == common.describe(boss)
    assert ":" not in where.partition("://")[2].partition("@")[0]  # no password kept
    assert SessionController.resume(token).principal.username == "boss"

    code, out, _ = run(["user", "list", "--db", boss])  # no --user, no password
    assert code == 0 and "boss@example.com" in out


def test_logout_revokes_the_token_and_deletes_the_file(run, boss):
    run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    token = common.load_token(boss)
    code, out, _ = run(["logout", "--db", boss])
    assert code == 0 and "Logged out" in out
    assert not common.token_path(boss).exists()
    jti = SessionController(token)
    with pytest.raises(Exception, match="signed out"):
        jti.verify()
    code, _, err = run(["user", "list", "--db", boss])
    assert code == 1
    one_line_error(err, "not logged in", "finance-tui login")
    code, out, _ = run(["logout", "--db", boss])
    assert code == 0 and "Not logged in" in out


def test_second_login_revokes_the_first_session(run, boss):
    run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    first = common.load_token(boss)
    run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert common.load_token(boss) != first
    assert Session.select().where(Session.revoked_at.is_null()).count() == 1


@pytest.mark.parametrize("who", ["boss", "nobody"])
def test_login_with_bad_credentials(run, boss, who):
    code, out, err = run(["login", "--db", boss, "--user", who], "wrong-password\n")
    assert (code, out) == (1, "")
    one_line_error(err, "Invalid credentials")
    assert not common.token_path(boss).exists()


def test_login_needs_a_user_off_a_terminal(run, boss):
    code, _, err = run(["login", "--db", boss], PASSWORD + "\n")
    assert code == 1
    one_line_error(err, "--user NAME")


def test_login_with_no_password_on_stdin(run, boss):
    code, _, err = run(["login", "--db", boss, "--user", "boss"], "")
    assert code == 1
    one_line_error(err, "no password on standard input")


def test_a_revoked_stored_session_asks_to_log_in_again(run, boss):
    run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    Session.update(revoked_at=Session.issued_at).execute()
    code, _, err = run(["user", "list", "--db", boss])
    assert code == 1
    one_line_error(err, "signed out", "finance-tui login")
    assert not common.token_path(boss).exists()


def test_tokens_are_kept_per_database(run, boss, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    run(["init", "--db", other, "--admin-user", "o", "--admin-email", "o@x.org"], "x" * 8 + "\n")
    assert common.token_path(other) != common.token_path(boss)


def test_user_option_sessions_end_with_the_command(run, boss):
    code, _, _ = run(["user", "list", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert code == 0
    assert Session.select().count() == 1
    assert Session.select().where(Session.revoked_at.is_null()).count() == 0


# ---- user ------------------------------------------------------------------------------
def test_user_add_with_user_option_reads_both_passwords_from_stdin(run, boss):
    code, out, err = run(
        ["user", "add", "carol", "carol@example.com", "--role", "Analyst", "--db", boss]
        + ["--user", "boss"],
        f"{PASSWORD}\nnew-user-pass-1\n",
    )
    assert (code, err) == (0, "")
    assert "Created carol <carol@example.com> (analyst, active)" in out
    assert user("carol").role == "analyst"
    assert can_login("carol", "new-user-pass-1")


def test_user_add_defaults_to_viewer_with_stored_session(run, boss):
    run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    code, _, _ = run(["user", "add", "dan", "dan@example.com", "--db", boss], "new-user-pass-1\n")
    assert code == 0
    assert user("dan").role == "viewer"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["eve", "eve@example.com", "--role", "superuser"],
            "role: must be viewer, analyst or admin",
        ),
        (["boss", "other@example.com"], "username: 'boss' is already taken"),
        (["eve", "not-an-email"], "email: is not a valid email address"),
    ],
)
def test_user_add_bad_input(run, boss, args, fragment):
    code, out, err = run(
        ["user", "add", *args, "--db", boss, "--user", "boss"], f"{PASSWORD}\nnew-user-pass-1\n"
    )
    assert (code, out) == (1, "")
    one_line_error(err, fragment)
    assert User.select().count() == 1


def test_user_add_short_password(run, boss):
    code, _, err = run(
        ["user", "add", "eve", "eve@example.com", "--db", boss, "--user", "boss"],
        f"{PASSWORD}\nshort\n",
    )
    assert code == 1
    one_line_error(err, "password: must be at least 8 characters")
    assert User.get_or_none(User.username_lower == "eve") is None


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_user_commands_refused_for_non_admins(run, boss, role):
    add_user("worker", role)
    code, _, err = run(
        ["user", "add", "eve", "eve@example.com", "--db", boss, "--user", "worker"],
        f"{PASSWORD}\nnew-user-pass-1\n",
    )
    assert code == 1
    one_line_error(err, f"Permission denied: role '{role}' may not manage users")
    assert User.get_or_none(User.username_lower == "eve") is None


def test_user_list_shows_everyone(run, boss):
    add_user("vic", "viewer")
    add_user("ann", "analyst")
    User.update(is_active=False).where(User.username == "vic").execute()
    code, out, _ = run(["user", "list", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["USERNAME", "EMAIL", "ROLE", "STATUS", "LAST", "LOGIN", "(UTC)"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["ann"][1:4] == ["ann@example.com", "analyst", "active"]
    assert rows["vic"][1:4] == ["vic@example.com", "viewer", "inactive"]
    assert rows["vic"][4] == "never"
    assert rows["boss"][2] == "admin"


def test_user_set_role(run, boss):
    add_user("vic", "viewer")
    code, out, _ = run(
        ["user", "set-role", "VIC@example.com", "admin", "--db", boss, "--user", "boss"],
        PASSWORD + "\n",
    )
    assert code == 0
    assert out.strip() == "vic is now admin (was viewer)"
    assert user("vic").role == "admin"


@pytest.mark.parametrize(
    ("who", "role", "fragment"),
    [
        ("vic", "owner", "role: must be viewer, analyst or admin"),
        ("ghost", "analyst", "no user 'ghost'"),
        ("boss", "viewer", "boss is the last active admin"),
    ],
)
def test_user_set_role_bad_input(run, boss, who, role, fragment):
    add_user("vic", "viewer")
    code, _, err = run(
        ["user", "set-role", who, role, "--db", boss, "--user", "boss"], PASSWORD + "\n"
    )
    assert code == 1
    one_line_error(err, fragment)
    assert (user("vic").role, user("boss").role) == ("viewer", "admin")


def test_user_deactivate_and_activate(run, boss):
    add_user("vic", "viewer")
    vic = SessionController.login("vic", PASSWORD)
    code, out, _ = run(["user", "deactivate", "vic", "--db", boss, "--user", "boss"], PASSWORD)
    assert code == 0 and "Deactivated vic" in out
    assert not user("vic").is_active
    with pytest.raises(Exception, match="signed out|deactivated"):
        vic.verify()
    assert not can_login("vic", PASSWORD)
    code, out, _ = run(["user", "activate", "vic", "--db", boss, "--user", "boss"], PASSWORD)
    assert code == 0 and "Activated vic" in out
    assert can_login("vic", PASSWORD)


def test_user_deactivate_the_last_admin_is_refused(run, boss):
    code, _, err = run(["user", "deactivate", "boss", "--db", boss, "--user", "boss"], PASSWORD)
    assert code == 1
    one_line_error(err, "last active admin")
    assert user("boss").is_active


def test_user_reset_password(run, boss):
    add_user("vic", "viewer")
    code, out, _ = run(
        ["user", "reset-password", "vic", "--db", boss, "--user", "boss"],
        f"{PASSWORD}\nbrand-new-pass-1\n",
    )
    assert code == 0 and "Password reset for vic" in out
    assert can_login("vic", "brand-new-pass-1")
    assert not can_login("vic", PASSWORD)


def test_user_reset_password_unknown_user(run, boss):
    code, _, err = run(
        ["user", "reset-password", "ghost", "--db", boss, "--user", "boss"],
        f"{PASSWORD}\nbrand-new-pass-1\n",
    )
    assert code == 1
    one_line_error(err, "no user 'ghost'")


def _lock(name: str) -> None:
    for _ in range(5):
        assert not can_login(name, "wrong-password")


def test_user_unlock(run, boss):
    add_user("vic", "viewer")
    _lock("vic")
    assert not can_login("vic", PASSWORD)
    code, out, _ = run(["user", "list", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert "locked until" in out
    code, out, err = run(["user", "unlock", "VIC", "--db", boss, "--user", "boss"], PASSWORD)
    assert (code, err) == (0, "")
    assert out == "Lifted the lock on vic; they can log in now\n"
    assert can_login("vic", PASSWORD)
    code, out, _ = run(["user", "unlock", "vic", "--db", boss, "--user", "boss"], PASSWORD)
    assert code == 0 and out == "vic was not locked; their failed attempts are forgotten\n"
    assert AuditEvent.select().where(AuditEvent.action == "user_unlock").count() == 2


def test_user_unlock_refused_and_unknown(run, boss):
    add_user("vic", "viewer")
    add_user("worker", "analyst")
    _lock("vic")
    code, _, err = run(["user", "unlock", "vic", "--db", boss, "--user", "worker"], PASSWORD)
    assert code == 1
    one_line_error(err, "Permission denied: role 'analyst' may not manage users")
    assert not can_login("vic", PASSWORD)
    code, _, err = run(["user", "unlock", "ghost", "--db", boss, "--user", "boss"], PASSWORD)
    assert code == 1
    one_line_error(err, "no user 'ghost'")


def test_login_lock_message_is_relative_and_alike_for_unknown_names(run, boss):
    add_user("vic", "viewer")
    messages = {}
    for name in ("vic", "nobody"):
        for _ in range(5):
            code, _, err = run(["login", "--db", boss, "--user", name], "wrong-password\n")
            assert code == 1
        messages[name] = err
    assert messages["vic"] == messages["nobody"]
    one_line_error(messages["vic"], "Too many failed attempts; try again in 30 s")


def test_user_needs_an_action(run, boss, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(["user", "--db", boss])
    assert exit_info.value.code == 2
    assert "ACTION" in capsys.readouterr().err


# ---- passwd ------------------------------------------------------------------------------
def test_passwd_with_stored_session(run, boss):
    run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    other = SessionController.login("boss", PASSWORD)
    code, out, _ = run(["passwd", "--db", boss], f"{PASSWORD}\nbrand-new-pass-1\n")
    assert code == 0 and "Password changed for boss" in out
    assert can_login("boss", "brand-new-pass-1")
    assert not can_login("boss", PASSWORD)
    with pytest.raises(Exception, match="signed out"):
        other.verify()
    SessionController.resume(common.load_token(boss))  # this session stays valid


def test_passwd_with_user_option(run, boss):
    code, _, _ = run(["passwd", "--db", boss, "--user", "boss"], f"{PASSWORD}\nbrand-new-pass-1\n")
    assert code == 0
    assert can_login("boss", "brand-new-pass-1")


def test_passwd_wrong_current_password(run, boss):
    run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    code, _, err = run(["passwd", "--db", boss], "not-my-password\nbrand-new-pass-1\n")
    assert code == 1
    one_line_error(err, "old_password: is not your current password")
    assert can_login("boss", PASSWORD)


def test_passwd_too_short(run, boss):
    code, _, err = run(["passwd", "--db", boss, "--user", "boss"], f"{PASSWORD}\nshort\n")
    assert code == 1
    one_line_error(err, "new_password: must be at least 8 characters")
    assert can_login("boss", PASSWORD)


# ---- backup ----------------------------------------------------------------------------
def test_backup_copies_a_sqlite_database(run, tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    run(["init", "--db", url, "--admin-user", "boss", "--admin-email", "b@x.org"], "x" * 9 + "\n")
    add_user("vic", "viewer")
    target = tmp_path / "copy.db"
    code, out, err = run(["backup", str(target), "--db", url])
    assert (code, err) == (0, "")
    assert f"to {target}" in out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as copy:
        names = sorted(r[0] for r in copy.execute('SELECT username FROM "user"'))
        mode = copy.execute("PRAGMA journal_mode").fetchone()[0]
    assert names == ["boss", "vic"]
    assert mode == "delete"
    assert not list(tmp_path.glob(".copy.db.*"))


def test_backup_refuses_to_overwrite_unless_forced(run, tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    run(["init", "--db", url, "--admin-user", "boss", "--admin-email", "b@x.org"], "x" * 9 + "\n")
    target = tmp_path / "copy.db"
    target.write_text("precious")
    code, _, err = run(["backup", str(target), "--db", url])
    assert code == 1
    one_line_error(err, "already exists", "--force")
    assert target.read_text() == "precious"
    code, _, _ = run(["backup", str(target), "--force", "--db", url])
    assert code == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute('SELECT COUNT(*) FROM "user"').fetchone()[0] == 1


@pytest.mark.parametrize(
    ("make_target", "fragment"),
    [
        (lambda tmp: tmp / "missing-dir" / "copy.db", "does not exist"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: tmp / "live.db", "cannot be the database itself"),
    ],
)
def test_backup_bad_targets(run, tmp_path, make_target, fragment):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    run(["init", "--db", url, "--admin-user", "boss", "--admin-email", "b@x.org"], "x" * 9 + "\n")
    code, _, err = run(["backup", str(make_target(tmp_path)), "--force", "--db", url])
    assert code == 1
    one_line_error(err, fragment)


def _link(tmp: Path, name: str, to: str, *, hard: bool = False) -> Path:
    link = tmp / name
    target = tmp / to
    if hard:
        os.link(target, link)
    else:
        link.symlink_to(target)
    return link


@pytest.mark.parametrize(
    ("make_target", "fragment"),
    [
        (lambda tmp: tmp / "live.db-wal", "write-ahead log (-wal)"),
        (lambda tmp: tmp / "live.db-shm", "shared-memory file (-shm)"),
        (lambda tmp: tmp / "live.db-journal", "rollback journal (-journal)"),
        (lambda tmp: tmp / "sub" / ".." / "live.db-wal", "write-ahead log (-wal)"),
        (lambda tmp: _link(tmp, "wal-link", "live.db-wal"), "write-ahead log (-wal)"),
        (lambda tmp: _link(tmp, "db-link", "live.db"), "database itself"),
        (lambda tmp: _link(tmp, "hard.db", "live.db", hard=True), "database itself"),
        (lambda tmp: _link(tmp, "hard-wal", "live.db-wal", hard=True), "(-wal)"),
    ],
)
def test_backup_refuses_the_live_databases_own_files(run, tmp_path, make_target, fragment):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    run(["init", "--db", url, "--admin-user", "boss", "--admin-email", "b@x.org"], "x" * 9 + "\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "live.db-wal").touch(exist_ok=True)  # as while a session has it open
    before = {p.name: p.read_bytes() for p in tmp_path.glob("live.db*")}
    code, _, err = run(["backup", str(make_target(tmp_path)), "--force", "--db", url])
    assert code == 1
    one_line_error(err, "backup file cannot be the database", fragment, "choose another")
    assert {p.name: p.read_bytes() for p in tmp_path.glob("live.db*")} == before


def test_backup_of_a_missing_database(run, tmp_path):
    code, _, err = run(["backup", str(tmp_path / "copy.db"), "--db", str(tmp_path / "no.db")])
    assert code == 1
    one_line_error(err, "no database at")
    assert not (tmp_path / "no.db").exists()


def test_backup_on_the_test_engine(run, db_url, tmp_path):
    """On PostgreSQL the command points to pg_dump; on SQLite it copies."""
    target = tmp_path / "copy.db"
    code, _, err = run(["backup", str(target), "--db", db_url])
    if db_url.startswith("postgres"):
        assert code == 1
        one_line_error(err, "pg_dump")
        assert not target.exists()
    else:
        assert code == 0
        assert target.is_file()


# ---- through a real process: no tracebacks ----------------------------------------------
def finance_tui(args: list[str], stdin: str, home: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_DATA_HOME": str(home / "data"),
        "PYTHONPATH": str(REPO),
        "FINANCE_TUI_BCRYPT_ROUNDS": "4",
    }
    return subprocess.run(
        [sys.executable, "-m", "finance_tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
    )


def test_subprocess_happy_path(db_url, private_home):
    init = finance_tui(
        ["--db", db_url, "init", "--admin-user", "boss", "--admin-email", "b@example.com"],
        "long-password-1\n",
        private_home,
    )
    assert init.returncode == 0, init.stderr
    login = finance_tui(
        ["--db", db_url, "login", "--user", "boss"], "long-password-1\n", private_home
    )
    assert login.returncode == 0, login.stderr
    tokens = list((private_home / "state" / "finance-tui" / "sessions").iterdir())
    assert len(tokens) == 1
    assert stat.S_IMODE(tokens[0].stat().st_mode) == 0o600
    listing = finance_tui(["--db", db_url, "user", "list"], "", private_home)
    assert listing.returncode == 0, listing.stderr
    assert "b@example.com" in listing.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["--db", "mysql://h/db", "user", "list"], "", "Unsupported database URL"),
        (["--db", UNREACHABLE_PG, "init"], "", "Cannot open database"),
        (["login", "--user", "ghost"], "whatever-pass\n", "Invalid credentials"),
        (["login", "--user", "boss"], "wrong-password\n", "Invalid credentials"),
        (["user", "set-role", "boss", "emperor", "--user", "boss"], PASSWORD, "role: must be"),
        (["user", "activate", "ghost", "--user", "boss"], PASSWORD, "no user 'ghost'"),
    ],
)
def test_subprocess_bad_input_is_one_line_without_traceback(
    boss, private_home, args, stdin, fragment
):
    result = finance_tui(["--db", boss, *args], stdin, private_home)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    one_line_error(result.stderr, fragment)


def test_token_file_never_holds_the_database_password():
    url = "postgresql://finance:s3cret-pw@db.internal:5432/team"
    path = common.store_token(url, "header.payload.signature")
    assert "s3cret-pw" not in path.read_text()
    assert common.load_token(url) == "header.payload.signature"
    assert common.load_token("postgresql://finance:s3cret-pw@db.internal:5432/other") is None
    assert common.delete_token(url) and not path.exists()


def test_end_of_input_at_a_prompt_is_an_error_not_a_traceback(db_url, monkeypatch, capsys):
    def no_more_input(prompt=""):
        raise EOFError

    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", no_more_input)
    assert cli.main(["init", "--db", db_url]) == 1
    one_line_error(capsys.readouterr().err, "no input")
    assert User.select().count() == 0


def test_user_list_escapes_control_characters_in_emails(run, boss):
    with User._meta.database.atomic():  # validation refuses it now: a row from before
        user = insert_user("mallory", "m@example.com", PASSWORD, "viewer")
        User.update(email="m\x1b[2J\u202e@example.com").where(User.id == user.id).execute()
    code, out, _ = run(["user", "list", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out
    assert "m\\x1b[2J\\u202e@example.com" in out


def test_backup_works_while_another_session_is_writing(run, tmp_path):
    live = tmp_path / "live.db"
    url = f"sqlite:///{live}"
    run(["init", "--db", url, "--admin-user", "boss", "--admin-email", "b@x.org"], "x" * 9 + "\n")
    writer = sqlite3.connect(live, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE \"user\" SET email = 'changed@x.org'")  # not committed yet
        code, _, err = run(["backup", str(tmp_path / "copy.db"), "--db", url])
        assert (code, err) == (0, "")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute('SELECT email FROM "user"').fetchall() == [("b@x.org",)]


def test_login_on_a_terminal_asks_for_the_user(boss, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", lambda prompt="": "boss@example.com")
    monkeypatch.setattr(common.getpass, "getpass", lambda prompt="": PASSWORD)
    assert cli.main(["login", "--db", boss]) == 0
    assert "as boss (admin)" in capsys.readouterr().out
    assert common.load_token(boss)


def test_repeated_wrong_passwords_lock_the_account(run, boss):
    for _ in range(5):
        code, _, err = run(["login", "--db", boss, "--user", "boss"], "wrong-password\n")
        assert code == 1
    code, _, err = run(["login", "--db", boss, "--user", "boss"], PASSWORD + "\n")
    assert code == 1
    one_line_error(err, "Too many failed attempts; try again in ")
    assert not common.token_path(boss).exists()


def test_database_path_of_an_unknown_home_is_one_line(run):
    code, _, err = run(["--db", "~no-such-user-zz/finance.db", "user", "list"])
    assert code == 1
    one_line_error(err, "no such user")


# ---- arguments that are not text: bad bytes, NUL -------------------------------------------
BAD = "x\udcff"  # how Python hands over the byte 0xff of a non-UTF-8 argv


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["export", "--text", BAD], "--text"),
        (["export", "--category", BAD], "--category"),
        (["export", "--created-by", BAD], "--created-by"),
        (["export", "--kind", BAD], "--kind"),
        (["export", "--from", BAD], "--from"),
        (["export", "--min", BAD], "--min"),
        (["export", "--sort", BAD], "--sort"),
        (["export", "--user", BAD], "--user"),
        (["login", "--user", BAD], "--user"),
        (["user", "add", BAD, "a@example.com"], "username"),
        (["user", "add", "bob", BAD], "email"),
        (["user", "add", "bob", "a@example.com", "--role", BAD], "--role"),
        (["user", "set-role", BAD, "admin"], "USER"),
        (["user", "set-role", "boss", BAD], "ROLE"),
        (["user", "deactivate", BAD], "USER"),
        (["user", "reset-password", BAD], "USER"),
        (["init", "--admin-user", BAD, "--admin-email", "a@example.com"], "--admin-user"),
        (["init", "--admin-user", "al", "--admin-email", BAD], "--admin-email"),
        (["import", "in.csv", "--map", f"date={BAD}"], "--map"),
        (["import", "in.csv", "--delimiter", BAD[1]], "--delimiter"),
        (["import", "in.csv", "--encoding", BAD], "--encoding"),
        (["import", "in.csv", "--date-format", BAD], "--date-format"),
        (["doctor", "--user", BAD], "--user"),
    ],
)
def test_text_arguments_that_are_not_utf8_name_the_option(run, boss, args, option):
    before = AuditEvent.select().count()
    code, out, err = run([*args, "--db", boss], PASSWORD + "\n" + PASSWORD + "\n")
    assert (code, out) == (1, "")
    one_line_error(err, f"error: {option}: is not valid UTF-8 text", "nothing was changed")
    assert AuditEvent.select().count() == before
    assert [u.username for u in User.select()] == ["boss"]


def test_file_names_that_are_not_utf8_are_valid_paths(run, boss, tmp_path):
    """On Linux a file name is bytes: import, export and backup accept any of them."""
    source = tmp_path / f"in{BAD}.csv"
    source.write_text("date,kind,amount,category,notes\n2026-01-01,expense,1.50,food,x\n")
    boss_login = ["--db", boss, "--user", "boss"]
    code, out, err = run(["import", str(source), "--create-categories", *boss_login], PASSWORD)
    assert (code, err) == (0, "")
    assert "Imported 1 of 1 rows" in out
    target = tmp_path / f"out{BAD}.csv"
    code, _, err = run(["export", str(target), *boss_login], PASSWORD)
    assert (code, err) == (0, "")
    assert target.read_text().count("\n") == 2
    events = {e.action: e.entity_id for e in AuditEvent.select()}
    assert events["csv_import"].endswith("inx\\udcff.csv")
    assert events["csv_export"].endswith("outx\\udcff.csv")


@pytest.mark.parametrize("url", ["sqlite:///x%00b.db", "sqlite:////tmp/x%00b.db", "x\x00.db"])
@pytest.mark.parametrize("command", [[], ["user", "list"], ["init"]])
def test_database_path_with_a_nul_is_one_line(run, tmp_path, monkeypatch, url, command):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["--db", url, *command])
    assert (code, out) == (1, "")
    one_line_error(err, "contains a NUL character")
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_a_percent_in_a_plain_database_path_is_a_character(run, tmp_path):
    path = tmp_path / "100%00 sure%20.db"
    code, _, err = run(["init", "--db", str(path)])
    assert code == 1 and "no users yet" in err  # created, then asks for the first admin
    assert path.is_file()


def test_bad_bytes_and_nul_in_a_real_process(boss, private_home):
    env = {**os.environ, "HOME": str(private_home), "PYTHONPATH": str(REPO)}
    for args in (
        [b"--db", boss.encode(), b"export", b"--text", b"\xff", b"--user", b"boss"],
        [b"--db", b"sqlite:///x%00b.db", b"user", b"list"],
        [b"--db", b"sqlite:///x%00b.db"],
    ):
        result = subprocess.run(
            [sys.executable.encode(), b"-m", b"finance_tui", *args],
            input=(PASSWORD + "\n").encode(),
            capture_output=True,
            env=env,
            cwd=private_home,
            timeout=120,
        )
        err = result.stderr.decode("utf-8", "replace")
        assert result.returncode == 1, err
        assert "Traceback" not in err
        one_line_error(err, "error: ")


def test_login_to_a_database_whose_path_is_not_utf8(run, tmp_path):
    url = str(tmp_path / f"team{BAD}.db")
    run(["init", "--db", url, "--admin-user", "boss", "--admin-email", "b@x.org"], "x" * 9 + "\n")
    code, _, err = run(["login", "--db", url, "--user", "boss"], "x" * 9 + "\n")
    assert (code, err) == (0, "")
    code, out, err = run(["user", "list", "--db", url])
    assert (code, err) == (0, "")
    assert "b@x.org" in out
