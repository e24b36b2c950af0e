"""What ships and what is documented: the wheel's contents, the README's promises, CI."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from finance_tui import cli

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
SHIPPED = ("finance_tui", "screens", "styles")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """Build the wheel from a copy of the sources (no build/ litter in the checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in SHIPPED:
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("finance_tui-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_every_package_and_module(wheel):
    names = set(wheel.namelist())
    expected = {
        path.relative_to(REPO).as_posix()
        for package in SHIPPED
        for path in (REPO / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_wheel_holds_the_stylesheets(wheel):
    stylesheets = {p.relative_to(REPO).as_posix() for p in (REPO / "styles").glob("*.tcss")}
    names = set(wheel.namelist())
    assert stylesheets <= names, sorted(stylesheets - names)


def test_wheel_declares_the_console_script(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert re.search(r"^finance-tui\s*=\s*finance_tui\.cli:main\s*$", text, re.M), text


def test_quick_start_has_the_two_commands_ci_runs():
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section("Quick start"), re.M | re.S)
    commands = [b.strip() for b in blocks]
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    demo, tests = commands
    assert "pip install ." in demo and "finance-tui demo --db demo.db" in demo
    assert demo.endswith("finance-tui --db demo.db")
    assert "pip install -e '.[test]'" in tests and "pytest" in tests
    for which, command in (("demo", demo), ("test", tests)):
        helper = subprocess.run(
            [sys.executable, str(REPO / ".ci" / "readme_command.py"), which],
            capture_output=True,
            text=True,
            check=True,
        )
        assert helper.stdout.strip() == command


def test_ci_entry_point_is_executable_and_runs_the_readme_command():
    run = REPO / ".ci" / "run"
    assert os.access(run, os.X_OK)
    text = run.read_text()
    assert 'readme_command.py" test' in text
    assert "ruff check" in text and "ruff format --check" in text
    assert '.ci/with-postgres" pytest' in text
    with_postgres = REPO / ".ci" / "with-postgres"
    assert os.access(with_postgres, os.X_OK)
    assert "export FINANCE_TUI_TEST_DATABASE_URL=" in with_postgres.read_text()


def test_every_setting_is_documented():
    config = (REPO / "finance_tui" / "config.py").read_text()
    names = set(re.findall(r'_env(?:_int)?\(\s*"([A-Z_]+)"', config))
    assert {"DATABASE_URL", "SECRET_KEY", "BCRYPT_ROUNDS"} <= names
    documented = section("Configuration")
    missing = [n for n in sorted(names) if f"FINANCE_TUI_{n}" not in documented]
    assert not missing


def test_every_command_is_documented():
    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    documented = section("Command line")
    missing = [name for name in commands.choices if f"finance-tui {name}" not in documented]
    assert not missing
    (user,) = [
        a for a in commands.choices["user"]._actions if isinstance(a, argparse._SubParsersAction)
    ]
    missing = [name for name in user.choices if f"finance-tui user {name}" not in documented]
    assert not missing


def test_readme_sections_are_present_and_filled():
    for title in (
        "Quick start",
        "User guide",
        "Configuration",
        "Command line",
        "Architecture",
        "Benchmarks",
        "Development",
    ):
        body = section(title).strip()
        assert len(body) > 40, f"section {title!r} is empty"
        assert "TODO" not in body and "TBD" not in body


IMPORT_NAMES = {"pyjwt": "jwt"}  # distribution name -> module name, where they differ


def test_every_runtime_dependency_is_imported():
    """A declared dependency nothing imports only costs installs (textual-plotext was one)."""
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.match(r"[A-Za-z0-9_.-]+", spec).group(0).lower() for spec in declared]
    code = "\n".join(
        p.read_text(encoding="utf-8") for pkg in SHIPPED for p in (REPO / pkg).rglob("*.py")
    )
    unused = [
        name
        for name in names
        if not re.search(
            rf"^\s*(import|from) {re.escape(IMPORT_NAMES.get(name, name).replace('-', '_'))}\b",
            code,
            re.M,
        )
    ]
    assert unused == []
