"""The test plumbing itself: how ``pytest -n auto`` (the README's command) is spread."""

from __future__ import annotations

import tomllib
from pathlib import Path


def test_worksteal_is_the_default_distribution():
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    options = tomllib.loads(pyproject.read_text())["tool"]["pytest"]["ini_options"]
    assert options["addopts"].split() == ["-q", "--dist", "worksteal"]
