"""The test plumbing itself: how ``pytest -n auto`` (the README's command) is spread."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import conftest


def test_auto_starts_two_workers_per_cpu(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    cpus = len(os.sched_getaffinity(0))
    assert conftest.pytest_xdist_auto_num_workers(config=None) == 2 * cpus


def test_auto_defers_to_the_environment_override(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "3")
    assert conftest.pytest_xdist_auto_num_workers(config=None) is None  # xdist reads it


def test_worksteal_is_the_default_distribution():
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    options = tomllib.loads(pyproject.read_text())["tool"]["pytest"]["ini_options"]
    assert options["addopts"].split() == ["-q", "--dist", "worksteal"]
