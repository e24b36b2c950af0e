#!/usr/bin/env python3
"""Check commit messages: a subject of at most 72 characters, then a blank line.

Used two ways: as the ``commit-msg`` hook (``.githooks/commit-msg FILE``) and by
``.ci/run`` on the commits made since the rule was adopted (``--since REV``), so a long
subject fails CI as well as the local commit.
"""

from __future__ import annotations

import subprocess
import sys

MAX_SUBJECT = 72
# Commits before this one were written before the rule; they are not rewritten.
ADOPTED_AFTER = "4d6c929"


def problems(message: str) -> list[str]:
    """What is wrong with one commit message (empty when it follows the rule)."""
    lines = [line for line in message.splitlines() if not line.startswith("#")]
    if not lines or not lines[0].strip():
        return ["the subject line is empty"]
    found = []
    if len(lines[0]) > MAX_SUBJECT:
        found.append(f"the subject has {len(lines[0])} characters (at most {MAX_SUBJECT})")
    if len(lines) > 1 and lines[1].strip():
        found.append("the second line must be blank (the body starts on the third)")
    return found


def history_messages(since: str) -> list[tuple[str, str]]:
    """``(short hash, message)`` of every commit after ``since`` (none if it is unknown)."""
    known = subprocess.run(["git", "cat-file", "-e", f"{since}^{{commit}}"], capture_output=True)
    if known.returncode != 0:
        return []
    out = subprocess.run(
        ["git", "log", "--format=%h%x00%B%x01", f"{since}..HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entries = [chunk.strip("\n") for chunk in out.split("\x01") if chunk.strip()]
    return [tuple(entry.split("\x00", 1)) for entry in entries]  # type: ignore[misc]


def main(argv: list[str]) -> int:
    if argv and argv[0] != "--since":
        with open(argv[0], encoding="utf-8") as handle:
            found = problems(handle.read())
        for problem in found:
            print(f"commit message: {problem}", file=sys.stderr)
        return 1 if found else 0
    since = argv[1] if len(argv) > 1 else ADOPTED_AFTER
    bad = 0
    for short, message in history_messages(since):
        for problem in problems(message):
            print(f"{short}: {problem}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
