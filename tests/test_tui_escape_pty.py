"""Hostile stored text never reaches a real terminal as escape sequences.

Text is written BELOW the validation layer (as older rows, or rows written straight
into the database file, would be): a record's notes, a category name, a username, an
email, an audit actor and before/after JSON, a CSV header and cell. Then the real app
runs under a pseudo-terminal (TERM=xterm-256color), logs in and opens every screen and
dialog by keys, and every byte it writes is checked. The headless test driver writes
nothing, so only a real terminal driver can show what a user's terminal would receive.

Textual itself draws with CSI sequences and sets the pointer shape with OSC 22; the
data must add no other OSC (0/2 retitle the window), no ``ESC [ 2 J``, no BEL, no raw
C1 and no bidi control, and its stand-ins ("␛]0;PWNn␇") must be on screen.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from finance_tui.db import write_transaction
from finance_tui.models import AuditEvent, Category, User
from finance_tui.services.bulk import NewRecord, insert_records
from finance_tui.services.users import insert_user

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

PASSWORD = "correct-horse-1"


def hostile(tag: str) -> str:
    """Retitle the window, wipe the screen, markup, a bidi override and a C1 CSI."""
    return f"\x1b]0;{tag}\x07\x1b[2J[bold]x[/] \u202eevil\x9b31m"


def shown(tag: str, *, full: bool = False) -> bytes:
    """How :func:`hostile` must appear on screen: Control Pictures for C0, ``<U+…>``
    for C1 and bidi, markup as typed. Narrow table columns show only the start."""
    whole = f"␛]0;{tag}␇␛[2J[bold]x[/]"  # then " <U+202E>evil<U+009B>31m", maybe wrapped
    return (whole if full else whole[:9]).encode()


def seed_hostile(csv_path: Path) -> None:
    """Rows that bypass validation, one tag per place the text can come from."""
    with write_transaction():
        cat = Category.create(name=hostile("PWNc"), name_lower=hostile("PWNc").lower(), kind="both")
        user = insert_user("mallory", "mallory@example.com", PASSWORD, "viewer")
        User.update(
            username=hostile("PWNu"),
            username_lower=hostile("PWNu").lower(),
            email=hostile("PWNm"),
        ).where(User.id == user.id).execute()
        record = NewRecord(
            kind="expense",
            amount_minor=1234,
            category_id=cat.id,
            date=date.today(),
            notes=hostile("PWNn"),
            created_at=datetime.now(),
        )
        insert_records([record], user.id)
        AuditEvent.create(
            actor_name=hostile("PWNa"),
            action="category_rename",
            entity_type="category",
            entity_id=str(cat.id),
            before=json.dumps({"name": hostile("PWNj")}, ensure_ascii=False),
            after=json.dumps({"name": "\u202e\x9b\x1b]2;x\x07"}, ensure_ascii=False),
        )
    csv_path.write_text(
        "date,kind,amount,category,notes\n"
        f"2026-11-01,expense,1.00,food,{hostile('PWNv')}\n"
        f"2026-11-02,expense,1.00,{hostile('PWNw')},fine\n",
        encoding="utf-8",
    )


class Terminal:
    """The app in a pseudo-terminal: send keys, wait for output, keep every byte."""

    def __init__(self, argv: list[str], env: dict[str, str], size=(36, 170)) -> None:
        self.out = bytearray()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the real app, real driver
            os.execvpe(argv[0], argv, env)
        import fcntl
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))

    def _read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.out.extend(data)

    def wait_for(self, marker: bytes, *, since: int = 0, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while marker not in self.out[since:]:
            if time.monotonic() > end:
                tail = bytes(self.out[-3000:])
                raise AssertionError(f"{marker!r} never appeared; last output: {tail!r}")
            self._read(0.1)

    def press(self, keys: bytes, marker: bytes | None = None, *, settle: float = 0.3) -> None:
        """Send ``keys``; wait until ``marker`` appears in what follows, then a little."""
        start = len(self.out)
        os.write(self.fd, keys)
        if marker is not None:
            self.wait_for(marker, since=start)
        self._read(settle)

    def press_until(self, keys: bytes, marker: bytes, *, since: int, tries: int = 5) -> None:
        """Press ``keys`` (e.g. down) until ``marker`` has shown up since ``since``."""
        start = since
        for _ in range(tries):
            if marker in self.out[start:]:
                return
            self.press(keys, settle=1.0)
        self.wait_for(marker, since=start, timeout=5)

    def close(self) -> None:
        try:
            os.write(self.fd, b"\x11")  # ctrl+q
            self._read(1.0)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self.fd)


OSC = re.compile(rb"\x1b\](\d*);")
UNSAFE_ON_SCREEN = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def test_every_screen_writes_hostile_text_literally(db_url, admin, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("one engine is enough: the screens, not the database, are under test")
    csv_path = tmp_path / "bank.csv"
    seed_hostile(csv_path)
    home = tmp_path / "home"
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        # wide enough for the dashboard's 7 cards a row, so its recent list is on screen
        "COLUMNS": "170",
        "LINES": "36",
    }
    env.pop("TEXTUAL", None)
    term = Terminal([sys.executable, "-m", "finance_tui", "--db", db_url], env)
    try:
        term.wait_for(b"Password")
        term.press(b"root\t")
        term.press(PASSWORD.encode() + b"\r", shown("PWNn"))  # dashboard: recent
        term.press(b"2", b"PWNu")  # records: notes, category, created by
        term.press(b"e", b"Edit record")  # the record form, prefilled from the record
        term.wait_for(b"stand-in")
        term.press(b"\x13", b"at position 1")  # ctrl+s: refused, the character named
        term.press(b"\x1b", settle=0.5)  # close the form
        term.press(b"3", b"Analytics")
        term.press(b"d")  # drill-down: the category list has the hostile name first
        term.press(b"\r", b"PWNc")  # its options
        term.press(b"\x1b[B\r", b"PWNn")  # chosen: the largest records list the note
        term.press(b"\x1b")
        term.press(b"4", b"Archived")  # categories
        term.press(b"e", b"New name")  # rename dialog prefilled with the stored name
        term.press(b"\x1b")
        term.press(b"k", b"Kind of")  # kind dialog titled with the name
        term.press(b"\x1b")
        term.press(b"5", b"PWNm")  # users
        term.press(b"r", b"Role for")  # role dialog titled with the username
        term.press(b"\x1b")
        audit = len(term.out)
        term.press(b"6", b"PWNa")  # audit log
        term.press_until(b"\x1b[B", b"PWNj", since=audit)  # the hostile event's detail
        term.press(b"8", b"Read columns")  # import
        term.press(str(csv_path).encode() + b"\r", b"5 columns")
        term.press(b"\x13", b"U+001B")  # ctrl+s: refused, problems listed by line
        term.press(b"7", b"Change your password")  # account (its password box takes keys)
    finally:
        term.close()

    out = bytes(term.out)
    text = out.decode("utf-8", "replace")
    kinds = {m.group(1) for m in OSC.finditer(out)}
    assert kinds <= {b"22"}, f"OSC other than the pointer shape: {kinds}"
    assert out.count(b"\x07") == len(OSC.findall(out)), "a BEL outside Textual's OSC 22"
    assert b"\x1b[2J" not in out
    assert not UNSAFE_ON_SCREEN.search(text), "raw C1 or bidi control written"
    for tag in ("PWNn", "PWNc", "PWNu", "PWNm", "PWNa"):
        assert shown(tag) in out, f"{tag} not shown literally"
    assert shown("PWNn", full=True) in out  # the record form's notes box
    assert shown("PWNa", full=True) in out  # the audit detail's actor line
    assert b"<U+202E>evil<U+009B>31m" in out
    assert b'"name": "\\u001b]0;PWNj\\u0007' in out  # before/after JSON: C0 as JSON escapes
    assert b"contains a control character (U+001B) at position 1" in out
