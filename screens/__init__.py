"""Textual screens and the widgets they share (one screen per file)."""
