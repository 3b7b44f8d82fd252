"""The site's icon: one SVG, served where browsers look for it (``/favicon.ico``) and linked from
every page, so that no browser asks in vain and logs a 404 on every page."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from corridor.server.web.assets import OWN

router = APIRouter(include_in_schema=False)
ICON = OWN / "favicon.svg"


@cache
def _icon() -> bytes:
    return ICON.read_bytes()


@router.get("/favicon.ico")
def favicon() -> Response:
    """The SVG icon (browsers read the type from the answer, not from the name)."""
    return Response(_icon(), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
