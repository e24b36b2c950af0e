"""CLI subcommands, one module each (see finance_tui.cli)."""
