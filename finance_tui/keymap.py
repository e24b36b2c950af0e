"""The user's key remapping: a TOML file of ``binding-id = "keys"`` lines.

Every key binding of the app has an id (``records.new``, ``app.help``, …); the file
``keymap.toml`` in the user's config directory (``~/.config/finance-tui/`` on Linux, or
the file named by ``FINANCE_TUI_KEYMAP``) maps ids to other keys, the way Posting and
Harlequin let people remap theirs::

    [keymap]
    "records.new" = "a"
    "app.help" = "f1,ctrl+h"

A bad file or a bad line never stops the app: each problem becomes one clear message
and the defaults stay in force for what it concerns. This module knows nothing of
Textual; the app shell checks the ids against its bindings and applies the result.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from finance_tui.config import APP_NAME, ENV_PREFIX

KEYMAP_FILE = "keymap.toml"
# A key is a Textual key name ("f5", "question_mark", "pageup") or one printable
# character, with optional modifiers ("ctrl+shift+x").
_KEY_RE = re.compile(r"^((ctrl|alt|shift|meta|super|hyper)\+)*([a-z][a-z0-9_]*|[^\s,+])$")


@dataclass
class Keymap:
    """What a keymap file asks for, and the problems found in it (one line each)."""

    bindings: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def keymap_path() -> Path:
    configured = os.environ.get(ENV_PREFIX + "KEYMAP")
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / KEYMAP_FILE


def key_problem(keys: object) -> str | None:
    """Why ``keys`` is not a comma-separated list of keys, or None."""
    if not isinstance(keys, str) or not keys.strip():
        return 'must be a string of keys such as "ctrl+n" or "f2,ctrl+e"'
    for key in keys.split(","):
        if not _KEY_RE.match(key.strip()):
            return f"{key.strip()!r} is not a key (examples: n, ctrl+n, f2, shift+tab)"
    return None


def load_keymap(path: Path | None = None, known_ids: Iterable[str] | None = None) -> Keymap:
    """Read the keymap file (absent: no changes). ``known_ids`` rejects unknown ids."""
    path = path or keymap_path()
    result = Keymap()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return result  # the usual case: no TOML parser loaded before the first frame
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(f"keymap {path}: cannot read it ({exc}); default keys in use")
        return result
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        result.problems.append(f"keymap {path}: not valid TOML ({exc}); default keys in use")
        return result
    table = data.get("keymap", {})
    if not isinstance(table, dict):
        result.problems.append(f'keymap {path}: [keymap] must be a table of id = "keys"')
        return result
    unknown_keys = sorted(set(data) - {"keymap"})
    if unknown_keys:
        result.problems.append(f"keymap {path}: unknown section(s) {', '.join(unknown_keys)}")
    known = set(known_ids) if known_ids is not None else None
    for binding_id, keys in table.items():
        problem = key_problem(keys)
        if known is not None and binding_id not in known:
            problem = "no such binding (the ids are listed in help, F1)"
        if problem:
            result.problems.append(f"keymap {path}: {binding_id}: {problem}; default kept")
            continue
        result.bindings[binding_id] = ",".join(k.strip() for k in keys.split(","))
    return result
