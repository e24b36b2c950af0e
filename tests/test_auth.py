"""Logging in (docs/ARCHITECTURE.md: Sessions and logins): identifiers, inactive accounts, password rules, lockout held in
the database (so every process sees it), and equal cost for unknown users."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import bcrypt
import pytest
from conftest import PASSWORD

from finance_tui import auth, migrations
from finance_tui import session as session_module
from finance_tui.config import reset_settings, settings
from finance_tui.db import write_transaction
from finance_tui.errors import AccountLocked, AuthError, PermissionDenied, ValidationError
from finance_tui.models import AuditEvent, LoginThrottle, User, database, utcnow
from finance_tui.services.users import bootstrap_admin, insert_user
from finance_tui.session import INVALID_CREDENTIALS, SessionController, lock_duration
from finance_tui.startup import connect
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
        "from finance_tui.startup import connect\n"
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
        "from finance_tui.startup import connect\n"
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


# ---- lockout under concurrency: the attempt is reserved before bcrypt runs ------------
class _CheckSpy:
    """Counts bcrypt checks (thread-safe) with the cost of the hash each one ran against."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[tuple[bytes, int]] = []
        self._lock = threading.Lock()
        real = bcrypt.checkpw

        def spy(password: bytes, hashed: bytes) -> bool:
            with self._lock:
                self.calls.append((hashed, int(hashed[4:6])))
            return real(password, hashed)

        monkeypatch.setattr(bcrypt, "checkpw", spy)

    def against(self, password_hash: str) -> int:
        return sum(1 for hashed, _ in self.calls if hashed == password_hash.encode("ascii"))

    def costs(self) -> list[int]:
        return [cost for _, cost in self.calls]


@pytest.fixture
def rounds(monkeypatch):
    """``rounds(n)``: hash and check at cost n for the rest of the test."""

    def set_rounds(n: int) -> None:
        monkeypatch.setenv("FINANCE_TUI_BCRYPT_ROUNDS", str(n))
        reset_settings()
        assert settings().bcrypt_rounds == n

    yield set_rounds
    monkeypatch.undo()
    reset_settings()


def _login_outcome(identifier: str, password: str) -> str:
    """Runs in a worker thread, on that thread's own database connection."""
    try:
        SessionController.login(identifier, password)
        return "ok"
    except AccountLocked:
        return "locked"
    except AuthError:
        return "invalid"
    finally:
        database.close()


def test_parallel_guesses_get_at_most_five_password_checks(db, monkeypatch, rounds):
    """24 simultaneous logins, 23 wrong and the right one once the lock is recorded.

    Before, the lock was read before bcrypt and written after it: ~20 guesses were
    checked, and the right password was accepted on an account recorded as locked.
    """
    rounds(8)  # slow enough (~15 ms) that the attempts overlap
    stored = _user().password_hash
    spy = _CheckSpy(monkeypatch)
    start = threading.Barrier(23)

    def guess(i: int) -> str:
        start.wait(timeout=30)
        return _login_outcome("alice", f"wrong-password-{i}")

    def right_once_locked() -> str:
        deadline = time.monotonic() + 30
        while User.get_by_id(User.get().id).locked_until is None:
            assert time.monotonic() < deadline, "no lock was ever recorded"
            time.sleep(0.001)
        return _login_outcome("alice", PASSWORD)

    with ThreadPoolExecutor(max_workers=24) as pool:
        right = pool.submit(right_once_locked)
        wrong = [pool.submit(guess, i) for i in range(23)]
        outcomes = Counter(f.result(timeout=120) for f in wrong)
        right_outcome = right.result(timeout=120)
    assert spy.against(stored) == 5  # never more than the threshold
    assert outcomes == {"invalid": 4, "locked": 19}
    assert right_outcome == "locked"
    assert User.get().last_login_at is None
    reasons = Counter(
        json.loads(e.after)["reason"]
        for e in AuditEvent.select().where(AuditEvent.action == "login_failed")
    )
    assert reasons == {"bad_password": 4, "locked": 1, "account_locked": 19}


