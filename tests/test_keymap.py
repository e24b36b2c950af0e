"""Key remapping from a TOML file: applied at start, shown in help, and a bad file or
line is a clear message that keeps the default keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import SIZE, make_app, settle

from finance_tui.keymap import key_problem, keymap_path, load_keymap
from screens.dashboard import DashboardScreen
from screens.help import HelpScreen
from screens.records import RecordsScreen


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keymap.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_no_changes(tmp_path):
    keymap = load_keymap(tmp_path / "absent.toml")
    assert keymap.bindings == {} and keymap.problems == []


def test_a_valid_file_is_read(tmp_path):
    path = _write(tmp_path, '[keymap]\n"app.help" = "f2, ctrl+h"\n"app.goto-records" = "r"\n')
    keymap = load_keymap(path, known_ids={"app.help", "app.goto-records"})
    assert keymap.bindings == {"app.help": "f2,ctrl+h", "app.goto-records": "r"}
    assert keymap.problems == []


def test_bad_lines_are_reported_and_the_good_ones_kept(tmp_path):
    path = _write(
        tmp_path,
        '[keymap]\n"app.help" = "f2"\n"app.lock" = "ctrl+"\n"app.theme" = 3\n"nope" = "x"\n',
    )
    keymap = load_keymap(path, known_ids={"app.help", "app.lock", "app.theme"})
    assert keymap.bindings == {"app.help": "f2"}
    assert len(keymap.problems) == 3
    assert any("app.lock: 'ctrl+' is not a key" in p for p in keymap.problems)
    assert any("app.theme: must be a string of keys" in p for p in keymap.problems)
    assert any("nope: no such binding" in p for p in keymap.problems)


def test_a_file_that_is_not_toml_keeps_every_default(tmp_path):
    keymap = load_keymap(_write(tmp_path, "[keymap\n"))
    assert keymap.bindings == {}
    assert len(keymap.problems) == 1 and "not valid TOML" in keymap.problems[0]
    assert "default keys in use" in keymap.problems[0]


@pytest.mark.parametrize("keys", ["n", "ctrl+n", "f2", "shift+tab", "ctrl+shift+x", "?"])
def test_keys_accepted(keys):
    assert key_problem(keys) is None


@pytest.mark.parametrize("keys", ["", "ctrl+", "two words", "a,,b", "ctrl+ n"])
def test_keys_refused(keys):
    assert key_problem(keys) is not None


def test_the_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FINANCE_TUI_KEYMAP", str(tmp_path / "k.toml"))
    assert keymap_path() == tmp_path / "k.toml"
    monkeypatch.delenv("FINANCE_TUI_KEYMAP")
    assert keymap_path().name == "keymap.toml"


async def test_the_app_uses_remapped_keys_and_help_shows_them(admin, tmp_path, monkeypatch):
    path = _write(tmp_path, '[keymap]\n"app.help" = "f2"\n"app.goto-records" = "r"\n')
    monkeypatch.setenv("FINANCE_TUI_KEYMAP", str(path))
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = {binding_id: key for key, _, binding_id in app.screen.rows}
        assert rows["app.goto-records"] == "r"
        assert rows["app.help"] == "f2"
        assert not app._notifications  # a good file says nothing


async def test_a_bad_entry_is_a_message_and_the_defaults_stay(admin, tmp_path, monkeypatch):
    path = _write(tmp_path, '[keymap]\n"app.help" = "ctrl+"\n"records.nonsense" = "z"\n')
    monkeypatch.setenv("FINANCE_TUI_KEYMAP", str(path))
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("app.help: 'ctrl+' is not a key" in m for m in messages), messages
        assert any("records.nonsense: no such binding" in m for m in messages), messages
        await pilot.press("question_mark")  # the default key still opens help
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


def test_every_binding_has_an_id():
    """The keymap names bindings by id: one without an id could not be remapped."""
    import sys

    from textual.binding import Binding
    from textual.dom import DOMNode

    from finance_tui.app import FinanceApp, all_binding_ids
    from finance_tui.preload import preload

    assert preload(["screens"]) == []
    missing = []
    for name, module in list(sys.modules.items()):
        if name.startswith("screens.") and module is not None:
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, DOMNode)
                    and value.__module__ == name  # declared here, not imported
                ):
                    bindings = value.__dict__.get("BINDINGS", ())
                    missing += [f"{value.__name__}: {b.key}" for b in bindings if not b.id]
    missing += [b.key for b in FinanceApp.BINDINGS if isinstance(b, Binding) and not b.id]
    assert missing == []
    assert {"records.new", "record-form.save", "app.help"} <= all_binding_ids()


async def test_a_screen_binding_is_remapped(admin, tmp_path, monkeypatch):
    from test_tui_support import seed

    from screens.record_form import RecordForm

    seed(3)
    path = _write(tmp_path, '[keymap]\n"records.new" = "a"\n')
    monkeypatch.setenv("FINANCE_TUI_KEYMAP", str(path))
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")  # the default key no longer opens the form
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, RecordForm)
