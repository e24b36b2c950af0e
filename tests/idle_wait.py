"""Shorter idle polls for the pilot, so a test waits for the app, not for the clock.

``Pilot.press`` and ``Pilot.pause`` wait until the app is idle with Textual's
``wait_for_idle``: it sleeps in slices of ``SLEEP_GRANULARITY`` (20 ms) and stops after
the first slice in which the process used less than ``SLEEP_IDLE`` of CPU (1 ms, a
twentieth). Every key costs at least two slices and every ``settle`` two more, so a test
that presses 40 keys sleeps for more than 3 s while its app has long been idle. In one
process, with nothing else running, ``tests/test_tui_records.py`` and
``tests/test_tui_dashboard.py`` took 121 s with 74 s of CPU; with 5 ms slices they took
94 s with 72 s of CPU.

As sharp as before: the test for idleness is the same (less than a twentieth of a slice
of CPU in a whole slice, in the whole process, database threads included), and
``settle`` still waits until no worker runs. Only the clock it is read on is finer.
"""

from __future__ import annotations

import textual._wait

STOCK_SLICE = 1 / 50  # Textual 8.2's SLEEP_GRANULARITY: what this module assumes
SLICE = 0.005


def quicken_idle_waits() -> None:
    """Poll for idleness every 5 ms instead of every 20 ms (idempotent)."""
    textual._wait.SLEEP_GRANULARITY = SLICE
    textual._wait.SLEEP_IDLE = SLICE / 20
