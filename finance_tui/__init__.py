"""finance-tui: a keyboard-driven terminal app for a team's shared financial records."""

__version__ = "0.1.0"
