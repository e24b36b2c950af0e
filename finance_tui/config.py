"""Settings read from the environment, so a shared server can set them system-wide."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "finance-tui"
ENV_PREFIX = "FINANCE_TUI_"
MIN_BCRYPT_ROUNDS = 4  # tests only; the shipped default is DEFAULT_BCRYPT_ROUNDS
DEFAULT_BCRYPT_ROUNDS = 12


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'finance.db'}"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int, minimum: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{ENV_PREFIX}{name} must be an integer, got {raw!r}") from None
    return max(value, minimum)


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Read once per process via :func:`settings`."""

    database_url: str
    secret_key: str | None
    bcrypt_rounds: int
    token_ttl_minutes: int
    idle_lock_minutes: int
    currency: str
    lockout_threshold: int = 5
    lockout_base_seconds: int = 30

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=_env("DATABASE_URL", default_database_url()) or "",
            secret_key=_env("SECRET_KEY"),
            bcrypt_rounds=_env_int("BCRYPT_ROUNDS", DEFAULT_BCRYPT_ROUNDS, MIN_BCRYPT_ROUNDS),
            token_ttl_minutes=_env_int("TOKEN_TTL_MINUTES", 12 * 60, 1),
            idle_lock_minutes=_env_int("IDLE_LOCK_MINUTES", 15, 0),
            currency=_env("CURRENCY", "USD") or "USD",
        )


_settings: Settings | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    global _settings
    _settings = None


def user_path(text: str | Path) -> Path:
    """A path as typed, with ``~`` expanded; ``~nosuchuser`` is a clear error, not the
    RuntimeError pathlib raises."""
    from finance_tui.errors import FinanceError

    try:
        return Path(text).expanduser()
    except RuntimeError:
        raise FinanceError(f"cannot expand {str(text)!r}: no such user's home directory") from None
