"""The Textual shell's own parts: the only package under ``finance_tui/`` that, besides
``finance_tui/app.py``, imports Textual. The core stays usable without a terminal."""
