"""Import the rest of the program in the background, once the first screen is up.

On a shared server an admin may upgrade the package while people are logged in. A
module imported lazily after that would come from the new version, which may not fit
the old modules already loaded (a screen renamed or moved: ``ModuleNotFoundError``).
Loading every module of the app shortly after start keeps a session on the code it
started with, while start-up itself still imports only what the first frame needs.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable

PACKAGES = ("screens", "finance_tui")
SKIPPED = frozenset({"finance_tui.__main__"})  # runs the CLI when imported
# The servers (``finance-tui serve``) run in a process of their own, never inside a
# session: preloading them would cost every app process their network libraries
# (aiohttp: ~15 MB and a second of CPU), which a server with 32 sessions pays 32 times.
SKIPPED_PACKAGES = ("finance_tui.serve.",)


def module_names(packages: Iterable[str] = PACKAGES) -> list[str]:
    """Every module of ``packages`` (subpackages included), in a stable order."""
    names: list[str] = []
    for package_name in packages:
        package = importlib.import_module(package_name)
        names.append(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name not in SKIPPED and not info.name.startswith(SKIPPED_PACKAGES):
                names.append(info.name)
    return names


def preload(packages: Iterable[str] = PACKAGES) -> list[str]:
    """Import every module not loaded yet; returns the modules that failed to import.

    A failure is reported, not raised: a module that cannot load now would fail the
    same way when the user first needs it, and the session goes on without it.
    """
    failed: list[str] = []
    for name in module_names(packages):
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # any import error: keep loading the others
            failed.append(name)
    return failed