def test_parallel_guesses_on_username_and_email_share_one_budget(db, monkeypatch, rounds):
    rounds(8)
    stored = _user().password_hash
    spy = _CheckSpy(monkeypatch)
    names = ["alice", "ALICE@example.com", " Alice ", "alice@EXAMPLE.com"] * 4
    start = threading.Barrier(len(names))

    def guess(name: str) -> str:
        start.wait(timeout=30)
        return _login_outcome(name, "wrong-password")

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        outcomes = Counter(pool.map(guess, names, timeout=120))
    assert spy.against(stored) == 5
    assert outcomes == {"invalid": 4, "locked": len(names) - 4}


def test_right_password_in_the_first_five_logs_in_and_resets(db):
    _user()
    _fail(times=4)
    SessionController.login("alice", PASSWORD)  # the 5th attempt: checked, accepted
    stored = User.get()
    assert (stored.failed_logins, stored.lockouts, stored.locked_until) == (0, 0, None)
    assert LoginThrottle.select().count() == 0


# ---- no account enumeration -----------------------------------------------------------
def _messages(identifier: str, times: int) -> list[str]:
    return [str(e) for e in _fail(identifier, times)]


@pytest.mark.parametrize(
    ("known", "unknown"), [("alice", "nobody"), ("alice@example.com", "x@y.z")]
)
def test_unknown_names_lock_like_real_ones(db, known, unknown):
    _user()
    expected = [INVALID_CREDENTIALS] * 4 + ["Too many failed attempts; try again in 30 s"] * 2
    assert _messages(known, 6) == expected
    assert _messages(unknown, 6) == expected
    # The same growing schedule: the second lock is twice as long, for both.
    for name in (known.split("@")[0], unknown):
        _expire_lock(name)
    second = ["Too many failed attempts; try again in 1 min"]
    assert _messages(known, 5)[-1:] == _messages(unknown, 5)[-1:] == second
    # Even the right password waits; to an unknown name nothing is ever right.
    with pytest.raises(AccountLocked) as right:
        SessionController.login(known, PASSWORD)
    assert str(right.value) == second[0]
    reasons = [
        json.loads(e.after)["reason"]
        for e in AuditEvent.select()
        .where(AuditEvent.action == "login_failed", AuditEvent.entity_id == "")
        .order_by(AuditEvent.id)
    ]
    assert reasons == ["unknown_user"] * 5 + ["unknown_user_locked"] + ["unknown_user"] * 5


def test_unknown_name_lock_is_per_normalised_identifier(db):
    _fail("Nobody", times=5)
    with pytest.raises(AccountLocked):
        SessionController.login("  NOBODY ", "wrong-password")
    assert str(_fail("somebody-else")[0]) == INVALID_CREDENTIALS
    keys = [row.key for row in LoginThrottle.select()]
    assert sorted(keys) == sorted([name_key("nobody"), name_key("somebody-else")])
    assert all("nobody" not in key for key in keys)  # typed names are not stored
    # Undecodable terminal input and very long names are keys like any other.
    for odd in ("\udcffbob", "x" * 10_000):
        assert _messages(odd, 5)[-1] == "Too many failed attempts; try again in 30 s"


def test_lock_via_username_holds_for_the_email(db):
    user = _user()
    _fail("alice", times=5)
    with pytest.raises(AccountLocked):
        SessionController.login("Alice@Example.com", PASSWORD)
    _expire_lock()
    _fail("alice@example.com", times=4)
    locked = _fail("ALICE", times=1)[0]  # one budget for both identifiers
    assert isinstance(locked, AccountLocked)
    assert LoginThrottle.get().key == user_key(user.id)


def test_known_and_unknown_names_run_the_same_checks_at_the_same_cost(db, monkeypatch, rounds):
    """Hashes stored at cost 6 while 4 is configured: both paths check at cost 6."""
    rounds(6)
    _user("alice")
    _user("bob")
    rounds(4)
    spy = _CheckSpy(monkeypatch)
    _fail("nobody")
    _fail("alice")
    assert spy.costs() == [6, 6]
    # Locked: no check at all, for either.
    _fail("nobody", times=4)
    _fail("alice", times=4)
    spy.calls.clear()
    assert _messages("nobody", 1) == _messages("alice", 1)
    assert spy.costs() == []


