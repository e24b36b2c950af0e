"""SessionController: the acting user's verified session, the one gate every service uses.

Screens and the CLI hold one controller per logged-in user. ``can()`` answers the UI
(what to show); ``require()`` is called inside every service entry point and is the
security boundary: it re-verifies the token, reloads the user (role comes from the
database, never the token), and audits refusals.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from peewee import SQL, fn

from finance_tui import auth, throttle
from finance_tui.compiled import CompiledSelect
from finance_tui.config import settings
from finance_tui.db import database_errors as database_errors  # for screens' workers
from finance_tui.db import write_transaction
from finance_tui.domain.dto import Principal
from finance_tui.errors import AccountLocked, AuthError, PermissionDenied, SessionExpired
from finance_tui.models import Meta, Session, User, utcnow
from finance_tui.permissions import Permission, role_allows
from finance_tui.services.audit import record_event

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime
    from uuid import UUID

    from finance_tui.domain.dto import RecordRow, RecurringRunReport
    from finance_tui.domain.filters import RecordFilter
    from finance_tui.services.analytics import AnalyticsService
    from finance_tui.services.audit import AuditService
    from finance_tui.services.budgets import BudgetService
    from finance_tui.services.categories import CategoryService
    from finance_tui.services.csvio import CsvService
    from finance_tui.services.dashboard import DashboardService
    from finance_tui.services.records import RecordService
    from finance_tui.services.recurring import RecurringService
    from finance_tui.services.ssh_keys import SshKeyService
    from finance_tui.services.undo import UndoService
    from finance_tui.services.users import UserService
    from finance_tui.services.views import ViewService

INVALID_CREDENTIALS = "Invalid credentials"
MAX_LOCK = throttle.MAX_LOCK
lock_duration = throttle.lock_duration


def find_user(identifier: str) -> User | None:
    key = identifier.strip().lower()
    if not key or auth.utf8_bytes(key) is None:  # undecodable input cannot name anyone
        return None
    field = User.email_lower if "@" in key else User.username_lower
    return User.get_or_none(field == key)


def typical_cost() -> int:
    """The most common cost among stored hashes: what an unknown name is checked at.

    A real user's check runs at their stored hash's cost, which lags the configured one
    until they log in again (and are rehashed). Checking unknown names at the configured
    cost would then set them apart (3 ms against 457 ms). Queried on every attempt,
    known or not, so both paths run the same statements.
    """
    # Literal positions: PostgreSQL only matches GROUP BY to the SELECT expression when
    # both are spelled the same, and parameters ($1, $3) are not.
    cost = fn.SUBSTR(User.password_hash, SQL("5"), SQL("2"))
    row = (
        User.select(cost.alias("cost"))
        .group_by(cost)
        .order_by(fn.COUNT(User.id).desc(), cost.desc())
        .limit(1)
        .scalar()
    )
    if row and str(row).isdigit():
        return min(max(int(row), 4), 31)  # bcrypt's range
    return settings().bcrypt_rounds


def _printable(text: str) -> str:
    """Storable form of what was typed (lone surrogates escaped instead of crashing)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _audit_failure(user: User | None, identifier: str, reason: str) -> None:
    """Every failed attempt is audited, refused ones included (own short transaction)."""
    after = {"reason": reason}
    if user is None:
        after["identifier"] = _printable(identifier[:150])
    with write_transaction():
        record_event(
            None,
            "login_failed",
            "user",
            user.id if user else "",
            after=after,
            actor_name=user.username if user else "",
        )


def _refuse(attempt: throttle.Attempt) -> NoReturn:
    """The answer to a wrong password: the lock when this attempt set one."""
    if attempt.locks_until is not None:
        raise AccountLocked(attempt.locks_until)
    raise AuthError(INVALID_CREDENTIALS)


