"""Memory after a long session of dialogs: the app with and without the styles-cache fix.

    python bench/dialogs.py [--rounds 150] [--runs 3]

Each run is a fresh process: the real app, headless under Textual's test pilot at
120x40, logged in as an admin on a scratch SQLite database, opens and closes help (F1)
and the record form (n) ``--rounds`` times, waiting after each key until the app is
idle. Then it collects garbage and reads its ``VmRSS`` and the number of objects the
garbage collector tracks. ``fix`` is the app as shipped (``finance_tui/shell/
styles_cache_leak.py``); ``stock`` puts back Textual's own ``get_inner_outer``, which
keeps the last 1,024 widgets' render caches alive. Runs alternate. Prints, per variant,
the median (min-max) of both figures after 5 rounds and after the last.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-dialogs-1"
WARM_ROUNDS = 5  # the first rounds load modules and fill Textual's own caches


def resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def snapshot() -> dict[str, int]:
    gc.collect()
    return {"rss_kib": resident_kib(), "objects": len(gc.get_objects())}


async def walk(variant: str, rounds: int, work: Path) -> dict[str, dict[str, int]]:
    os.environ.setdefault("FINANCE_TUI_BCRYPT_ROUNDS", "4")
    from textual._styles_cache import StylesCache

    from finance_tui.app import FinanceApp
    from finance_tui.services.users import bootstrap_admin
    from finance_tui.session import SessionController
    from finance_tui.shell.styles_cache_leak import STOCK_GET_INNER_OUTER
    from finance_tui.startup import connect

    if variant == "stock":
        StylesCache.get_inner_outer = STOCK_GET_INNER_OUTER  # type: ignore[method-assign]
    connect(f"sqlite:///{work / 'bench.db'}")
    bootstrap_admin("admin", "admin@example.org", PASSWORD)
    session = SessionController.login("admin", PASSWORD)
    app = FinanceApp(
        session=session,
        today=date(2026, 11, 25),
        idle_lock_minutes=0,
        refresh_seconds=0,
        state_path=work / "tui-state.json",
    )
    figures: dict[str, dict[str, int]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for done in range(1, rounds + 1):
            for key in ("f1", "escape", "n", "escape"):
                await pilot.press(key)
                await app.workers.wait_for_complete()
                await pilot.pause()
            if done == WARM_ROUNDS:
                figures["warm"] = snapshot()
        figures["end"] = snapshot()
    return figures


def child(variant: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        print(json.dumps(asyncio.run(walk(variant, rounds, Path(work)))))


def cell(values: list[float], digits: int = 1) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("fix", "stock"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds <= WARM_ROUNDS:
        parser.error(f"--rounds must be more than {WARM_ROUNDS}")
    if args.child:
        child(args.child, args.rounds)
        return 0
    results: dict[str, list[dict[str, dict[str, int]]]] = {"fix": [], "stock": []}
    for run in range(args.runs):
        for variant in ("fix", "stock") if run % 2 == 0 else ("stock", "fix"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--rounds", str(args.rounds)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[variant].append(json.loads(out.splitlines()[-1]))
            print(f"run {run + 1} {variant}: {results[variant][-1]}", file=sys.stderr)
    print(f"| variant | RSS after {WARM_ROUNDS} rounds, MB | after {args.rounds}, MB |", end="")
    print(f" objects after {WARM_ROUNDS} | after {args.rounds} |")
    print("|---|--:|--:|--:|--:|")
    for variant, runs in results.items():
        row = [cell([r[at]["rss_kib"] / 1024 for r in runs]) for at in ("warm", "end")] + [
            cell([float(r[at]["objects"]) for r in runs], 0) for at in ("warm", "end")
        ]
        print(f"| {variant} | " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
