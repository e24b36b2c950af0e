"""``finance-tui doctor``: check (and with --rebuild, repair) the derived data.

It also removes what an import left behind when its process died (never visible).

The monthly summaries and the search index are derived from the records and kept in
step by every write; a hand edit of the database, a restore of a partial backup or a
bug could still make them drift. Checking only reads and is open to anyone who can
open the database; rebuilding rewrites them and needs an admin.

For a SQLite database it also warns when other users could read or write the file, its
-wal/-shm companions or its directory: the file holds password hashes and all the data,
and write access to the directory lets anyone swap or plant those files.
"""

from __future__ import annotations

import argparse
import shlex
import stat
import time
from pathlib import Path

MAX_SHOWN = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="verify the monthly summaries, the search index and the file permissions "
        "(--rebuild repairs the first two)",
        description="Recompute the monthly summaries from the records and compare, and "
        "check the notes search index. For SQLite, warn when other users can read or "
        "write the database files or their directory, with the chmod that fixes it. "
        "Exit status 0 when all is well, 1 otherwise. "
        "--rebuild (admin only) recreates both from the records in one transaction.",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild summaries and search index (admin)"
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="with --rebuild: authenticate as NAME (password on stdin or a prompt); "
        "default: the session stored by 'finance-tui login'",
    )
    parser.set_defaults(handler=run)


def _other_rights(mode: int) -> str:
    rights = [word for bit, word in ((stat.S_IROTH, "read"), (stat.S_IWOTH, "write")) if mode & bit]
    return " and ".join(rights)


def _fix(path: Path, mode: int, is_dir: bool) -> str:
    """The command that removes other users' access (none works for a shared /tmp)."""
    if is_dir and mode & stat.S_ISVTX and mode & stat.S_IWOTH:
        return "move the database to a directory that only you (or your group) can write"
    return f"run: chmod o-rwx {shlex.quote(str(path))}"


def permission_warnings(db_file: Path) -> list[str]:
    """Every user's access to the database, its -wal/-shm or its directory, with the fix."""
    warnings = []
    directory = db_file.parent
    for path in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm"), directory):
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        rights = _other_rights(mode)
        if rights:
            what = "directory" if path == directory else "file"
            warnings.append(
                f"{what} {path} (mode {stat.S_IMODE(mode):04o}): every user can {rights} it; "
                + _fix(path, mode, path == directory)
            )
    return warnings


def check() -> list[str]:
    from finance_tui import search_index
    from finance_tui.db import current_database
    from finance_tui.services import summaries

    return summaries.verify() + search_index.verify(current_database())


def run(args: argparse.Namespace) -> int:
    # Imported here: every command module is imported to build the parser at start-up.
    from finance_tui import search_index
    from finance_tui.commands.common import authenticate, describe, open_db
    from finance_tui.db import current_database, is_sqlite, write_transaction
    from finance_tui.permissions import Permission
    from finance_tui.services import summaries
    from finance_tui.services.audit import record_event
    from finance_tui.services.imports import sweep

    db = open_db(args)
    print(f"Database: {describe(db.finance_url)}")
    for line in [*db.finance_cleaned, *sweep()]:
        print(f"  cleaned: {line}")
    if args.rebuild:
        session = authenticate(args)
        principal = session.require(Permission.WRITE_RECORDS)
        started = time.monotonic()
        before = check()
        with write_transaction():
            summaries.rebuild()
            search_index.rebuild(current_database())
            record_event(
                principal, "doctor_rebuild", "database", "", after={"problems": len(before)}
            )
        print(f"Rebuilt summaries and search index in {time.monotonic() - started:.1f}s.")
    path = db.database if is_sqlite() else None  # None: deferred, never for a file
    warnings = permission_warnings(Path(path)) if path else []
    for line in warnings:
        print(f"  warning: {line}")
    code = _report(check())
    if warnings:
        print(f"{len(warnings)} permission warning(s): fix them as shown above.")
        return 1
    return code


def _report(problems: list[str]) -> int:
    """Print the consistency check's outcome; 1 when something drifted."""
    from finance_tui.textsafety import printable

    for line in problems[:MAX_SHOWN]:
        print(f"  problem: {printable(line)}")
    if len(problems) > MAX_SHOWN:
        print(f"  ... and {len(problems) - MAX_SHOWN} more")
    if problems:
        print(f"{len(problems)} problem(s) found; run 'finance-tui doctor --rebuild' as an admin.")
        return 1
    print("Summaries and search index are consistent with the records.")
    return 0
