"""Every style lives in ``styles/*.tcss`` and is attached one way: a ``CSS_PATH``
relative to the module (the app's for the app and its login screen, each later screen's
for the shared sheets and its own)."""

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
from screens.base import FinanceModal, FinanceScreen
from screens.login import LoginScreen
from screens.screen_open import OpenOnceScreen

REPO = Path(__file__).resolve().parent.parent
STYLES = REPO / "styles"
SHARED = {STYLES / "widgets.tcss", STYLES / "form.tcss"}
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


def test_every_stylesheet_is_attached_and_each_own_sheet_by_one_class():
    """The shared sheets (``SHARED_STYLES``) are listed by every screen after the login;
    any other sheet is one screen's own (two dialogs share their screen's)."""
    declared: list[Path] = []
    for cls in styled_classes():
        declared.extend(attached(cls) - SHARED)
    shared_by_two_screens = {STYLES / "account.tcss", STYLES / "import_export.tcss"}
    once = [path for path in declared if path not in shared_by_two_screens]
    assert sorted(set(declared) | SHARED) == sorted(STYLES.glob("*.tcss"))
    assert len(once) == len(set(once)), sorted(p.name for p in once)


def test_the_first_frame_loads_only_the_app_and_login_stylesheets():
    """Textual parses every loaded sheet again whenever a screen brings a new one: the
    app's own sheets are the login screen's, and the login brings none of its own."""
    assert attached(FinanceApp) == {STYLES / "app.tcss", STYLES / "login.tcss"}
    assert resolved_css_path(LoginScreen) == []


def test_every_screen_after_the_login_brings_the_shared_stylesheets_first():
    """A screen's own sheet comes after the shared ones, so it may override them."""
    for cls in styled_classes():
        if cls in (FinanceApp, LoginScreen, OpenOnceScreen):  # the last: FinanceScreen's base
            continue
        assert issubclass(cls, FinanceScreen | FinanceModal), cls
        assert resolved_css_path(cls)[:2] == [STYLES / "widgets.tcss", STYLES / "form.tcss"], cls


def resolved_css_path(cls: type) -> list[Path]:
    """What Textual loads for ``cls`` (inherited ``CSS_PATH`` included), in order."""
    paths = getattr(cls, "CSS_PATH", None) or []
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    base = Path(inspect.getfile(cls)).parent
    return [(base / path).resolve() for path in paths]