def _succeeded(user: User, key: str, password: str) -> None:
    """Clear the key's failures; bring an old-cost hash to the configured cost.

    The new hash is computed before the transaction (bcrypt is slow) and written only if
    the stored hash did not change meanwhile (e.g. an admin's password reset).
    """
    fresh = auth.rehash(password) if auth.needs_rehash(user.password_hash) else None
    with write_transaction():
        throttle.clear(key, user.id)
        if fresh is not None:
            User.update(password_hash=fresh).where(
                User.id == user.id, User.password_hash == user.password_hash
            ).execute()


def authenticate(identifier: str, password: str) -> User:
    """Check credentials. Raises AuthError with one generic message on any failure.

    The attempt is reserved (and maybe refused) before bcrypt runs, so concurrent
    guesses cannot outrun the lock. An unknown name is throttled, checked and answered
    exactly like an existing one.
    """
    user = find_user(identifier)
    key = throttle.user_key(user.id) if user else throttle.name_key(identifier)
    dummy = auth.dummy_hash(typical_cost())
    attempt = throttle.reserve(key, user.id if user else None)
    if attempt.refused_until is not None:
        _audit_failure(user, identifier, "account_locked" if user else "unknown_user_locked")
        raise AccountLocked(attempt.refused_until)
    if user is None:
        auth.check_password(password, dummy)  # the cost of a real user's check
        _audit_failure(None, identifier, "unknown_user")
        _refuse(attempt)
    if not auth.check_password(password, user.password_hash):
        _audit_failure(user, identifier, "locked" if attempt.locks_until else "bad_password")
        _refuse(attempt)
    if not user.is_active:
        _audit_failure(user, identifier, "inactive")
        raise AuthError("This account is deactivated; ask an administrator")
    _succeeded(user, key, password)
    return user


def run_recurring_unattended(today: date) -> RecurringRunReport:
    """Create the due recurring records with nobody logged in (``finance-tui recurring
    run`` from cron). Safe without a login: it only materialises what an admin
    scheduled, as the schedule's owner, and it is audited as this command."""
    from finance_tui.services.recurring import run_due

    return run_due(today, None)


class SessionCheck(NamedTuple):
    """What a session check reads: the registry row, its user, the stored signing key."""

    jti: str
    secret_hash: str | None
    revoked_at: datetime | None
    expires_at: datetime
    user_id: UUID
    username: str
    email: str
    role: str
    is_active: bool
    signing_key: str


CHECK_COLUMNS = (
    Session.jti,
    Session.secret_hash,
    Session.revoked_at,
    Session.expires_at,
    User.id,
    User.username,
    User.email,
    User.role,
    User.is_active,
)
SESSION_CHECK = CompiledSelect(  # SessionCheck's fields, in order
    lambda jti: (
        Session.select(*CHECK_COLUMNS, auth.stored_key()).join(User).where(Session.jti == jti)
    ),
    (*CHECK_COLUMNS, Meta.value),
)


