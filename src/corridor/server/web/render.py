"""Rendering pages: the Jinja2 environment and what every page gets (language, user, CSRF token)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from corridor.server.auth import Actor
from corridor.server.web.i18n import LANG_COOKIE, choose, languages
from corridor.server.web.session import CSRF_COOKIE

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["languages"] = languages
    return env


def page(
    request: Request,
    template: str,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` in the request's language; remember an explicitly chosen language."""
    language = choose(request)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            lang=language,
            t=language.text,
            actor=actor,
            csrf=request.cookies.get(CSRF_COOKIE, ""),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") == language.code:
        response.set_cookie(LANG_COOKIE, language.code, max_age=365 * 86400, samesite="lax", path="/")
    return response
