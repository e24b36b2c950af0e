"""Files that hold the data or a session are never readable by other users: the SQLite
database with its -wal/-shm, backups, and the stored session token (refused, as ssh
refuses a private key, when others could read it or when it is a symlink)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD

from finance_tui.commands import common
from finance_tui.config import reset_settings
from finance_tui.models import Session, database
from finance_tui.services.users import bootstrap_admin
from finance_tui.session import SessionController
from finance_tui.startup import connect


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def umask() -> Iterator:
    """``umask(0o022)`` sets the process umask for this test; the old one comes back."""
    old = os.umask(0o022)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("FINANCE_TUI_DATABASE_URL", raising=False)
    reset_settings()
    yield tmp_path
    if not database.is_closed():
        database.close()
    reset_settings()


def _new_database(path: Path) -> None:
    """Create, migrate and write to a database, so that -wal and -shm exist."""
    connect(f"sqlite:///{path}")
    bootstrap_admin("root", "root@example.com", PASSWORD)
    SessionController.login("root", PASSWORD)


# ---- database files ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mask", "expected"),
    [(0o022, 0o640), (0o002, 0o660), (0o077, 0o600), (0o000, 0o660)],
    ids=["umask022", "umask002", "umask077", "umask000"],
)
def test_new_database_and_its_wal_and_shm_are_never_world_readable(tmp_path, umask, mask, expected):
    """No "other" bits whatever the umask; group bits as the umask gives them."""
    umask(mask)
    path = tmp_path / "finance.db"
    _new_database(path)
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    assert wal.stat().st_size > 0 and shm.exists()
    assert (mode(path), mode(wal), mode(shm)) == (expected, expected, expected)


def test_new_database_directory_is_not_world_readable(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "new" / "dir" / "finance.db"
    _new_database(path)
    assert mode(path.parent) == 0o750
    assert mode(path) == 0o640


def test_existing_database_file_keeps_its_mode(tmp_path, umask):
    """Opening never changes an existing file's mode (doctor reports loose ones)."""
    umask(0o022)
    path = tmp_path / "finance.db"
    _new_database(path)
    database.close()
    path.chmod(0o600)
    connect(f"sqlite:///{path}")
    SessionController.login("root", PASSWORD)
    assert mode(path) == 0o600


def test_database_in_an_unwritable_directory_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    from finance_tui.errors import FinanceError

    with pytest.raises(FinanceError, match="Cannot create database .*locked/finance.db"):
        connect(f"sqlite:///{locked / 'finance.db'}")
    assert not (locked / "finance.db").exists()


# ---- backups -------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [0o000, 0o022], ids=["umask000", "umask022"])
def test_backup_is_readable_by_its_owner_only(run_cli, tmp_path, umask, mask):
    umask(mask)
    path = tmp_path / "finance.db"
    _new_database(path)
    target = tmp_path / "copy.db"
    target.write_text("old copy")
    target.chmod(0o644)
    code, _, err = run_cli(["backup", str(target), "--force", "--db", str(path)])
    assert (code, err) == (0, "")
    assert mode(target) == 0o600
    assert not list(tmp_path.glob("copy.db-*"))  # a single file, no -wal/-shm left behind


# ---- the stored session token ----------------------------------------------------------------
@pytest.fixture
def logged_in(run_cli, tmp_path) -> str:
    """A database with an admin logged in through ``finance-tui login``; returns its URL."""
    url = f"sqlite:///{tmp_path / 'finance.db'}"
    _new_database(tmp_path / "finance.db")
    code, _, err = run_cli(["login", "--db", url, "--user", "root"], PASSWORD + "\n")
    assert (code, err) == (0, "")
    return url


def test_token_file_created_0600_even_with_an_open_umask(run_cli, tmp_path, umask):
    umask(0o000)
    url = f"sqlite:///{tmp_path / 'finance.db'}"
    _new_database(tmp_path / "finance.db")
    run_cli(["login", "--db", url, "--user", "root"], PASSWORD + "\n")
    path = common.token_path(url)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_token_file_is_written_with_create_exclusive_nofollow_0600(monkeypatch, tmp_path):
    calls = []
    real_open = os.open

    def spy(file, flags, mode=0o777, *args, **kwargs):
        calls.append((Path(file), flags, mode))
        return real_open(file, flags, mode, *args, **kwargs)

    monkeypatch.setattr(common.os, "open", spy)
    path = common.store_token("sqlite:////tmp/x.db", "a.b.c")
    ((tmp, flags, created_mode),) = calls
    assert tmp.parent == path.parent and tmp != path
    wanted = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_WRONLY
    assert flags & wanted == wanted and created_mode == 0o600
    assert not tmp.exists() and path.read_text().splitlines()[1] == "a.b.c"


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o620], ids=oct)
def test_group_or_world_accessible_token_file_is_refused(run_cli, logged_in, loose):
    path = common.token_path(logged_in)
    path.chmod(loose)
    code, out, err = run_cli(["user", "list", "--db", logged_in])
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert f"permissions {loose:04o} for session file {path} are too open" in err
    assert f"chmod 600 {path}" in err
    assert path.exists()  # refused, not deleted: the user decides
    path.chmod(0o600)  # the fix the message names works
    code, out, _ = run_cli(["user", "list", "--db", logged_in])
    assert code == 0 and "root@example.com" in out


def test_symlinked_token_file_is_refused(run_cli, logged_in, tmp_path):
    path = common.token_path(logged_in)
    elsewhere = tmp_path / "elsewhere.token"
    os.replace(path, elsewhere)
    path.symlink_to(elsewhere)
    code, out, err = run_cli(["user", "list", "--db", logged_in])
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert f"session file {path} is a symbolic link" in err and f"rm {path}" in err
    code, _, err = run_cli(["logout", "--db", logged_in])
    assert code == 1 and "symbolic link" in err


def test_login_replaces_a_loose_token_file_and_ends_its_session(run_cli, logged_in):
    """The other fix: logging in again revokes the exposed session, writes a 0600 file."""
    path = common.token_path(logged_in)
    exposed = common.load_token(logged_in)
    path.chmod(0o644)
    code, _, err = run_cli(["login", "--db", logged_in, "--user", "root"], PASSWORD + "\n")
    assert (code, err) == (0, "")
    assert mode(path) == 0o600
    fresh = common.load_token(logged_in)
    assert fresh != exposed
    with pytest.raises(Exception, match="signed out"):
        SessionController.resume(exposed)
    assert SessionController.resume(fresh).principal.username == "root"


def test_login_replaces_a_symlink_without_following_it(run_cli, logged_in, tmp_path):
    path = common.token_path(logged_in)
    target = tmp_path / "not-a-token.txt"
    target.write_text("keep me\n")
    path.unlink()
    path.symlink_to(target)
    code, _, err = run_cli(["login", "--db", logged_in, "--user", "root"], PASSWORD + "\n")
    assert (code, err) == (0, "")
    assert not path.is_symlink() and mode(path) == 0o600
    assert target.read_text() == "keep me\n"


def test_logout_ends_a_loose_token_files_session(run_cli, logged_in):
    path = common.token_path(logged_in)
    token = common.load_token(logged_in)
    path.chmod(0o644)
    code, out, _ = run_cli(["logout", "--db", logged_in])
    assert code == 0 and "Logged out" in out
    assert not path.exists()
    jti = SessionController(token)._session_row().jti
    assert Session.get_by_id(jti).revoked_at is not None
    with pytest.raises(Exception, match="signed out"):
        SessionController.resume(token)
