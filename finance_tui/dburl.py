"""Database URLs as text: normalising a path, describing a URL, naming its file.

No database driver here, so the terminal UI can name its database on the login screen
and refuse an unsupported URL before it imports peewee (start-up time).
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from finance_tui.config import settings, user_path
from finance_tui.errors import FinanceError

SCHEMES = ("sqlite", "postgres", "postgresql")


class DatabaseUrlError(FinanceError):
    pass


def normalize_url(url: str | None) -> str:
    """Turn a path or URL into a URL; ``None`` means the environment or the default."""
    url = url or settings().database_url
    if "\x00" in url:
        raise DatabaseUrlError("the database path or URL contains a NUL character")
    if "://" not in url:  # a plain path: a '%' in it is a character, not an escape
        return f"sqlite:///{str(user_path(url).resolve()).replace('%', '%25')}"
    return url


def check_url(url: str) -> str:
    """``url`` when its engine is one we support and its SQLite path holds no NUL;
    else the one-line refusal."""
    scheme = urlparse(url).scheme
    if scheme not in SCHEMES:
        raise DatabaseUrlError(
            f"Unsupported database URL {url!r}: use a file path, sqlite:///PATH "
            "or postgresql://user:password@host:port/dbname"
        )
    if scheme == "sqlite" and "\x00" in (path := sqlite_path(url)):
        raise DatabaseUrlError(f"the database path {path!r} contains a NUL character (%00)")
    return url


def describe(url: str) -> str:
    """URL without the password, for display ("connected to ...")."""
    parsed = urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        return sqlite_path(url)
    host = parsed.hostname or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    user = f"{parsed.username}@" if parsed.username else ""
    return f"{parsed.scheme}://{user}{host}{port}{parsed.path}"


def sqlite_path(url: str) -> str:
    """The file of a SQLite URL: ``sqlite:///relative`` or ``sqlite:////absolute``."""
    path = url.split("://", 1)[1]
    return unquote(path[1:] if path.startswith("/") else path)
