"""Each user's colour theme, remembered in the terminal's state file.

The file belongs to the operating-system account, and on a shared server (``serve
ssh``, ``serve web``) every person runs under the server's one account. So a theme is
kept per finance-tui user, never as one value for the file: one person's choice must
not repaint another person's terminal. Written whole and then renamed into place, so
sessions saving at the same moment never leave a torn file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class ThemeStore:
    def __init__(self, path: Path):
        self.path = path

    def theme_of(self, user_id: object) -> str | None:
        themes = self._read().get("themes")
        theme = themes.get(str(user_id)) if isinstance(themes, dict) else None
        return theme if isinstance(theme, str) else None

    def remember(self, user_id: object, theme: str) -> None:
        """Raises OSError when the file cannot be written (the caller tells the user)."""
        state = self._read()
        themes = state.get("themes")
        if not isinstance(themes, dict):
            themes = state["themes"] = {}
        themes[str(user_id)] = theme
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tui-state-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(state, out, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}
