"""Rendering pages: the Jinja2 environment and what every page gets (language, user, CSRF token,
the clock that writes times in the operation's zone with the zone's name).

Filters for templates, in the page's language and zone (:mod:`corridor.server.web.zones`):
``moment|datetime`` (``15 Dec 2016, 14:30 UTC+02:00``; ``zone=false`` without the zone's name),
``moment|time`` (``14:30 UTC+02:00``; ``seconds=true``), ``moment|day``, ``moment|stamp``
(``2016-12-15 14:30 UTC+02:00``), ``value|number`` (``9,000``; ``digits=1``); ``zone_name()`` is the
zone's name alone, for a column heading.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from corridor.server.auth import Actor
from corridor.server.web.i18n import LANG_COOKIE, choose, languages
from corridor.server.web.session import CSRF_COOKIE
from corridor.server.web.zones import Clock, fixed, zone_for

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
    env.globals["zone_name"] = _zone_name
    env.filters["datetime"] = _when
    env.filters["time"] = _time
    env.filters["day"] = _day
    env.filters["stamp"] = _stamp
    env.filters["number"] = _number
    return env


def _clock(context: Context) -> Clock:
    found = context.get("clock")
    return found if isinstance(found, Clock) else Clock("en", fixed(timedelta(0)))


@pass_context
def _zone_name(context: Context) -> str:
    return _clock(context).zone_name()


@pass_context
def _when(context: Context, moment: datetime | None, zone: bool = True) -> str:
    return _clock(context).when(moment, zone=zone)


@pass_context
def _time(context: Context, moment: datetime | None, zone: bool = True, seconds: bool = False) -> str:
    return _clock(context).time(moment, zone=zone, seconds=seconds)


@pass_context
def _day(context: Context, moment: datetime | date | None) -> str:
    return _clock(context).day(moment)


@pass_context
def _stamp(context: Context, moment: datetime) -> str:
    return _clock(context).stamp(moment)


@pass_context
def _number(context: Context, value: float | None, digits: int | None = None) -> str:
    return _clock(context).number(value, digits)


def clock(request: Request, operation: object = None) -> Clock:
    """The clock of a page of ``operation`` for the request's reader: the reader's language, the
    zone of the ``timezone`` setting, else the operation's scenario's UTC offset, else UTC."""
    language = choose(request)
    runtime = getattr(request.app.state, "runtime", None)
    settings = getattr(runtime, "settings", None)
    setting = getattr(settings, "timezone", None)
    folder = getattr(settings, "scenarios_dir", None)
    scenario = getattr(operation, "scenario_name", None)
    zone = zone_for(
        setting if isinstance(setting, str) else None,
        folder if isinstance(folder, Path) else None,
        scenario if isinstance(scenario, str) else None,
    )
    return Clock(language.code, zone, language.rtl)


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
            word=language.word,
            forms=language.forms,
            actor=actor,
            csrf=request.cookies.get(CSRF_COOKIE, ""),
            clock=clock(request, context.get("operation")),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") == language.code:
        response.set_cookie(LANG_COOKIE, language.code, max_age=365 * 86400, samesite="lax", path="/")
    return response
