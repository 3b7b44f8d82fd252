"""Identifiers the server makes."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A random 32-character hex id (no meaning, no order)."""
    return uuid.uuid4().hex
