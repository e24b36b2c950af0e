"""Stop Textual keeping every widget's rendered lines alive after the widget is gone.

A workaround for stock Textual (8.2; Textual issue 6665): ``StylesCache`` is the render
cache each widget owns, holding the widget's painted lines (``Strip`` objects, each with
eight small caches of its own). Its method ``get_inner_outer`` is decorated with
``functools.lru_cache(1024)`` although it is an instance method, so the cache's keys
hold ``self``: the last 1,024 ``StylesCache`` objects that painted anything stay alive,
with every line they painted, long after their widgets were removed. In a long session
(dialogs, notifications, the record form opened and closed) that is memory nobody can
use, and every full garbage collection walks it again.

The method's answer depends only on its two colours. :func:`stop_styles_cache_leak`
replaces it with one that caches on the colours alone and computes with Textual's own
body, so what is painted is unchanged and a removed widget's cache is freed with it.

When it can be removed: when ``tests/test_styles_cache_leak.py``'s
``test_stock_textual_keeps_a_styles_cache_alive`` fails after a Textual upgrade (Textual
then no longer holds the caches), delete this module and its call in
``finance_tui/app.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style

# Textual's method as Textual defines it: the canary test calls it to show the leak.
STOCK_GET_INNER_OUTER: Any = StylesCache.__dict__.get("get_inner_outer")
_BODY: Callable[[Any, Color, Color], tuple[Style, Style]] | None = getattr(
    STOCK_GET_INNER_OUTER, "__wrapped__", None
)


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """Textual's inner and outer background styles, cached on the colours only."""
    assert _BODY is not None  # installed only when Textual's body was found
    return _BODY(None, base_background, background)


# A static method: ``self.get_inner_outer(base, background)`` reaches the cache with the
# colours alone, with no wrapper call in the paint path.
_FIXED = staticmethod(_inner_outer)


def stop_styles_cache_leak() -> bool:
    """Install the colour-keyed method; False (nothing changed) where Textual's method
    is no longer the cached instance method this works around."""
    if StylesCache.__dict__.get("get_inner_outer") is _FIXED:
        return True
    if _BODY is None or not hasattr(STOCK_GET_INNER_OUTER, "cache_info"):
        return False
    StylesCache.get_inner_outer = _FIXED  # type: ignore[method-assign, assignment]
    return True
