"""Shared vocabulary: errors, findings, units and the time axis."""
