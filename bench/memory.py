"""Peak memory of a full session in the real terminal, at 1k and at 1M records.

    python bench/memory.py [--sizes 1000,1000000] [--runs 2] [--work DIR] [--prefix felt]

The app runs in tmux (120x40) on the demo databases of ``bench/felt.py`` (same tooling,
same ``--work``/``--prefix``), driven by felt's helpers through one full session: login,
dashboard, records, next page, End, sort changes, searches, opening and saving a record,
more searches and sorts, a walk of PageDowns, End again, opening a record and leaving it,
analytics and back to the dashboard. Then it reads the app process's ``VmHWM`` (peak
resident set size) and ``Threads`` from ``/proc/PID/status``. Runs alternate between the
sizes. Prints, per size, the median (min-max) of both, the difference of the peak medians
(largest size minus smallest) and their ratio.
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

EXTRA_WORDS = ("coffee", "crypto", "lidl")
PAGE_DOWNS = 12


def app_pid() -> int:
    """The Python process running in the pane (tmux may start it under a shell)."""
    pid = int(felt.tmux("display-message", "-p", "-t", "felt", "#{pane_pid}").strip())
    for _ in range(5):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"finance_tui" in cmdline and b"python" in cmdline.split(b"\0")[0]:
            return pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            break
        pid = int(children[0])
    raise RuntimeError("no finance_tui process in the tmux pane")


def proc_status(pid: int) -> dict[str, int]:
    """``VmHWM`` (bytes) and ``Threads`` of a live process."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key == "VmHWM":
            values["peak"] = int(rest.split()[0]) * 1024
        elif key == "Threads":
            values["threads"] = int(rest)
    return values


def settle_records(size: int) -> None:
    """Wait until the records screen shows rows and its full, unfiltered count."""
    felt.wait_for(
        lambda s: felt.records_rows(s) and (felt.status(s) or (0, 0, 0))[0] == size,
        "the records screen, counted",
    )


def more_records_actions(size: int) -> None:
    """Searches, sort changes, a PageDown walk, End, opening a record and leaving it."""
    for word in EXTRA_WORDS:
        felt._search(size, word, f"/{word}", felt.Timings({}))
    for _ in range(3):
        label = felt.sort_label(felt.pane())
        felt.keys("s")
        felt.wait_for(lambda s, was=label: felt.sort_label(s) not in (was, None), "a new sort")
    for _ in range(PAGE_DOWNS):
        cursor = (felt.status(felt.pane()) or (0, 0, 0))[1]
        felt.keys("PageDown")
        felt.wait_for(lambda s, was=cursor: (felt.status(s) or (0, 0, 0))[1] > was, "PageDown")
    felt.keys("End")
    felt.wait_for(lambda s: (felt.status(s) or (0, 0, 0))[1] == size, "the last record")
    felt.keys("Enter")
    felt.wait_for(lambda s: "Edit record" in s, "the record form")
    felt.keys("Escape")
    felt.wait_for(lambda s: "Edit record" not in s and felt.records_rows(s), "the list again")


def full_session(db_url: str, size: int, run: int) -> dict[str, int]:
    """Launch the app, walk the whole session, return its peak RSS and thread count."""
    felt.tmux("kill-server")
    command = f"{sys.executable} -m finance_tui --db {db_url}"
    felt.tmux("new-session", "-d", "-s", "felt", "-x", "120", "-y", "40", command)
    try:
        felt.wait_for(lambda s: "Username or email" in s, "the login screen")
        pid = app_pid()
        felt.keys(felt.ADMIN[0], "Tab", felt.ADMIN[1], "Enter")
        felt.wait_for(lambda s: felt.re.search(r"[\d,]+ records", s) is not None, "dashboard")
        felt._records_actions(size, run, felt.Timings({}))
        settle_records(size)
        more_records_actions(size)
        felt.keys("3")
        felt.wait_for(lambda s: "Compare periods" in s, "analytics")
        time.sleep(1.0)  # its figures load in the background
        felt.keys("1")
        felt.wait_for(lambda s: "Compare periods" not in s and "records" in s, "dashboard")
        time.sleep(1.0)
        return proc_status(pid)
    finally:
        felt.tmux("kill-server")


def cell(values: list[float], unit: str = "") -> str:
    return f"{statistics.median(values):.1f}{unit} ({min(values):.1f}–{max(values):.1f})"


def report(results: dict[int, list[dict[str, int]]]) -> None:
    sizes = sorted(results)
    mb = 1024 * 1024
    print("| records | peak RSS, median (min–max) | threads at the end |")
    print("|--:|--:|--:|")
    for size in sizes:
        peaks = [r["peak"] / mb for r in results[size]]
        threads = [float(r["threads"]) for r in results[size]]
        print(f"| {size:,} | {cell(peaks, ' MB')} | {cell(threads)} |")
    small, large = (
        statistics.median(r["peak"] / mb for r in results[s]) for s in (sizes[0], sizes[-1])
    )
    print(
        f"difference {sizes[-1]:,} - {sizes[0]:,}: {large - small:+.1f} MB; ratio {large / small:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "felt")
    parser.add_argument("--prefix", default="felt", help="databases are WORK/PREFIX-SIZE.db")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("bench/memory.py needs tmux (apt-get install tmux)", file=sys.stderr)
        return 2
    felt.SOCKET = f"finance-memory-{os.getpid()}"  # never another bench's tmux server
    sizes = sorted(int(s) for s in args.sizes.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    urls = {size: felt.ensure_database(args.work, size, args.prefix) for size in sizes}
    print(f"load average before: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as home:
        felt.use_launch_environment(home)
        results: dict[int, list[dict[str, int]]] = {size: [] for size in sizes}
        for run in range(1, args.runs + 1):
            for size in sizes if run % 2 else reversed(sizes):
                results[size].append(full_session(urls[size], size, run))
                print(f"run {run} at {size:,}: {results[size][-1]}", file=sys.stderr)
    print(f"load average after: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