def test_unusable_password_is_checked_at_the_stored_cost(db, monkeypatch, rounds):
    rounds(5)
    _user()
    spy = _CheckSpy(monkeypatch)
    for password in ("x" * 73, "\udcff" * 8):
        with pytest.raises(AuthError):
            SessionController.login("alice", password)
    assert spy.costs() == [5, 5]


# ---- rehash on login -------------------------------------------------------------------
def test_login_rehashes_a_hash_of_another_cost(db, rounds):
    rounds(5)
    _user()
    old = User.get().password_hash
    assert auth.hash_cost(old) == 5
    rounds(4)
    _fail()
    assert User.get().password_hash == old  # a wrong password changes nothing
    SessionController.login("alice", PASSWORD)
    new = User.get().password_hash
    assert new != old and auth.hash_cost(new) == 4
    assert auth.check_password(PASSWORD, new)
    SessionController.login("alice", PASSWORD)
    assert User.get().password_hash == new  # at the configured cost: left alone
    # Unknown names now cost what the users' stored hashes cost.
    assert auth.hash_cost(auth.dummy_hash(session_module.typical_cost())) == 4


def test_idle_unlock_rehashes_too(db, rounds):
    rounds(5)
    _user()
    session = SessionController.login("alice", PASSWORD)  # rehashed to 5: no change
    rounds(4)
    session.unlock(PASSWORD)
    assert auth.hash_cost(User.get().password_hash) == 4


# ---- lock cap, forgetting, admin unlock --------------------------------------------------
def test_lock_schedule_doubles_up_to_fifteen_minutes(db):
    schedule = [lock_duration(n) for n in range(1, 9)]
    assert [int(d.total_seconds()) for d in schedule] == [30, 60, 120, 240, 480, 900, 900, 900]
    assert lock_duration(10**6) == timedelta(minutes=15)


def test_quiet_day_forgets_failures_for_known_and_unknown_alike(db):
    _user()
    for name in ("alice", "nobody"):
        _fail(name, times=4)
    day_ago = utcnow() - timedelta(hours=24, seconds=1)
    LoginThrottle.update(updated_at=day_ago).execute()
    # Another attempt's reservation prunes the quiet unknown row; the user's is kept.
    _fail("someone-else")
    assert LoginThrottle.get_or_none(LoginThrottle.key == name_key("nobody")) is None
    for name in ("alice", "nobody"):
        assert _messages(name, 4) == [INVALID_CREDENTIALS] * 4  # counting starts over
        assert isinstance(_fail(name)[0], AccountLocked)


def test_admin_lifts_a_lock(admin, make_user):
    bob = make_user("viewer", name="bob")
    _fail("bob", times=5)
    assert User.get(User.username == "bob").locked_until is not None
    row = admin.users.unlock("bob")
    assert row.locked_until is None
    stored = User.get(User.username == "bob")
    assert (stored.failed_logins, stored.lockouts, stored.locked_until) == (0, 0, None)
    assert SessionController.login("bob", PASSWORD).principal.username == "bob"
    event = (
        AuditEvent.select()
        .where(AuditEvent.action == "user_unlock")
        .order_by(AuditEvent.id.desc())
        .get()
    )
    assert event.actor_name == "root" and event.entity_id == str(bob.principal.user_id)
    assert json.loads(event.before)["locked_until"] is not None


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_only_admins_lift_locks(admin, make_user, role, counts):
    other = make_user(role)
    make_user("viewer", name="bob")
    _fail("bob", times=5)
    before = counts()
    with pytest.raises(PermissionDenied):
        other.users.unlock("bob")
    after = counts()
    assert after.pop("audit_event") == before.pop("audit_event") + 1  # the refusal
    assert after == before
    with pytest.raises(AccountLocked):
        SessionController.login("bob", PASSWORD)


def test_migration_carries_user_locks_over(db):
    user = _user()
    until = utcnow() + timedelta(minutes=5)
    User.update(failed_logins=0, lockouts=2, locked_until=until).execute()
    LoginThrottle.delete().execute()
    step = next(m for m in migrations.MIGRATIONS if m.__name__.endswith("login_throttle"))
    step(db)
    step(db)  # idempotent
    row = LoginThrottle.get()
    assert (row.key, row.lockouts, row.locked_until) == (user_key(user.id), 2, until)
    with pytest.raises(AccountLocked):
        SessionController.login("alice", PASSWORD)
