"""Every style lives in ``styles/*.tcss`` and is attached one way: a ``CSS_PATH``
relative to the module (the app's for shared styles, each screen's for its own)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from textual.app import App
from textual.screen import Screen

import screens
from finance_tui.app import FinanceApp

REPO = Path(__file__).resolve().parent.parent
STYLES = REPO / "styles"
SOURCES = sorted([*(REPO / "screens").glob("*.py"), *(REPO / "finance_tui").rglob("*.py")])


def attached(cls: type) -> set[Path]:
    """The stylesheets ``cls`` declares, resolved the way Textual resolves them."""
    paths = cls.__dict__.get("CSS_PATH")
    if paths is None:
        return set()
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    base = Path(inspect.getfile(cls)).parent
    return {(base / path).resolve() for path in paths}


def styled_classes() -> list[type]:
    """The app and every screen class defined in the ``screens`` package."""
    classes: list[type] = [FinanceApp]
    for info in pkgutil.iter_modules(screens.__path__):
        module = importlib.import_module(f"screens.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, Screen | App):
                classes.append(cls)
    return classes


def test_no_style_is_attached_another_way():
    offenders = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\bDEFAULT_CSS\b", r"\bCSS\s*=", r"/\s*[\"']styles[\"']"):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(REPO)}: {pattern}")
    assert offenders == []


def test_every_css_path_is_a_relative_string_to_an_existing_stylesheet():
    for cls in styled_classes():
        paths = cls.__dict__.get("CSS_PATH")
        if paths is None:
            continue
        for path in [paths] if isinstance(paths, str) else paths:
            assert isinstance(path, str) and path.startswith("../styles/"), (cls, path)
        for resolved in attached(cls):
            assert resolved.parent == STYLES and resolved.is_file(), (cls, resolved)


def test_every_stylesheet_is_attached_and_shared_ones_only_by_the_app():
    declared: list[Path] = []
    for cls in styled_classes():
        declared.extend(attached(cls))
    shared_by_two_screens = {STYLES / "account.tcss", STYLES / "import_export.tcss"}
    once = [path for path in declared if path not in shared_by_two_screens]
    assert sorted(set(declared)) == sorted(STYLES.glob("*.tcss"))
    assert len(once) == len(set(once)), sorted(p.name for p in once)


def test_screen_stylesheets_are_not_loaded_until_the_screen_is():
    """Shared styles come with the app, a screen's own with the screen."""
    assert attached(FinanceApp) == {
        STYLES / "app.tcss",
        STYLES / "widgets.tcss",
        STYLES / "form.tcss",
    }
