"""The operation's map: roads, points, hazards and closures, planned routes, vehicles, incidents."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
