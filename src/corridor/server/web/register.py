"""Registration: a household in a few keystrokes, duplicate warnings inline, wristbands with QR codes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
