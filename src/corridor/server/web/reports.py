"""Reports: the situation report (page and PDF) and exports as HXL-tagged CSV and GeoJSON."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
