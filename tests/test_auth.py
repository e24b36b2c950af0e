"""Logging in (DESIGN §5): identifiers, inactive accounts, password rules, lockout held in
the database (so every process sees it), and equal cost for unknown users."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from conftest import PASSWORD

from finance_tui.config import reset_settings, settings
from finance_tui.db import connect, write_transaction
from finance_tui.errors import AccountLocked, AuthError, ValidationError
from finance_tui.models import AuditEvent, LoginThrottle, User, utcnow
from finance_tui.services.users import bootstrap_admin, insert_user
from finance_tui.session import INVALID_CREDENTIALS, SessionController, lock_duration
from finance_tui.throttle import name_key, user_key


def _user(name: str = "alice", role: str = "viewer", password: str = PASSWORD) -> User:
    with write_transaction():
        return insert_user(name, f"{name}@Example.com", password, role)


def _fail(identifier: str = "alice", times: int = 1) -> list[AuthError]:
    errors = []
    for _ in range(times):
        with pytest.raises(AuthError) as err:
            SessionController.login(identifier, "wrong-password")
        errors.append(err.value)
    return errors


def _expire_lock(name: str = "alice") -> None:
    """Pretend the lock period has passed (instead of sleeping)."""
    past = utcnow() - timedelta(seconds=1)
    user = User.get_or_none(User.username_lower == name)
    key = user_key(user.id) if user else name_key(name)
    LoginThrottle.update(locked_until=past).where(LoginThrottle.key == key).execute()
    User.update(locked_until=past).where(User.username_lower == name).execute()


# ---- identifiers and account state -------------------------------------------------
def test_login_by_username_or_email_case_insensitive(db):
    _user("Alice")
    for identifier in (
        "Alice",
        "alice",
        "ALICE",
        "  alice ",
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
    ):
        session = SessionController.login(identifier, PASSWORD)
        assert session.principal.username == "Alice"
    assert User.get().last_login_at is not None


def test_every_failure_has_the_same_message(db):
    _user()
    with pytest.raises(AuthError) as unknown:
        SessionController.login("nobody", PASSWORD)
    with pytest.raises(AuthError) as wrong:
        SessionController.login("alice", "wrong-password")
    with pytest.raises(AuthError) as empty:
        SessionController.login("", "")
    assert str(unknown.value) == str(wrong.value) == str(empty.value) == INVALID_CREDENTIALS
    reasons = [
        json.loads(e.after)["reason"]
        for e in AuditEvent.select()
        .where(AuditEvent.action == "login_failed")
        .order_by(AuditEvent.id)
    ]
    assert reasons == ["unknown_user", "bad_password", "unknown_user"]


def test_password_is_case_sensitive(db):
    _user()
    _fail_with = PASSWORD.upper()
    with pytest.raises(AuthError):
        SessionController.login("alice", _fail_with)


def test_inactive_account_refused(db):
    user = _user()
    User.update(is_active=False).where(User.id == user.id).execute()
    with pytest.raises(AuthError) as wrong:
        SessionController.login("alice", "wrong-password")
    assert str(wrong.value) == INVALID_CREDENTIALS  # nothing revealed without the password
    with pytest.raises(AuthError, match="deactivated"):
        SessionController.login("alice", PASSWORD)
    events = AuditEvent.select().where(AuditEvent.action == "login_failed")
    assert [json.loads(e.after)["reason"] for e in events.order_by(AuditEvent.id)] == [
        "bad_password",
        "inactive",
    ]
    assert AuditEvent.select().where(AuditEvent.action == "login").count() == 0


def test_successful_login_is_audited(db):
    _user()
    SessionController.login("alice", PASSWORD)
    event = AuditEvent.select().where(AuditEvent.action == "login").get()
    assert event.actor_name == "alice"
    assert PASSWORD not in (event.after or "") + (event.before or "")


# ---- password rules -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short7!", "at least 8 characters"),
        ("", "at least 8 characters"),
        ("x" * 73, "at most 72 bytes"),
        ("é" * 37, "at most 72 bytes"),  # 37 characters but 74 bytes
    ],
)
def test_bad_new_passwords_rejected_everywhere(admin, password, message):
    target = admin.users.create("bob", "bob@example.com", PASSWORD)
    users_before = User.select().count()
    attempts = {
        "password": lambda: admin.users.create("carol", "carol@example.com", password),
        "password ": lambda: admin.users.reset_password(target.id, password),
        "new_password": lambda: admin.users.change_own_password(PASSWORD, password),
    }
    for field, attempt in attempts.items():
        with pytest.raises(ValidationError) as err:
            attempt()
        assert message in err.value.fields[field.strip()]
    assert User.select().count() == users_before
    SessionController.login("bob", PASSWORD)  # the reset did not happen
    SessionController.login("root", PASSWORD)  # nor the change


def test_bootstrap_admin_rejects_bad_password(db):
    with pytest.raises(ValidationError) as err:
        bootstrap_admin("root", "root@example.com", "x" * 80)
    assert "72 bytes" in err.value.fields["password"]
    assert User.select().count() == 0


def test_longest_allowed_multibyte_password_works(db):
    password = "é" * 36  # exactly 72 bytes
    _user(password=password)
    assert SessionController.login("alice", password).principal.username == "alice"
    with pytest.raises(AuthError):  # bcrypt would ignore byte 73+; we refuse instead
        SessionController.login("alice", password + "x")


# ---- lockout --------------------------------------------------------------------
def test_lockout_after_five_consecutive_failures(db):
    _user()
    errors = _fail(times=5)
    assert [type(e) for e in errors[:4]] == [AuthError] * 4
    locked = errors[4]
    assert isinstance(locked, AccountLocked)
    assert locked.until > utcnow()
    assert abs((locked.until - utcnow()) - lock_duration(1)) < timedelta(seconds=5)
    assert str(locked) == "Too many failed attempts; try again in 30 s"
    # Even the right password is refused while locked.
    with pytest.raises(AccountLocked) as again:
        SessionController.login("alice", PASSWORD)
    assert again.value.until == locked.until
    stored = User.get()
    assert stored.locked_until == locked.until and stored.lockouts == 1
    reasons = [
        json.loads(e.after)["reason"]
        for e in AuditEvent.select()
        .where(AuditEvent.action == "login_failed")
        .order_by(AuditEvent.id)
    ]
    assert reasons == ["bad_password"] * 4 + ["locked", "account_locked"]


def test_lock_time_grows_on_repeated_lockouts(db):
    _user()
    durations = []
    for _ in range(4):
        locked = _fail(times=5)[-1]
        assert isinstance(locked, AccountLocked)
        durations.append(locked.until - utcnow())
        _expire_lock()
    expected = [lock_duration(n) for n in (1, 2, 3, 4)]
    assert expected == sorted(expected) and len(set(expected)) == 4
    for got, want in zip(durations, expected, strict=True):
        assert abs(got - want) < timedelta(seconds=5)
    assert lock_duration(50) == timedelta(minutes=15)  # capped, no overflow
    LoginThrottle.update(lockouts=200).execute()  # a long-attacked account answers cleanly
    locked = _fail(times=5)[-1]
    assert abs((locked.until - utcnow()) - timedelta(minutes=15)) < timedelta(seconds=5)
    assert str(locked) == "Too many failed attempts; try again in 15 min"


def test_success_resets_failure_count_and_lockouts(db):
    _user()
    _fail(times=4)
    SessionController.login("alice", PASSWORD)
    assert User.get().failed_logins == 0
    errors = _fail(times=4)
    assert not any(isinstance(e, AccountLocked) for e in errors)  # the count restarted
    assert User.get().failed_logins == 4
    # After a lockout expires and a success, the next lock is back to the first length.
    _fail(times=1)
    _expire_lock()
    SessionController.login("alice", PASSWORD)
    assert User.get().lockouts == 0 and User.get().locked_until is None
    locked = _fail(times=5)[-1]
    assert abs((locked.until - utcnow()) - lock_duration(1)) < timedelta(seconds=5)


def test_lock_is_seen_by_a_new_connection(db_url):
    _user()
    _fail(times=5)
    connect(db_url)  # what a second process does
    with pytest.raises(AccountLocked):
        SessionController.login("alice", PASSWORD)


def test_lock_is_seen_by_another_os_process(db_url):
    _user()
    _fail(times=5)
    script = (
        "import sys\n"
        "from finance_tui.db import connect\n"
        "from finance_tui.errors import AccountLocked\n"
        "from finance_tui.session import SessionController\n"
        "connect(sys.argv[1])\n"
        "try:\n"
        "    SessionController.login('ALICE@example.com', sys.argv[2])\n"
        "except AccountLocked as exc:\n"
        "    print('locked', exc.until.isoformat())\n"
        "else:\n"
        "    print('logged in')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, db_url, PASSWORD],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert out.startswith("locked ")
    assert out.split()[1] == User.get().locked_until.isoformat()


def test_failures_are_counted_atomically_from_many_processes(db_url):
    """Failures from several processes at once all count (no lost increments)."""
    _user()
    script = (
        "import sys\n"
        "from finance_tui.db import connect\n"
        "from finance_tui.errors import AuthError\n"
        "from finance_tui.session import SessionController\n"
        "connect(sys.argv[1])\n"
        "try:\n"
        "    SessionController.login('alice', 'wrong-password')\n"
        "except AuthError:\n"
        "    pass\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, db_url]) for _ in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert User.get().failed_logins == 3


def test_unlock_after_idle_uses_the_same_lockout(db):
    _user()
    session = SessionController.login("alice", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthError):
            session.unlock("wrong-password")
    with pytest.raises(AccountLocked):
        session.unlock("wrong-password")
    with pytest.raises(AccountLocked):
        session.unlock(PASSWORD)
    _expire_lock()
    session.unlock(PASSWORD)
    stored = User.get()
    assert (stored.failed_logins, stored.lockouts, stored.locked_until) == (0, 0, None)
    assert AuditEvent.select().where(AuditEvent.action == "unlock").count() == 1


# ---- timing: an unknown user costs what a wrong password costs ------------------------
def test_unknown_user_costs_the_same_order_as_wrong_password(db, monkeypatch):
    monkeypatch.setenv("FINANCE_TUI_BCRYPT_ROUNDS", "8")
    reset_settings()
    try:
        assert settings().bcrypt_rounds == 8
        _user()
        # Warm up: the dummy hash is computed once per process.
        with pytest.raises(AuthError):
            SessionController.login("nobody", "wrong-password")

        def timed(identifier: str) -> float:
            LoginThrottle.delete().execute()  # stay below the lockout (unknown names too)
            start = time.perf_counter()
            with pytest.raises(AuthError) as err:
                SessionController.login(identifier, "wrong-password")
            elapsed = time.perf_counter() - start
            assert not isinstance(err.value, AccountLocked)
            return elapsed

        unknown, wrong = [], []
        for _ in range(7):
            unknown.append(timed("nobody"))
            wrong.append(timed("alice"))
        ratio = statistics.median(unknown) / statistics.median(wrong)
        assert 0.3 < ratio < 3, (ratio, unknown, wrong)
    finally:
        monkeypatch.undo()
        reset_settings()
