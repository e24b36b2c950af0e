"""Peak memory of the TUI browsing to the last record (headless, App.run_test).

    python bench/memory.py --db sqlite:///path.db

Logs in as Demo_viewer, opens the dashboard, then the records screen, jumps to the
last record (End) and waits until that window is shown. Prints ``peak_rss=<bytes>``
(this process's maximum resident set size) and ``records=<total>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VIEWER = ("demo.viewer@gmail.com", "demo@viewer2026")
TIMEOUT = 60.0


async def wait_for(pilot, condition, what: str) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > TIMEOUT:
            raise TimeoutError(f"gave up waiting for {what}")
        await pilot.pause(0.05)


async def browse(url: str) -> int:
    from finance_tui.app import FinanceApp
    from finance_tui.startup import connect

    connect(url)
    with tempfile.TemporaryDirectory() as state:
        app = FinanceApp(url, state_path=Path(state) / "state.json", idle_lock_minutes=0)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            screen.query_one("#login-identifier").value = VIEWER[0]
            screen.query_one("#login-password").value = VIEWER[1]
            screen.query_one("#login-submit").press()
            await wait_for(pilot, lambda: app.session is not None, "login")
            await wait_for(
                pilot, lambda: type(app.screen).__name__ == "DashboardScreen", "dashboard"
            )
            await pilot.pause(1.0)  # let the dashboard load its numbers
            await pilot.press("2")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "RecordsScreen", "records")
            records = app.screen
            await wait_for(pilot, lambda: records.rows and records.counted, "first page and count")
            total = records.total
            records.query_one("#records-table").focus()
            await pilot.press("end")
            await wait_for(
                pilot,
                lambda: records.window_start + len(records.rows) >= total,
                "the last window",
            )
            await pilot.pause(0.5)
            return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    os.environ.setdefault("FINANCE_TUI_BCRYPT_ROUNDS", "4")
    total = asyncio.run(browse(args.db))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(f"records={total}")
    print(f"peak_rss={peak}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
