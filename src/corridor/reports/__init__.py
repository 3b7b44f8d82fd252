"""Figures, maps and summaries of plans."""
