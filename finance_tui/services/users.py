"""User accounts: admins manage everyone; everyone changes their own password."""

from __future__ import annotations

import re
from uuid import UUID

from finance_tui import auth, throttle
from finance_tui.db import advisory_lock, write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import Principal, UserRow
from finance_tui.domain.values import text_problem
from finance_tui.errors import NotFound, ValidationError
from finance_tui.models import Session, User, utcnow
from finance_tui.permissions import Permission, Role
from finance_tui.services.audit import record_event

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,150}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def to_row(user: User) -> UserRow:
    return UserRow(
        id=user.id,
        username=user.username,
        email=user.email,
        role=user.role,
        is_active=user.is_active,
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )


def _snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "is_active": user.is_active,
    }


def _username_problem(username: str) -> str | None:
    if problem := text_problem(username or ""):
        return problem
    if not USERNAME_RE.match(username or ""):
        return "must be 3-150 letters, digits, '_', '.' or '-'"
    if User.get_or_none(User.username_lower == username.lower()):
        return f"{username!r} is already taken"
    return None


def _email_problem(email: str) -> str | None:
    if problem := text_problem(email or ""):
        return problem
    if not EMAIL_RE.match(email or "") or len(email) > 254:
        return "is not a valid email address"
    if User.get_or_none(User.email_lower == email.lower()):
        return f"{email!r} is already registered"
    return None


def validate_new_user(username: str, email: str, password: str, role: str) -> dict[str, str]:
    problems = {
        "username": _username_problem(username),
        "email": _email_problem(email),
        "password": auth.password_problem(password or "") or None,
        "role": None if role in {r.value for r in Role} else "must be viewer, analyst or admin",
    }
    return {name: problem for name, problem in problems.items() if problem}


def insert_user(
    username: str, email: str, password: str, role: str, *, password_hash: str | None = None
) -> User:
    """Validate and insert (inside the caller's transaction). Used by the service and init.

    ``password_hash`` lets a caller hash before its transaction: bcrypt at cost 12 takes
    a quarter second, too long to hold the write lock other terminals are waiting for.
    """
    username, email = username.strip(), email.strip()
    errors = validate_new_user(username, email, password, role)
    if errors:
        raise ValidationError(errors)
    return User.create(
        username=username,
        username_lower=username.lower(),
        email=email,
        email_lower=email.lower(),
        password_hash=password_hash or auth.hash_password(password),
        role=role,
    )


def active_admin_count() -> int:
    return User.select().where(User.role == Role.ADMIN.value, User.is_active == True).count()  # noqa: E712


