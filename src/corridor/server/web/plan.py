"""The published plan: departures per gathering point and vehicle, and what changed between versions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
