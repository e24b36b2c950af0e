"""One parse of each style sheet per test process, instead of one per app.

Every test starts a new app, and every app parses every sheet it loads: its own, each
screen's, and the ``DEFAULT_CSS`` of every Textual widget. That is about a tenth of a
pilot test's CPU. Textual keeps parsed rules per ``Stylesheet`` only, and throws them
away whenever a screen brings a new sheet (``Stylesheet.reparse`` starts a fresh
stylesheet). Here the parsed rules are kept for the whole process, keyed by everything
the parse depends on: the text, where it came from, its flags and the theme's variables.

As sharp as before: each sheet is still parsed by the real parser at least once per
worker, a sheet with an error still fails the app that loads it (the cached rules keep
their errors, and ``Stylesheet.parse`` raises on them), and a parse that raises is not
cached.
"""

from __future__ import annotations

from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

_parse_rules = Stylesheet._parse_rules
_parsed: dict[tuple[object, ...], list[RuleSet]] = {}


def _parse_rules_once(
    self: Stylesheet,
    css: str,
    read_from: tuple[str, str],
    is_default_rules: bool = False,
    tie_breaker: int = 0,
    scope: str = "",
) -> list[RuleSet]:
    key = (css, read_from, is_default_rules, tie_breaker, scope, *sorted(self._variables.items()))
    rules = _parsed.get(key)
    if rules is None:
        rules = _parsed[key] = _parse_rules(
            self, css, read_from, is_default_rules, tie_breaker, scope
        )
    return rules


def share_parsed_css() -> None:
    """Share parsed rules between the apps of this process (idempotent)."""
    Stylesheet._parse_rules = _parse_rules_once  # type: ignore[method-assign]