class SessionController:
    """One logged-in user's session. Create with :meth:`login` or :meth:`resume`."""

    def __init__(self, token: str):
        self.token = token
        self._principal: Principal | None = None
        self._verified: tuple[str, dict] | None = None  # (signing key, claims it verified)
        self._unverified_jti: str | None = None

    # ---- construction -------------------------------------------------
    @classmethod
    def login(cls, identifier: str, password: str) -> SessionController:
        user = authenticate(identifier, password)
        with write_transaction():
            token, jti, _ = auth.issue_token(str(user.id))
            User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
            principal = Principal(user.id, user.username, user.email, user.role, jti)
            record_event(principal, "login", "user", user.id)
        controller = cls(token)
        controller._principal = principal
        return controller

    @classmethod
    def open_for(
        cls, user_id: object, *, via: str, fingerprint: str = "", address: str = ""
    ) -> SessionController:
        """A session for a user whose identity another mechanism proved (an SSH key).

        No password is involved, so nothing here may be reachable without that proof:
        the caller has verified the key's signature. The user is re-read under the
        write lock, so one deactivated meanwhile is refused; the login is audited with
        how it was proved.
        """
        details = {"via": via, "fingerprint": fingerprint, "address": address}
        with write_transaction():
            user = User.get_or_none(User.id == user_id)
            if user is None or not user.is_active:
                if user is not None:
                    record_event(
                        None,
                        "login_failed",
                        "user",
                        user.id,
                        after={"reason": "inactive", **details},
                        actor_name=user.username,
                    )
                refused = True
            else:
                refused = False
                token, jti, _ = auth.issue_token(str(user.id))
                User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
                principal = Principal(user.id, user.username, user.email, user.role, jti)
                record_event(principal, "login", "user", user.id, after=details)
        if refused:
            raise AuthError("This account is deactivated; ask an administrator")
        controller = cls(token)
        controller._principal = principal
        return controller

    @classmethod
    def resume(cls, token: str) -> SessionController:
        """Rebuild a session from a stored token (CLI); verifies it immediately."""
        controller = cls(token)
        controller.verify()
        return controller

    # ---- verification -------------------------------------------------
    def _session_row(self) -> SessionCheck:
        """This token's registry row, once the token proves it holds the row's secret.

        A valid signature is not enough: the signing key and the jti may both have been
        read from the database, the secret only ever existed in the token. This runs
        before every service call, so one narrow query reads the row, its user and the
        current signing key.
        """
        configured = auth.configured_key()
        found = SESSION_CHECK.first(self._jti())
        if found is None:
            raise SessionExpired(auth.INVALID_SESSION)
        row = SessionCheck(*found)
        claims = self._claims_under(configured or row.signing_key)
        if str(row.user_id) != claims["sub"]:
            raise SessionExpired(auth.INVALID_SESSION)
        if row.secret_hash is None:
            raise SessionExpired(auth.UPGRADED_SESSION)
        if not auth.secret_matches(claims, row.secret_hash):
            raise SessionExpired(auth.INVALID_SESSION)
        return row

    def _jti(self) -> str:
        """The token's jti, read unverified (once: the token never changes) to find the
        row whose key and secret then check the token."""
        if self._unverified_jti is None:
            self._unverified_jti = auth.unverified_jti(self.token)
        return self._unverified_jti

    def _claims_under(self, key: str) -> dict:
        """The token's claims verified under ``key``, decoded once per key.

        The token never changes and a signature depends only on token and key, so a
        decode under the same key would give the same answer; only expiry moves on. A
        new key (rotated, or FINANCE_TUI_SECRET_KEY changed) is checked afresh.
        """
        if self._verified is not None and self._verified[0] == key:
            claims = self._verified[1]
            auth.refuse_if_expired(claims)
            return claims
        claims = auth.decode_token(self.token, key)
        self._verified = (key, claims)
        return claims

    def verify(self) -> Principal:
        """Check signature, secret, expiry and revocation; reload the user from the database."""
        row = self._session_row()
        if row.revoked_at is not None:
            raise SessionExpired("You have been signed out; please log in again")
        if row.expires_at <= utcnow():
            raise SessionExpired(auth.EXPIRED_SESSION)
        if not row.is_active:
            raise SessionExpired("This account has been deactivated")
        self._principal = Principal(row.user_id, row.username, row.email, row.role, row.jti)
        return self._principal

    @property
    def principal(self) -> Principal:
        """Last verified principal (no database round trip); verify() refreshes it."""
        if self._principal is None:
            return self.verify()
        return self._principal

    @property
    def role(self) -> str:
        return self.principal.role

    def can(self, permission: Permission) -> bool:
        """For the UI: may the current user do this? (Uses the last verified role.)"""
        return self._principal is not None and role_allows(self._principal.role, permission)

    def require(self, permission: Permission) -> Principal:
        """For services: verify the session now and refuse (audited) if not allowed."""
        principal = self.verify()
        if not role_allows(principal.role, permission):
            with write_transaction():
                record_event(
                    principal,
                    "permission_denied",
                    "permission",
                    permission.name,
                    after={"role": principal.role, "action": permission.value},
                )
            raise PermissionDenied(permission.value, principal.role)
        return principal

    # ---- session lifecycle -------------------------------------------
    def logout(self) -> None:
        """Revoke this token. Safe to call twice or on an already invalid session.

        Only the token's holder can revoke it: a token forged from the database (right
        key and jti, no secret) does nothing, so it cannot sign someone else out.
        """
        try:
            row = self._session_row()
        except SessionExpired:
            return
        with write_transaction():
            updated = (
                Session.update(revoked_at=utcnow())
                .where(Session.jti == row.jti, Session.revoked_at.is_null())
                .execute()
            )
            if updated and self._principal:
                record_event(self._principal, "logout", "user", self._principal.user_id)

    def unlock(self, password: str) -> None:
        """Idle-lock re-entry: the same password check (and lockout) as a login."""
        principal = self.verify()
        user = authenticate(principal.username, password)
        if user.id != principal.user_id:
            raise AuthError(INVALID_CREDENTIALS)
        with write_transaction():  # authenticate() reset the counters, as for a login
            record_event(principal, "unlock", "user", user.id)

    def record_filter(
        self, raw: Mapping[str, str | None], *, today: date | None = None
    ) -> RecordFilter:
        """A filter from typed text (filter bar, CLI options), names looked up in the database."""
        from finance_tui.services.query import filter_from_strings

        return filter_from_strings(raw, today=today)

    def quick_add(self, line: str, *, today: date) -> RecordRow:
        """A record from one typed line (``12.50 fo lunch``), for admins.

        The line is read against the active categories (finance_tui/domain/quick_add.py),
        then saved by ``records.create``: the same validation and audit as the form.
        Permission first, so a viewer learns that rather than a parse error.
        """
        from finance_tui.domain.quick_add import parse_quick_add

        self.require(Permission.WRITE_RECORDS)
        entry = parse_quick_add(line, self.categories.list(), today)
        return self.records.create(entry.fields(), today=today)

    # ---- bound services ------------------------------------------------
    @functools.cached_property
    def records(self) -> RecordService:
        from finance_tui.services.records import RecordService

        return RecordService(self)

    @functools.cached_property
    def dashboard(self) -> DashboardService:
        from finance_tui.services.dashboard import DashboardService

        return DashboardService(self)

    @functools.cached_property
    def users(self) -> UserService:
        from finance_tui.services.users import UserService

        return UserService(self)

    @functools.cached_property
    def categories(self) -> CategoryService:
        from finance_tui.services.categories import CategoryService

        return CategoryService(self)

    @functools.cached_property
    def analytics(self) -> AnalyticsService:
        from finance_tui.services.analytics import AnalyticsService

        return AnalyticsService(self)

    @functools.cached_property
    def audit(self) -> AuditService:
        from finance_tui.services.audit import AuditService

        return AuditService(self)

    @functools.cached_property
    def csv(self) -> CsvService:
        from finance_tui.services.csvio import CsvService

        return CsvService(self)

    @functools.cached_property
    def ssh_keys(self) -> SshKeyService:
        from finance_tui.services.ssh_keys import SshKeyService

        return SshKeyService(self)

    @functools.cached_property
    def budgets(self) -> BudgetService:
        from finance_tui.services.budgets import BudgetService

        return BudgetService(self)

    @functools.cached_property
    def views(self) -> ViewService:
        """The acting user's saved views of the records screen."""
        from finance_tui.services.views import ViewService

        return ViewService(self)

    @functools.cached_property
    def recurring(self) -> RecurringService:
        from finance_tui.services.recurring import RecurringService

        return RecurringService(self)

    @functools.cached_property
    def undo(self) -> UndoService:
        from finance_tui.services.undo import UndoService

        return UndoService(self)
