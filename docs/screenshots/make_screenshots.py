"""Export the README's SVG screenshots from the real app (120×36, demo data, fixed date).

Run from the repository root:  python docs/screenshots/make_screenshots.py
It builds a throw-away demo database, drives the app with Textual's Pilot and writes
login.svg, dashboard.svg, records.svg, record-form.svg and help.svg next to this file.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

os.environ.setdefault("FINANCE_TUI_BCRYPT_ROUNDS", "4")  # demo accounts, fast hashing
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from finance_tui.app import FinanceApp  # noqa: E402
from finance_tui.demo import create_demo  # noqa: E402
from finance_tui.session import SessionController  # noqa: E402
from finance_tui.startup import connect  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (120, 36)
TODAY = date(2026, 11, 25)


async def idle(pilot, seconds: float = 0.3) -> None:
    await pilot.pause(seconds)
    for _ in range(50):
        running = [w for w in pilot.app.workers if not w.is_finished]
        if not running:
            break
        await pilot.app.workers.wait_for_complete(running)
        await pilot.pause()
    await pilot.pause()


def app_for(state: Path, session: SessionController | None = None) -> FinanceApp:
    return FinanceApp(
        session=session,
        today=TODAY,
        idle_lock_minutes=0,
        refresh_seconds=0,
        state_path=state,
        db_label="~/.local/share/finance-tui/demo.db",
    )


async def shoot(state: Path) -> None:
    app = app_for(state)
    async with app.run_test(size=SIZE) as pilot:
        await idle(pilot)
        await pilot.press(*"Demo_admin", "enter")
        await idle(pilot)
        app.save_screenshot("login.svg", str(OUT))

    admin = SessionController.login("demo.admin@gmail.com", "demo@admin2026")
    app = app_for(state, admin)
    async with app.run_test(size=SIZE) as pilot:
        await idle(pilot)
        app.save_screenshot("dashboard.svg", str(OUT))
        await pilot.press("2")
        await idle(pilot)
        app.save_screenshot("records.svg", str(OUT))
        await pilot.press("n")
        await idle(pilot)
        await pilot.press("e", "enter", *"12.50", "enter", *"fo", "enter", "enter", *"lunch")
        await idle(pilot)
        app.save_screenshot("record-form.svg", str(OUT))
        await pilot.press("escape")
        await idle(pilot)
        await pilot.press("f1")
        await idle(pilot)
        app.save_screenshot("help.svg", str(OUT))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        connect(f"sqlite:///{tmp}/demo.db")
        create_demo(3000, today=TODAY)
        asyncio.run(shoot(Path(tmp) / "tui.json"))
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
