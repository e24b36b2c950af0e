"""``finance-tui backup FILE``: a consistent copy of a SQLite database while it is in use.

Uses SQLite's online backup API, so sessions may keep writing during the copy. The copy
is written to a temporary file next to FILE and renamed into place only once it is
complete and passes a quick check, so FILE is never left half-written. It holds
password hashes, so it is created readable by its owner only. PostgreSQL has its own
tool (pg_dump), which this command points to.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlparse

from finance_tui.commands.common import db_url, describe, sqlite_file
from finance_tui.config import user_path
from finance_tui.errors import FinanceError

PAGES_PER_STEP = 4096  # copy in steps so writers are not blocked for the whole copy


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backup",
        help="copy a SQLite database to FILE (safe while it is in use)",
        description="Write a consistent copy of the SQLite database to FILE while others "
        "keep working. For PostgreSQL use pg_dump.",
    )
    parser.add_argument("file", metavar="FILE", help="where to write the copy")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    url = db_url(args)
    scheme = urlparse(url).scheme
    if scheme in ("postgres", "postgresql"):
        raise FinanceError(
            f"backup copies SQLite files; {describe(url)} is PostgreSQL: use pg_dump, "
            "e.g. pg_dump --format=custom --file=FILE 'postgresql://user@host:port/dbname'"
        )
    if scheme != "sqlite":
        raise FinanceError(f"Unsupported database URL {url!r}")
    source = sqlite_file(url)
    target = user_path(args.file)
    check_paths(source, target, force=args.force)
    copy_database(source, target)
    print(f"Backed up {source} to {target} ({target.stat().st_size:,} bytes)")
    return 0


def check_paths(source: Path, target: Path, *, force: bool) -> None:
    if not source.is_file():
        raise FinanceError(f"no database at {source}")
    if target.is_dir():
        raise FinanceError(f"{target} is a directory; give a file name")
    if not target.parent.is_dir():
        raise FinanceError(f"directory {target.parent} does not exist")
    live = live_file(source, target)
    if live is not None:
        raise FinanceError(
            f"the backup file cannot be the database {live} ({target}): writing there "
            "would destroy the database; choose another file name"
        )
    if target.exists() and not force:
        raise FinanceError(f"{target} already exists; pass --force to overwrite it")


LIVE_FILES = {
    "": "itself",
    "-wal": "write-ahead log (-wal)",
    "-shm": "shared-memory file (-shm)",
    "-journal": "rollback journal (-journal)",
}


def live_file(source: Path, target: Path) -> str | None:
    """Which of the database's own files ``target`` is, if any (``None``: none of them).

    SQLite keeps recent commits in the -wal file and replays a -journal on the next open,
    so overwriting any of them (by name, symlink or hard link) loses data.
    """
    resolved = target.resolve()
    for suffix, what in LIVE_FILES.items():
        live = Path(f"{source}{suffix}")
        if resolved == live.resolve():
            return what
        with contextlib.suppress(OSError):
            if os.path.samefile(target, live):
                return what
    return None


def copy_database(source: Path, target: Path) -> None:
    """Online backup into a private temporary file, checked, then renamed over ``target``."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True)  # rw: never creates
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst, pages=PAGES_PER_STEP)
                # A self-contained single file: no -wal/-shm companions needed to restore.
                dst.execute("PRAGMA journal_mode=DELETE")
                verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if verdict != "ok":
            raise FinanceError(f"the copy failed its integrity check: {verdict}")
        os.replace(tmp, target)
    except sqlite3.DatabaseError as exc:
        raise FinanceError(f"backup of {source} failed: {exc}") from exc
    except OSError as exc:
        raise FinanceError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
