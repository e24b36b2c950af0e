"""Allow ``python -m finance_tui``."""

from finance_tui.cli import main

raise SystemExit(main())
