"""What a person feels: key -> painted screen in a real terminal, at 1k and at 1M records.

    python bench/felt.py [--sizes 1000,1000000] [--runs 4] [--work DIR] [--prefix felt]

The real app runs in tmux (120x40, its own server socket) on a demo database of each
size (created once with ``finance-tui demo`` and kept in ``--work``). Each run launches
the app, logs in as the demo admin and performs the same key actions; after each key the
pane is polled every 5 ms until the expected text is painted. Runs alternate between the
sizes, so a busy machine slows both alike. Prints, per action, the median (min-max) at
each size and the ratio of the medians, largest size against smallest.

Every action starts from a settled screen (the previous action's result painted), so a
figure is one key's own latency: what the key costs the person who pressed it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOCKET = "finance-felt"
POLL = 0.005
SETTLE = 0.3  # seconds between a painted result and the next measured key
TIMEOUT = 60.0
ADMIN = ("Demo_admin", "demo@admin2026")
ROW = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s+(income|expense)\s", re.MULTILINE)
COUNTED = re.compile(r"([\d,]+) records? · #([\d,]+) of ([\d,]+)")


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False
    ).stdout


def pane() -> str:
    return tmux("capture-pane", "-p", "-t", "felt")


def keys(*names: str) -> None:
    tmux("send-keys", "-t", "felt", *names)


def wait_for(test: Callable[[str], bool], what: str, start: float | None = None) -> float:
    """Seconds from ``start`` (default: now) until ``test`` holds for the painted pane."""
    begin = time.perf_counter() if start is None else start
    while True:
        screen = pane()
        if test(screen):
            return time.perf_counter() - begin
        if time.perf_counter() - begin > TIMEOUT:
            raise RuntimeError(f"timed out waiting for {what}:\n{screen}")
        time.sleep(POLL)


def status(screen: str) -> tuple[int, int, int] | None:
    """``(count, cursor, total)`` from the records status line, once counted."""
    found = COUNTED.search(screen)
    if not found:
        return None
    return tuple(int(part.replace(",", "")) for part in found.groups())  # type: ignore[return-value]


def sort_label(screen: str) -> str | None:
    """``"date (descending)"`` and the like, from the records status line."""
    found = re.search(r"sorted by (\w+ \(\w+\))", screen)
    return found.group(1) if found else None


def records_rows(screen: str) -> bool:
    """The records screen shows rows (the dashboard's recent records do not count)."""
    return screen.startswith(" Records") and "sorted by" in screen and bool(ROW.search(screen))


def first_row(screen: str) -> str:
    found = ROW.search(screen)
    return screen[found.start() : screen.find("\n", found.start())] if found else ""


@dataclass
class Timings:
    """Seconds per action name, for one database size."""

    values: dict[str, list[float]]

    def add(self, name: str, seconds: float) -> None:
        self.values.setdefault(name, []).append(seconds)


def press(key: str) -> float:
    """Send one key and return its time stamp (the start of what it makes the user wait).

    It waits ``SETTLE`` seconds first: the previous action's result is painted, but work
    after its last frame (a footer update, a worker's end) may still run, and a key
    that lands in it is measured from a screen that has not settled."""
    time.sleep(SETTLE)
    start = time.perf_counter()
    keys(key)
    return start


def run_session(db_url: str, size: int, run: int, timings: Timings, env: dict[str, str]) -> None:
    """One launch of the app and the whole sequence of measured actions."""
    tmux("kill-server")
    command = f"{sys.executable} -m finance_tui --db {db_url}"
    tmux("new-session", "-d", "-s", "felt", "-x", "120", "-y", "40", command)
    try:
        wait_for(lambda s: "Username or email" in s, "the login screen")
        keys(ADMIN[0], "Tab", ADMIN[1])
        start = press("Enter")  # after SETTLE: the typed password is not visible
        timings.add(
            "login Enter -> dashboard figures",
            wait_for(lambda s: re.search(r"[\d,]+ records", s) is not None, "the figures", start),
        )
        _records_actions(size, run, timings)
    finally:
        tmux("kill-server")


def _records_actions(size: int, run: int, timings: Timings) -> None:
    # `2` -> first rows, then the total count, from the same key press.
    start = press("2")
    timings.add("`2` -> first rows", wait_for(records_rows, "rows", start))
    timings.add(
        "`2` -> total count",
        wait_for(lambda s: (status(s) or (0, 0, 0))[0] == size, "the count", start),
    )
    # Next page, End, sort change.
    start = press("PageDown")
    timings.add(
        "PageDown -> next page",
        wait_for(lambda s: (status(s) or (0, 1, 0))[1] > 1, "the cursor to move", start),
    )
    before = (status(pane()) or (0, 0, 0))[1]
    start = press("Down")
    timings.add(
        "Down -> next row",
        wait_for(lambda s: (status(s) or (0, 0, 0))[1] == before + 1, "the next row", start),
    )
    start = press("End")
    timings.add(
        "End -> last record",
        wait_for(lambda s: (status(s) or (0, 0, 0))[1] == size, "the last record", start),
    )
    start = press("s")
    timings.add(
        "`s` -> re-sorted rows",
        wait_for(
            lambda s: "sorted by date" not in s and status(s) is not None, "the new sort", start
        ),
    )
    # Back to date order for the searches: cycle the sort until it says date again.
    while (label := sort_label(pane())) != "date (descending)":
        keys("s")
        wait_for(lambda s, was=label: sort_label(s) not in (was, None), "the next sort")
    _search(size, "lidl", "`/lidl` Enter", timings)
    _search(size, "bike", "`/bike` Enter", timings)
    # Open the first record, then save it with a changed amount.
    keys("Home")
    wait_for(lambda s: (status(s) or (0, 0, 0))[1] == 1, "the first record")
    start = press("Enter")
    timings.add("Enter -> record form", wait_for(lambda s: "Edit record" in s, "the form", start))
    amount = f"12.{30 + run % 60}"
    keys(amount)
    wait_for(lambda s: amount in s, "the typed amount")
    start = press("C-s")
    timings.add(
        "Ctrl+S -> saved, list repainted",
        wait_for(
            lambda s: "Edit record" not in s and f"-{amount}" in first_row(s),
            "the saved row",
            start,
        ),
    )


def _search(size: int, word: str, label: str, timings: Timings) -> None:
    """Type the word and Enter in one go, timed from the typing: the search applies as
    you type (debounced), so what you wait for starts at your last key."""
    keys("/")
    wait_for(lambda s: "sorted by" in s, "the search box")
    time.sleep(0.3)  # focus moves to the search box (not visible in plain text)

    def filtered(screen: str) -> bool:
        counted = status(screen)
        return counted is None or counted[0] < size

    start = time.perf_counter()
    keys(*word, "Enter")
    timings.add(
        f"{label} -> rows",
        wait_for(lambda s: word in first_row(s).lower() and filtered(s), f"{word} rows", start),
    )
    timings.add(
        f"{label} -> count",
        wait_for(lambda s: status(s) is not None and filtered(s), f"the {word} count", start),
    )
    keys("Escape")
    wait_for(lambda s: (status(s) or (0, 0, 0))[0] == size, "the cleared filter")


def ensure_database(work: Path, size: int, prefix: str = "felt") -> str:
    path = work / f"{prefix}-{size}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        print(f"creating {path} ({size:,} records)…", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "finance_tui", "--db", url, "demo", "--records", str(size)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return url


def report(sizes: list[int], results: dict[int, Timings]) -> None:
    small, large = sizes[0], sizes[-1]
    names = list(results[small].values)
    head = " | ".join(f"{size:,} records: median (min–max)" for size in sizes)
    print(f"| action | {head} | {large:,} / {small:,} |")
    print("|---|" + "--:|" * len(sizes) + "--:|")
    for name in names:
        cells = []
        for size in sizes:
            values = [v * 1000 for v in results[size].values.get(name, [])]
            cells.append(
                f"{statistics.median(values):.0f} ms ({min(values):.0f}–{max(values):.0f})"
            )
        ratio = statistics.median(results[large].values[name]) / statistics.median(
            results[small].values[name]
        )
        print(f"| {name} | {' | '.join(cells)} | {ratio:.2f} |")


def use_launch_environment(home: str) -> dict[str, str]:
    """Set the environment every bench launch inherits (tmux starts from it): a fresh
    home and state, a 256-colour terminal with colour on, and Python's bytecode cache
    on. A shell may set PYTHONDONTWRITEBYTECODE; then every launch would compile each
    module edited since its .pyc was written, which an installed app never does, so the
    warm-up launch writes the .pyc files instead."""
    env = {"HOME": home, "TERM": "xterm-256color", "XDG_STATE_HOME": f"{home}/state"}
    os.environ.update(env)
    for name in ("NO_COLOR", "PYTHONDONTWRITEBYTECODE"):
        os.environ.pop(name, None)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "felt")
    parser.add_argument("--prefix", default="felt", help="databases are WORK/PREFIX-SIZE.db")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("bench/felt.py needs tmux (apt-get install tmux)", file=sys.stderr)
        return 2
    sizes = sorted(int(s) for s in args.sizes.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    urls = {size: ensure_database(args.work, size, args.prefix) for size in sizes}
    with tempfile.TemporaryDirectory() as home:
        env = use_launch_environment(home)
        results = {size: Timings({}) for size in sizes}
        for size in sizes:  # a warm-up launch per size: file cache, .pyc
            run_session(urls[size], size, 0, Timings({}), env)
        for run in range(1, args.runs + 1):
            for size in sizes if run % 2 else reversed(sizes):
                run_session(urls[size], size, run, results[size], env)
                print(f"run {run} at {size:,}: done", file=sys.stderr)
    report(sizes, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
