#!/usr/bin/env python3
"""Fail when a function in the app is too complex to read and test comfortably.

Lists every function, method and nested function in ``finance_tui/`` and ``screens/``
whose cyclomatic complexity (radon) is above the limit, and exits 1 if there is any.

    python .ci/complexity.py [--max 15] [PATH ...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

LIMIT = 15
ROOT = Path(__file__).resolve().parent.parent
PATHS = ("finance_tui", "screens")


def functions(blocks: Iterable[Function | Class]) -> Iterator[Function]:
    """Every function in ``blocks``: methods of (inner) classes and closures included."""
    for block in blocks:
        if isinstance(block, Class):
            yield from functions([*block.methods, *block.inner_classes])
        else:
            yield block
            yield from functions(block.closures)


def too_complex(path: Path, limit: int) -> list[str]:
    """``file:line name complexity`` of each function of ``path`` above ``limit``."""
    found = set()  # radon lists a method both on its own and in its class
    for func in functions(cc_visit(path.read_text(encoding="utf-8"))):
        if func.complexity > limit:
            name = f"{func.classname}.{func.name}" if func.classname else func.name
            where = path.resolve()
            where = where.relative_to(ROOT) if where.is_relative_to(ROOT) else where
            found.add((func.lineno, f"{where}:{func.lineno} {name} {func.complexity}"))
    return [line for _, line in sorted(found)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=LIMIT, help=f"the limit (default {LIMIT})")
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders to check")
    args = parser.parse_args(argv)
    roots = args.paths or [ROOT / p for p in PATHS]
    files = sorted(f for root in roots for f in ([root] if root.is_file() else root.rglob("*.py")))
    found = [line for f in files for line in too_complex(f, args.max)]
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} function(s) above complexity {args.max}: split them up")
        return 1
    print(f"{len(files)} files: no function above complexity {args.max}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
