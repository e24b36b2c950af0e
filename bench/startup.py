"""Start-up: launch -> first paint of the login screen, against a bare Textual app.

    python bench/startup.py [--runs 7] [--work DIR] [--prefix felt]

Both run the same way, with the same Python: a fresh process in tmux (120x40, its own
server socket), the pane polled every 5 ms until the first screen is painted ("Log in"
on the login screen; "BARE-READY" for the bare app, an ``App`` with one ``Label``).
The app opens the 1,000-record demo database of ``bench/felt.py`` (same ``--work``).
Runs alternate after a warm-up launch of each, which also writes the .pyc files (see
``felt.use_launch_environment``). Prints the median (min-max) of both and
the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import felt  # noqa: E402  (the tmux driver and the demo databases)

BARE_APP = """
from textual.app import App
from textual.widgets import Label


class Bare(App):
    def compose(self):
        yield Label("BARE-READY")


Bare().run()
"""


def time_to_paint(command: str, marker: str) -> float:
    """Seconds from launching ``command`` in a fresh tmux server to ``marker`` painted."""
    felt.tmux("kill-server")
    start = time.perf_counter()
    felt.tmux("new-session", "-d", "-s", "felt", "-x", "120", "-y", "40", command)
    try:
        return felt.wait_for(lambda s: marker in s, marker, start)
    finally:
        felt.tmux("kill-server")


def cell(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{statistics.median(ms):.0f} ms ({min(ms):.0f}–{max(ms):.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "felt")
    parser.add_argument("--prefix", default="felt", help="the database is WORK/PREFIX-1000.db")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("bench/startup.py needs tmux (apt-get install tmux)", file=sys.stderr)
        return 2
    felt.SOCKET = f"finance-startup-{os.getpid()}"  # never another bench's tmux server
    args.work.mkdir(parents=True, exist_ok=True)
    url = felt.ensure_database(args.work, 1000, args.prefix)
    with tempfile.TemporaryDirectory() as home:
        bare = Path(home) / "bare_app.py"
        bare.write_text(BARE_APP)
        felt.use_launch_environment(home)
        commands = {
            "app": (f"{sys.executable} -m finance_tui --db {url}", "Log in"),
            "bare": (f"{sys.executable} {bare}", "BARE-READY"),
        }
        for command, marker in commands.values():  # warm-up: file cache, .pyc
            time_to_paint(command, marker)
        times: dict[str, list[float]] = {name: [] for name in commands}
        load = os.getloadavg()[0]
        for run in range(args.runs):
            for name in commands if run % 2 == 0 else reversed(list(commands)):
                times[name].append(time_to_paint(*commands[name]))
    ratio = statistics.median(times["app"]) / statistics.median(times["bare"])
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}, {args.runs} alternating runs")
    print(f"app (login screen painted): {cell(times['app'])}")
    print(f"bare Textual app (one Label): {cell(times['bare'])}")
    print(f"ratio app / bare: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
