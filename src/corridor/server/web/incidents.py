"""Incidents: report with photos or files as evidence; the list on a timeline and on the map."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
