"""Servers that share the app with a team (``finance-tui serve ...``), one module each."""
