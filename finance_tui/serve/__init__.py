"""Servers that share the app with a team: one module per way in (README: Serving a team)."""