class UserService:
    def __init__(self, session: Authoriser):
        self.session = session

    def list(self) -> list[UserRow]:
        self.session.require(Permission.MANAGE_USERS)
        return [to_row(u) for u in User.select().order_by(User.username_lower)]

    def get(self, user_id: UUID | str) -> UserRow:
        self.session.require(Permission.MANAGE_USERS)
        return to_row(self._load(user_id))

    def create(self, username: str, email: str, password: str, role: str = "viewer") -> UserRow:
        principal = self.session.require(Permission.MANAGE_USERS)
        hashed = None if auth.password_problem(password or "") else auth.hash_password(password)
        with write_transaction():
            advisory_lock("finance_tui.users")  # PostgreSQL: uniqueness check-then-insert
            user = insert_user(username, email, password, role, password_hash=hashed)
            record_event(principal, "user_create", "user", user.id, after=_snapshot(user))
        return to_row(user)

    def set_role(self, user_id: UUID | str, role: str) -> UserRow:
        principal = self.session.require(Permission.MANAGE_USERS)  # before looking at input
        if role not in {r.value for r in Role}:
            raise ValidationError({"role": "must be viewer, analyst or admin"})
        return self._change(principal, user_id, "user_set_role", role=role)

    def set_active(self, user_id: UUID | str, active: bool) -> UserRow:
        principal = self.session.require(Permission.MANAGE_USERS)
        action = "user_activate" if active else "user_deactivate"
        return self._change(principal, user_id, action, is_active=bool(active))

    def reset_password(self, user_id: UUID | str, new_password: str) -> UserRow:
        principal = self.session.require(Permission.MANAGE_USERS)
        auth.validate_new_password(new_password)
        hashed = auth.hash_password(new_password)  # outside the write lock
        with write_transaction():
            user = self._load(user_id)
            User.update(password_hash=hashed, updated_at=utcnow()).where(
                User.id == user.id
            ).execute()
            throttle.clear(throttle.user_key(user.id), user.id)  # a new password, a new start
            self._revoke_all(user.id)
            record_event(principal, "user_reset_password", "user", user.id)
        return to_row(self._load(user.id))

    def unlock(self, user_id: UUID | str) -> UserRow:
        """Lift a login lock and forget the failed attempts (lockouts start over too).

        For a user locked out by someone guessing: the lock is short, but they may not
        be able to wait. Works on an unlocked user too (it resets the count).
        """
        principal = self.session.require(Permission.MANAGE_USERS)
        with write_transaction():
            user = self._load(user_id)
            key = throttle.user_key(user.id)
            until = throttle.locked_until(key)
            throttle.clear(key, user.id)
            record_event(
                principal,
                "user_unlock",
                "user",
                user.id,
                before={"locked_until": until.isoformat() if until else None},
            )
        return to_row(self._load(user.id))

    def sign_out_everywhere(self, user_id: UUID | str) -> int:
        principal = self.session.require(Permission.MANAGE_USERS)
        with write_transaction():
            user = self._load(user_id)
            count = self._revoke_all(user.id)
            record_event(principal, "user_sign_out_all", "user", user.id, after={"sessions": count})
        return count

    def change_own_password(self, old_password: str, new_password: str) -> None:
        principal = self.session.require(Permission.CHANGE_OWN_PASSWORD)
        user = User.get_by_id(principal.user_id)
        if not auth.check_password(old_password, user.password_hash):
            raise ValidationError({"old_password": "is not your current password"})
        auth.validate_new_password(new_password, "new_password")
        if old_password == new_password:
            raise ValidationError({"new_password": "must differ from the current password"})
        hashed = auth.hash_password(new_password)  # outside the write lock
        with write_transaction():
            User.update(password_hash=hashed, updated_at=utcnow()).where(
                User.id == user.id
            ).execute()
            # Other sessions of this user end; this one stays.
            Session.update(revoked_at=utcnow()).where(
                Session.user == user.id,
                Session.revoked_at.is_null(),
                Session.jti != principal.session_jti,
            ).execute()
            record_event(principal, "user_change_password", "user", user.id)

    # ---- helpers -------------------------------------------------------
    def _change(
        self, principal: Principal, user_id: UUID | str, action: str, **changes: object
    ) -> UserRow:
        with write_transaction():
            advisory_lock("finance_tui.users")
            user = self._load(user_id)
            before = _snapshot(user)
            demotes_admin = (
                user.role == Role.ADMIN.value
                and user.is_active
                and (
                    changes.get("role", Role.ADMIN.value) != Role.ADMIN.value
                    or changes.get("is_active", True) is False
                )
            )
            if demotes_admin and active_admin_count() <= 1:
                raise ValidationError(
                    {"role": f"{user.username} is the last active admin; promote another first"}
                )
            for key, value in changes.items():
                setattr(user, key, value)
            user.updated_at = utcnow()
            user.save()
            if changes.get("is_active") is False:
                # In the same transaction: a deactivated user has no live session left.
                self._revoke_all(user.id)
            record_event(principal, action, "user", user.id, before, _snapshot(user))
        return to_row(user)

    @staticmethod
    def _load(user_id: UUID | str) -> User:
        try:
            uid = user_id if isinstance(user_id, UUID) else UUID(str(user_id))
        except ValueError:
            user = User.get_or_none(User.username_lower == str(user_id).strip().lower())
        else:
            user = User.get_or_none(User.id == uid)
        if user is None:
            raise NotFound(f"No user {user_id!s}")
        return user

    @staticmethod
    def _revoke_all(user_id: UUID) -> int:
        return (
            Session.update(revoked_at=utcnow())
            .where(Session.user == user_id, Session.revoked_at.is_null())
            .execute()
        )


def bootstrap_admin(username: str, email: str, password: str) -> UserRow:
    """Create the first admin on an empty database (``init``); refused once users exist."""
    with write_transaction():
        advisory_lock("finance_tui.users")
        if User.select().exists():
            raise ValidationError({"username": "users already exist; log in as an admin instead"})
        user = insert_user(username, email, password, Role.ADMIN.value)
        record_event(None, "user_create", "user", user.id, after=_snapshot(user), actor_name="init")
    return to_row(user)
