"""Reports: the situation report (page and PDF) and exports as HXL-tagged CSV and GeoJSON.

The sitrep is made of counts only (observers read it); its figures are the reconciliation's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from corridor.reports.curves import Series, clearance_svg, cumulative
from corridor.reports.sitrep import Sitrep, gaps, highlights, isolating, key_figures, overview, stamp
from corridor.reports.sitrep_pdf import FontMissingError, sitrep_pdf
from corridor.server.auth import Actor, allowed
from corridor.server.columns import utc_now
from corridor.server.deps import RuntimeDep, permit
from corridor.server.exports import service as exports
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.runtime import Runtime
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)

# The downloads the sitrep page offers: (message key, file under the exports API, permission).
DOWNLOADS = [
    ("sitrep.dl_counts", "counts.hxl.csv", "counts.read"),
    ("sitrep.dl_geojson", "operation.geojson", "counts.read"),
    ("sitrep.dl_people", "people.hxl.csv", "exports.people"),
    ("sitrep.dl_events", "events.hxl.csv", "exports.events"),
    ("sitrep.dl_incidents", "incidents.hxl.csv", "exports.incidents"),
]


def _sitrep(runtime: Runtime, operation_id: str) -> tuple[Operation, Sitrep]:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        sitrep = exports.sitrep_of(
            session,
            runtime.counts,
            operation=operation,
            now=utc_now(),
            grace_minutes=runtime.settings.grace_minutes,
        )
    return operation, sitrep


@router.get("/operations/{operation_id}/sitrep")
def sitrep_page(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("counts.read")],
) -> HTMLResponse:
    operation, sitrep = _sitrep(runtime, operation_id)
    language = choose(request)
    text = isolating(language.text) if language.direction == "rtl" else language.text
    curve = clearance_svg(
        [Series(text("sitrep.fig_arrived"), cumulative(list(sitrep.arrivals)), "reality")],
        start=sitrep.period_start,
        end=sitrep.curve_until,
        total=sitrep.people_total,
        title=text("sitrep.curve_title"),
    )
    downloads: list[dict[str, Any]] = [
        {"label": key, "href": f"/api/operations/{operation_id}/exports/{name}"}
        for key, name, action in DOWNLOADS
        if allowed(actor, action, operation_id)
    ]
    return page(
        request,
        "sitrep.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation_id),
        sitrep=sitrep,
        period=text("sitrep.period", start=stamp(sitrep.period_start), end=stamp(sitrep.period_end)),
        next_report=text("sitrep.next_report_at", time=stamp(sitrep.next_report)),
        highlights=highlights(sitrep, text),
        figures=key_figures(sitrep, text),
        overview=overview(sitrep, text),
        gaps=gaps(sitrep, text),
        curve=curve,
        downloads=downloads,
    )


@router.get("/operations/{operation_id}/sitrep.pdf", response_model=None)
def sitrep_download(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("counts.read")],
) -> Response:
    """The sitrep as a PDF in the reader's language. Without the font on the server: a 503 page
    that says to install it."""
    operation, sitrep = _sitrep(runtime, operation_id)
    language = choose(request)
    try:
        data = sitrep_pdf(sitrep, language.text, rtl=language.direction == "rtl")
    except FontMissingError as error:
        return page(
            request,
            "error.html",
            actor=actor,
            status_code=503,
            operation=operation,
            nav=menu(actor, operation_id),
            message=error.message,
            hint=error.hint,
        )
    name = f"sitrep-{sitrep.period_end:%Y%m%d-%H%M}-{language.code}.pdf"
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
