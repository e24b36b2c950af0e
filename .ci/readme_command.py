#!/usr/bin/env python3
"""Print one of the README's two quick-start commands ("demo" or "test").

CI runs the test command verbatim from README.md, so the documented command is the
tested one. The quick start must hold exactly two one-line fenced code blocks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
ORDER = ("demo", "test")


def quick_start_commands(text: str) -> list[str]:
    match = re.search(r"^## Quick start\s*$(.*?)(?=^## )", text, re.M | re.S)
    if not match:
        raise SystemExit("README.md has no '## Quick start' section")
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", match.group(1), re.M | re.S)
    commands = [block.strip() for block in blocks]
    if len(commands) != len(ORDER) or any("\n" in c or not c for c in commands):
        raise SystemExit("the Quick start must hold exactly two one-line commands")
    return commands


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ORDER:
        print(f"usage: readme_command.py {{{'|'.join(ORDER)}}}", file=sys.stderr)
        return 2
    print(quick_start_commands(README.read_text(encoding="utf-8"))[ORDER.index(argv[0])])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
