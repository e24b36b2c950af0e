"""SSH public keys per user: everyone manages their own, only an admin manages others'.

The permission checks are here, not in the CLI or the screens, so every way in obeys
them. Every change writes an audit event naming the key's fingerprint.
"""

from __future__ import annotations

from uuid import UUID

from peewee import IntegrityError

from finance_tui.db import write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import Principal, SshKeyRow
from finance_tui.errors import NotFound, ValidationError
from finance_tui.models import SshKey, User
from finance_tui.permissions import Permission
from finance_tui.services.audit import record_event
from finance_tui.sshkeys import parse_public_key


def to_row(key: SshKey, username: str) -> SshKeyRow:
    return SshKeyRow(
        id=key.id,
        username=username,
        algorithm=key.algorithm,
        fingerprint=key.fingerprint,
        comment=key.comment,
        created_at=key.created_at,
    )


def find_account(who: str) -> User | None:
    """A user by username, email or id (case-insensitive)."""
    key = who.strip().lower()
    if not key:
        return None
    if "@" in key:
        return User.get_or_none(User.email_lower == key)
    user = User.get_or_none(User.username_lower == key)
    if user is None:
        try:
            user = User.get_or_none(User.id == UUID(key))
        except ValueError:
            return None
    return user


def key_owner(username: str, fingerprint: str) -> User | None:
    """The active user ``username`` names, if the key with ``fingerprint`` is theirs.

    Used by the SSH server to accept a key; needs no session (it is how one starts).
    """
    user = find_account(username)
    if user is None or not user.is_active:
        return None
    found = SshKey.get_or_none((SshKey.user == user.id) & (SshKey.fingerprint == fingerprint))
    return user if found is not None else None


class SshKeyService:
    def __init__(self, session: Authoriser):
        self.session = session

    def _target(self, who: str | None) -> tuple[Principal, User]:
        """The account whose keys are meant; someone else's needs MANAGE_USERS."""
        principal = self.session.require(Permission.MANAGE_OWN_SSH_KEYS)
        if who is None or who.strip().lower() in (
            principal.username.lower(),
            principal.email.lower(),
            str(principal.user_id),
        ):
            return principal, User.get_by_id(principal.user_id)
        principal = self.session.require(Permission.MANAGE_USERS)
        user = find_account(who)
        if user is None:
            raise NotFound(f"no user {who!r}")
        return principal, user

    def list(self, who: str | None = None) -> list[SshKeyRow]:
        _, user = self._target(who)
        keys = SshKey.select().where(SshKey.user == user.id).order_by(SshKey.created_at, SshKey.id)
        return [to_row(key, user.username) for key in keys]

    def add(self, text: str, who: str | None = None) -> SshKeyRow:
        """Store one public key line for the account; refuses duplicates and private keys."""
        principal, user = self._target(who)
        parsed = parse_public_key(text)
        duplicate = ValidationError(
            {"key": f"{parsed.fingerprint} is already registered for {user.username}"}
        )
        try:
            with write_transaction():
                if SshKey.get_or_none(
                    (SshKey.user == user.id) & (SshKey.fingerprint == parsed.fingerprint)
                ):
                    raise duplicate
                key = SshKey.create(
                    user=user.id,
                    algorithm=parsed.algorithm,
                    key_data=parsed.key_data,
                    fingerprint=parsed.fingerprint,
                    comment=parsed.comment,
                )
                record_event(principal, "ssh_key_add", "user", user.id, after=_audit(key, user))
        except IntegrityError:  # a concurrent add of the same key won the race
            raise duplicate from None
        return to_row(key, user.username)

    def remove(self, fingerprint: str, who: str | None = None) -> SshKeyRow:
        principal, user = self._target(who)
        wanted = fingerprint.strip()
        if wanted and not wanted.startswith("SHA256:"):
            wanted = "SHA256:" + wanted
        with write_transaction():
            key = SshKey.get_or_none((SshKey.user == user.id) & (SshKey.fingerprint == wanted))
            if key is None:
                raise NotFound(f"{user.username} has no SSH key {fingerprint.strip()!r}")
            key.delete_instance()
            record_event(principal, "ssh_key_remove", "user", user.id, before=_audit(key, user))
        return to_row(key, user.username)


def _audit(key: SshKey, user: User) -> dict:
    return {
        "user": user.username,
        "fingerprint": key.fingerprint,
        "algorithm": key.algorithm,
        "comment": key.comment,
    }
