"""Password hashing and signed session tokens (docs/ARCHITECTURE.md: Sessions and logins)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import bcrypt
import jwt

from finance_tui.config import settings
from finance_tui.errors import SessionExpired, ValidationError
from finance_tui.migrations import SIGNING_KEY
from finance_tui.models import Meta, Session, utcnow

if TYPE_CHECKING:
    from peewee import Select

ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything after byte 72; refuse rather than truncate
_BCRYPT_RE = re.compile(r"^\$2[abxy]?\$(\d\d)\$")


def utf8_bytes(text: str) -> bytes | None:
    """UTF-8 bytes, or None for text with lone surrogates (undecodable terminal input)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    data = utf8_bytes(password)
    if data is None:
        return "contains characters that are not valid text"
    if len(data) > MAX_PASSWORD_BYTES:
        return f"must be at most {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)"
    return None


def validate_new_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise ValidationError({field: problem})


def hash_password(password: str) -> str:
    validate_new_password(password)
    return _hash(password.encode("utf-8"))


def rehash(password: str) -> str:
    """A fresh hash at the configured cost of a password that was just accepted.

    No new-password rules: an accepted password may predate them.
    """
    return _hash(password.encode("utf-8"))


def _hash(data: bytes) -> str:
    salt = bcrypt.gensalt(rounds=settings().bcrypt_rounds)
    return bcrypt.hashpw(data, salt).decode("ascii")


def hash_cost(password_hash: str) -> int | None:
    """The bcrypt cost of a stored hash (``$2b$12$...`` -> 12), None if not bcrypt."""
    match = _BCRYPT_RE.match(password_hash or "")
    return int(match.group(1)) if match else None


def needs_rehash(password_hash: str) -> bool:
    """True when the stored cost is not the configured one (e.g. after raising it)."""
    return hash_cost(password_hash) != settings().bcrypt_rounds


def check_password(password: str, password_hash: str) -> bool:
    data = utf8_bytes(password)
    usable = data if data is not None and len(data) <= MAX_PASSWORD_BYTES else None
    try:
        # An unusable password is still checked against this very hash: same cost, so
        # the refusal does not stand out in timing.
        matched = bcrypt.checkpw(b"x" if usable is None else usable, password_hash.encode("ascii"))
    except ValueError:
        return False
    return usable is not None and matched


@functools.cache
def _dummy_hash(rounds: int) -> str:
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def dummy_hash(rounds: int | None = None) -> str:
    """A hash checked for unknown users to equalise timing (default: configured cost)."""
    return _dummy_hash(rounds or settings().bcrypt_rounds)


def configured_key() -> str | None:
    """FINANCE_TUI_SECRET_KEY when set (refused if too short); None means the stored key."""
    configured = settings().secret_key
    if configured and len(configured.encode("utf-8")) < 32:
        raise SessionExpired("FINANCE_TUI_SECRET_KEY must be at least 32 bytes")
    return configured or None


def stored_key() -> Select:
    """The database's signing key as a subquery, so a session check reads it with its row."""
    return Meta.select(Meta.value).where(Meta.key == SIGNING_KEY)


def signing_key() -> str:
    return configured_key() or stored_key().scalar()


SECRET_CLAIM = "secret"
UPGRADED_SESSION = (
    "Sessions from before this version's security upgrade are no longer accepted; "
    "please log in again"
)
SECRET_BYTES = 32  # 256 bits, from the OS's CSPRNG


def secret_hash(secret: str) -> str:
    """What the database keeps of a session secret: its SHA-256, never the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(claims: dict, stored_hash: str | None) -> bool:
    """Does the token's secret claim hash to the stored value? (Constant-time compare.)

    A NULL hash (a session from before secrets existed) never matches: such a token
    could be rebuilt from the database alone.
    """
    secret = claims.get(SECRET_CLAIM)
    if not stored_hash or not isinstance(secret, str) or utf8_bytes(secret) is None:
        return False
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def issue_token(user_id: str) -> tuple[str, str, datetime]:
    """Create a token and its registry row. Returns (token, jti, expires_at).

    The token carries a random secret; the row only its hash. The signing key may sit
    in the database, so the signature alone proves nothing against someone who read it.
    """
    jti = secrets.token_hex(16)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    now = utcnow()
    expires = now + timedelta(minutes=settings().token_ttl_minutes)
    Session.create(
        jti=jti, user=user_id, issued_at=now, expires_at=expires, secret_hash=secret_hash(secret)
    )
    claims = {
        "sub": str(user_id),
        "jti": jti,
        "iat": int(_epoch(now)),
        "exp": int(_epoch(expires)),
        SECRET_CLAIM: secret,
    }
    return jwt.encode(claims, signing_key(), algorithm=ALGORITHM), jti, expires


INVALID_SESSION = "Invalid session; please log in again"
EXPIRED_SESSION = "Your session has expired; please log in again"


def decode_token(token: str, key: str | None = None) -> dict:
    """Verify signature and expiry under ``key`` (default: the current signing key).

    HS256 only; ``alg: none`` is refused. The secret claim is checked against the
    registry by the caller (:func:`secret_matches`); it is not required here so that a
    token from before secrets existed gets the "log in again" message, not "invalid".
    """
    try:
        return jwt.decode(
            token,
            signing_key() if key is None else key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "jti", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise SessionExpired(EXPIRED_SESSION) from None
    except jwt.PyJWTError:
        raise SessionExpired(INVALID_SESSION) from None


def unverified_jti(token: str) -> str:
    """The token's jti before its signature is checked: only to find the row whose key
    and secret then check it. Anything that is not a token is refused here already, and
    so is a jti no session could have (it reaches the database unsigned: PostgreSQL
    refuses a NUL in a text value with an error of its own)."""
    try:
        jti = jwt.decode(token, options={"verify_signature": False}).get("jti")
    except jwt.PyJWTError:
        raise SessionExpired(INVALID_SESSION) from None
    if not isinstance(jti, str) or not _JTI_RE.fullmatch(jti):
        raise SessionExpired(INVALID_SESSION)
    return jti


_JTI_RE = re.compile(r"[!-~]{1,64}")  # printable ASCII, no space, as long as the column


def refuse_if_expired(claims: dict) -> None:
    """The expiry check of :func:`decode_token`, for claims it verified earlier."""
    if claims["exp"] <= time.time():  # as PyJWT compares, with no leeway
        raise SessionExpired(EXPIRED_SESSION)


def _epoch(moment: datetime) -> float:
    return (moment - datetime(1970, 1, 1)).total_seconds()
