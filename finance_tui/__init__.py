"""finance-tui: a keyboard-driven terminal app for a team's shared financial records."""

__version__ = "0.1.0"

from finance_tui import _lazy_driver  # noqa: E402, F401  (fast start: psycopg loads on demand)
