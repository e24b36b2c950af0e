"""The command palette offers the current screen's own commands (found by typing, run
with Enter) for exactly what the role may do, and never one it may not."""

from __future__ import annotations

import pytest
from test_tui_support import SIZE, make_app, seed, settle
from textual.command import CommandInput, CommandList, CommandPalette

from screens.import_export import ExportModal
from screens.record_form import RecordForm
from screens.records import RecordsScreen

EVERYONE = {"Clear filters", "Save view", "Saved views"}
RECORD_COMMANDS = {
    "New record",
    "Quick add",
    "Duplicate record",
    "Undo my last change",
    "Trash (deleted records)",
    "Export CSV",
    *EVERYONE,
}
ALLOWED = {
    "viewer": EVERYONE,
    "analyst": EVERYONE | {"Export CSV"},
    "admin": RECORD_COMMANDS,
}


async def _offered(pilot, query: str) -> list[str]:
    """Open the palette, type ``query`` and return the titles it offers (palette open)."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    await settle(pilot, timers=0.3)  # the palette searches in a worker after a debounce
    return _titles(pilot)


async def _searched(pilot, query: str) -> list[str]:
    """Put ``query`` in the open palette's search box in one step (an ``Input.Changed``,
    as typing it would end with) and return the titles the search offers."""
    pilot.app.screen.query_one(CommandInput).value = query
    await settle(pilot)  # the palette searches in a worker: settle waits for it
    return _titles(pilot)


def _titles(pilot) -> list[str]:
    options = pilot.app.screen.query_one(CommandList)
    prompts = [options.get_option_at_index(i).prompt for i in range(options.option_count)]
    return [getattr(p, "plain", str(p)).split("\n")[0] for p in prompts]


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
async def test_records_commands_follow_the_role(sessions, tmp_path, role):
    """Each record command, searched by its whole title in the palette opened on the
    records screen, is offered exactly when the role may use it. The search box is
    filled in one step per title (typing into the palette has the tests below)."""
    seed(3)
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        for title in sorted(RECORD_COMMANDS):
            offered = await _searched(pilot, title)
            assert (title in offered) == (title in ALLOWED[role]), (role, title, offered)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)


@pytest.mark.parametrize(
    ("role", "title", "opens"),
    [("admin", "New record", RecordForm), ("analyst", "Export CSV", ExportModal)],
)
async def test_a_screen_command_runs_from_the_palette(sessions, tmp_path, role, title, opens):
    seed(3)
    app = make_app(tmp_path, sessions[role])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        offered = await _offered(pilot, title)
        assert offered[0] == title
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, opens)


async def test_admin_screen_commands_are_offered_on_their_screen_only(sessions, tmp_path):
    app = make_app(tmp_path, sessions["admin"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert "Users: new user" in await _offered(pilot, "Users: new")
        await pilot.press("escape")
        await pilot.press("2")
        await settle(pilot)
        assert "Users: new user" not in await _offered(pilot, "Users: new")


async def test_the_screen_brings_its_palette_provider_not_the_app(admin, tmp_path):
    """The provider of a screen's commands is declared by the screen (``COMMANDS``), so
    the palette offers them in any app that hosts the screen, and only on it."""
    from test_tui_admin_support import HostApp

    from screens.audit import AuditScreen
    from screens.base import ScreenCommands

    assert ScreenCommands in AuditScreen.COMMANDS
    assert ScreenCommands not in make_app(tmp_path, admin).COMMANDS
    app = HostApp(lambda: AuditScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert await _offered(pilot, "Audit: clear") == ["Audit: clear filters"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)


async def test_palette_commands_are_typed_and_follow_the_role(sessions, tmp_path):
    from screens.base import PaletteCommand

    seed(3)
    for role, allowed in ALLOWED.items():
        app = make_app(tmp_path, sessions[role])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            commands = list(app.screen.palette_commands())
            assert all(isinstance(c, PaletteCommand) and callable(c.callback) for c in commands)
            assert {c.title for c in commands} == allowed
