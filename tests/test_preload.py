"""A running session keeps the code it started with when the package is upgraded under
it: after the first frame the app loads every module of its own in the background."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from finance_tui.preload import module_names, preload

# Runs in a fresh interpreter, where no screen module beyond the first one is loaded yet.
# After start-up it makes every not-yet-loaded module of the app unimportable, as a
# `pip install` that removed or renamed modules would, then opens help with `?`.
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import date
    from pathlib import Path

    from finance_tui.startup import connect
    from finance_tui.services.users import bootstrap_admin
    from finance_tui.session import SessionController
    from finance_tui.app import FinanceApp

    tmp, preload_on = Path(sys.argv[1]), sys.argv[2] == "on"
    connect(f"sqlite:///{tmp / 'finance.db'}")
    bootstrap_admin("root", "root@example.com", "correct-horse-1")
    session = SessionController.login("root", "correct-horse-1")

    class Upgraded:
        "A finder that stands for files replaced on disk: new imports fail."
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.split(".")[0] in ("screens", "finance_tui") and name not in sys.modules:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    if not preload_on:
        FinanceApp._preload_modules = lambda self: None

    async def main():
        app = FinanceApp(session=session, today=date(2026, 11, 25), idle_lock_minutes=0,
                         state_path=tmp / "state.json", refresh_seconds=0, db_label="t.db")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            print("help loaded before upgrade:", "screens.help" in sys.modules)
            sys.meta_path.insert(0, Upgraded)
            await pilot.press("question_mark")
            await pilot.pause()
            print("screen after ?:", type(app.screen).__name__)

    asyncio.run(main())
    """
)


def _run(tmp_path: Path, preload_on: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), preload_on],
        capture_output=True,
        text=True,
        timeout=120,
        env={"FINANCE_TUI_BCRYPT_ROUNDS": "4", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


def test_help_opens_after_an_upgrade_removed_its_module(tmp_path):
    done = _run(tmp_path, "on")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "help loaded before upgrade: True" in done.stdout
    assert "screen after ?: HelpScreen" in done.stdout


def test_without_preloading_the_same_upgrade_breaks_help(tmp_path):
    """The stock behaviour the preloading exists for: a lazy import after the upgrade."""
    done = _run(tmp_path, "off")
    assert "help loaded before upgrade: False" in done.stdout
    assert "screen after ?: HelpScreen" not in done.stdout
    assert "ModuleNotFoundError" in done.stderr


def test_module_names_cover_every_screen_and_service():
    names = set(module_names())
    assert {"screens.help", "screens.record_form", "finance_tui.services.csv_import"} <= names
    assert "finance_tui.__main__" not in names  # importing it would run the CLI


def test_module_names_leave_out_the_servers():
    """An app process never runs a server; their libraries would cost each one ~15 MB."""
    names = set(module_names())
    assert "finance_tui.serve.web" not in names
    assert {"finance_tui.commands.serve", "finance_tui.commands.serve_web"} <= names


def test_a_module_that_fails_to_import_is_reported_not_raised(tmp_path, monkeypatch):
    package = tmp_path / "brokenpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text("VALUE = 1\n")
    (package / "bad.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert preload(["brokenpkg"]) == ["brokenpkg.bad"]
    assert sys.modules["brokenpkg.good"].VALUE == 1
    for name in ("brokenpkg", "brokenpkg.good"):
        sys.modules.pop(name, None)
