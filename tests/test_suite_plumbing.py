"""The test plumbing itself: how ``pytest -n auto`` (the README's command) is spread."""

from __future__ import annotations

import tomllib
from pathlib import Path


def test_worksteal_is_the_default_distribution():
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    options = tomllib.loads(pyproject.read_text())["tool"]["pytest"]["ini_options"]
    assert options["addopts"].split() == ["-q", "--dist", "worksteal"]


def test_auto_runs_three_workers_for_every_two_cpus():
    from conftest import auto_workers

    assert [auto_workers(n) for n in (1, 2, 4, 8)] == [2, 3, 6, 12]


def test_the_auto_hook_counts_this_machines_cpus_unless_told(monkeypatch):
    import os

    from conftest import auto_workers, pytest_xdist_auto_num_workers, usable_cpus

    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    assert usable_cpus() == len(os.sched_getaffinity(0))  # Linux, as on CI
    assert pytest_xdist_auto_num_workers(None) == auto_workers(usable_cpus())
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "7")
    assert pytest_xdist_auto_num_workers(None) is None  # xdist then reads the 7 itself
