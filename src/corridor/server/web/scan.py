"""Checkpoint scanning: one field, a loud answer per scan, an offline queue in the browser."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
