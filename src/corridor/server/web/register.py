"""Registration: a household in a few keystrokes, duplicate warnings inline, wristbands with QR codes.

The form has one row per person; its fields are named ``p-<row>-<field>`` so that an error can be
put back next to the field it belongs to, with everything typed left in place. Registering calls
the same service as ``POST /api/operations/{id}/households``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args

import segno
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.datastructures import FormData
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.ops.route import PointKind
from corridor.server.auth import Actor, allowed
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service as operations
from corridor.server.registration import service
from corridor.server.registration.schemas import AgeBand, HouseholdIn, PersonOut, Sex, Vulnerability
from corridor.server.registration.tables import Household
from corridor.server.runtime import Runtime
from corridor.server.web.i18n import choose
from corridor.server.web.nav import menu
from corridor.server.web.render import page

router = APIRouter(include_in_schema=False)
WRITE = "households.write"
SEXES: tuple[str, ...] = get_args(Sex)
AGE_BANDS: tuple[str, ...] = get_args(AgeBand)
VULNERABILITIES: tuple[str, ...] = get_args(Vulnerability)
Text = Callable[..., str]
_FIELD = re.compile(r"^p-(\d{1,4})-(name|sex|age_band|vuln|wristband)$")
# The id a phone gives a form in its offline queue (crypto.randomUUID()).
CLIENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Row:
    """One person's row of the form, as typed."""

    index: int
    name: str = ""
    sex: str = ""
    age_band: str = ""
    vulnerabilities: tuple[str, ...] = ()
    wristband: str = ""

    def is_empty(self) -> bool:
        return not (self.name or self.sex or self.age_band or self.vulnerabilities or self.wristband)

    def person(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sex": self.sex,
            "age_band": self.age_band,
            "vulnerabilities": list(self.vulnerabilities),
            "wristband": self.wristband or None,
        }


def rows_of(form: FormData) -> list[Row]:
    """The rows of the form in their order on the page (by row number)."""
    rows: dict[int, Row] = {}
    for key, value in form.multi_items():
        match = _FIELD.match(key)
        if match is None or not isinstance(value, str):
            continue
        row = rows.setdefault(int(match[1]), Row(int(match[1])))
        field, value = match[2], value.strip()
        if field == "vuln":
            row.vulnerabilities = (*row.vulnerabilities, value)
        else:
            setattr(row, field, value)
    return [rows[i] for i in sorted(rows)]


@router.get("/operations/{operation_id}/register")
def register_form(
    request: Request, operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit(WRITE)]
) -> HTMLResponse:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        points = _gathering_points(session, operation_id, operation.route)
    return page(
        request,
        "register.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation_id),
        points=points,
        # The same form for ODK Collect and KoBoCollect, to those who may import what they collect.
        xlsform=allowed(actor, "imports.write", operation_id),
        **_choices(),
    )


@router.post("/operations/{operation_id}/register")
async def register(
    request: Request, operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit(WRITE)]
) -> HTMLResponse:
    """Register the household typed in the form: the list of people registered (with possible
    duplicates), or the errors next to their fields (4xx) with the form left as it was."""
    form = await request.form()
    rows = [row for row in rows_of(form) if not row.is_empty()]
    point = str(form.get("gathering_point") or "").strip() or None
    text = choose(request).text
    client_id = str(form.get("client_id") or "").strip().lower() or None
    if client_id is not None and not CLIENT_ID.fullmatch(client_id):
        return _errors(request, f"client_id {client_id[:40]!r} is not a UUID: reload the page", {}, 422)
    if client_id is not None:
        stored = await run_in_threadpool(_stored, runtime, operation_id, client_id)
        if stored is not None:  # a resend from a phone's offline queue: the first send stands
            return page(request, "register_result.html", status_code=200, operation_id=operation_id, **stored)
    if not rows:
        return _errors(request, text("register.nobody"), {}, 422)
    relative = str(form.get("tracing_relative") or "").strip()
    try:
        number = int(str(form.get("tracing_person") or "1"))
    except ValueError:
        number = 0
    if relative and not 1 <= number <= len(rows):
        return _errors(request, text("register.check_fields"), {"tracing": text("register.tracing_bad")}, 422)
    tracing = [{"person": number - 1, "relative": relative}] if relative else []
    try:
        body = HouseholdIn.model_validate(
            {"gathering_point": point, "people": [row.person() for row in rows], "tracing": tracing}
        )
    except ValidationError as error:
        return _errors(request, text("register.check_fields"), _field_errors(error, rows, text), 422)
    try:
        result = await run_in_threadpool(_register, runtime, operation_id, body, client_id)
    except IntegrityError:
        # The same form sent twice at once: the other send stored it.
        stored = await run_in_threadpool(_stored, runtime, operation_id, client_id) if client_id else None
        if stored is None:
            raise
        return page(request, "register_result.html", status_code=200, operation_id=operation_id, **stored)
    except ConflictError as error:
        if error.where != "people.wristband":
            raise
        clash = set(re.split(r"[\s,]+", error.message))
        taken = text("register.wristband_taken")
        marked = {f"p-{r.index}-wristband": taken for r in rows if r.wristband in clash}
        return _errors(request, text("register.check_fields") if marked else error.message, marked, 409)
    return page(request, "register_result.html", status_code=201, operation_id=operation_id, **result)


@router.post("/operations/{operation_id}/register/duplicates")
async def duplicates(
    request: Request, operation_id: str, runtime: RuntimeDep, _actor: Annotated[Actor, permit(WRITE)]
) -> HTMLResponse:
    """People already registered who may be the one in the row being typed (the row is the one
    of the field that asked, ``HX-Trigger-Name``); empty until name, sex and age band are given."""
    match = _FIELD.match(request.headers.get("HX-Trigger-Name", ""))
    form = await request.form()
    row = next((r for r in rows_of(form) if match and r.index == int(match[1])), None)
    if row is None or not row.name or row.sex not in SEXES or row.age_band not in AGE_BANDS:
        return HTMLResponse("")
    found = await run_in_threadpool(_matches, runtime, operation_id, row)
    return page(request, "register_duplicates.html", matches=found)


@router.get("/operations/{operation_id}/register/households/{household_id}/wristbands")
def wristbands(
    request: Request,
    operation_id: str,
    household_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit(WRITE)],
) -> HTMLResponse:
    """One wristband per person of a household, with a QR code of its wristband code (or, without
    one, the person's id), to print on a wristband strip."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        household, people = service.household_of(session, operation_id, household_id)
        bands = [_band(service.person_out(runtime.sealer, p)) for p in people]
    return page(
        request,
        "register_wristbands.html",
        actor=actor,
        operation=operation,
        nav=menu(actor, operation_id),
        household=household,
        reference=household.reference or household.id[:8],
        bands=bands,
    )


def qr_svg(code: str) -> str:
    """The QR code of ``code`` as inline SVG, sized by CSS (no width or height of its own)."""
    qr = segno.make_qr(code, error="m")
    svg: str = qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", title=code)
    return svg


def _band(person: PersonOut) -> dict[str, Any]:
    code = person.wristband or person.id
    return {"person": person, "code": code, "qr": qr_svg(code)}


def _stored(runtime: Runtime, operation_id: str, client_id: str) -> dict[str, Any] | None:
    """What the registration sent with ``client_id`` stored, if it was stored."""
    with runtime.db.reading() as session:
        household = session.scalar(
            select(Household).where(Household.operation_id == operation_id, Household.client_id == client_id)
        )
        if household is None:
            return None
        _, people = service.household_of(session, operation_id, household.id)
        found = [service.person_out(runtime.sealer, p) for p in people]
        return {"household": household, "people": found, "warnings": [], "tracing": []}


def _register(
    runtime: Runtime, operation_id: str, body: HouseholdIn, client_id: str | None = None
) -> dict[str, Any]:
    with runtime.db.writing() as session:
        operations.get(session, operation_id)
        done = service.register_household(
            session, sealer=runtime.sealer, operation_id=operation_id, body=body
        )
        done.household.client_id = client_id
        people = [service.person_out(runtime.sealer, p) for p in done.people]
        names = {p.id: p.name for p in people}
        warnings = [
            {"name": names[d.person_id], "matches": _people(session, runtime, operation_id, d.matches)}
            for d in done.duplicates
        ]
        return {"household": done.household, "people": people, "warnings": warnings, "tracing": done.tracing}


def _matches(runtime: Runtime, operation_id: str, row: Row) -> list[PersonOut]:
    with runtime.db.reading() as session:
        operations.get(session, operation_id)
        ids = service.possible_duplicates(
            session,
            sealer=runtime.sealer,
            operation_id=operation_id,
            name=row.name,
            age_band=row.age_band,
            sex=row.sex,
        )
        return _people(session, runtime, operation_id, ids)


def _people(session: Session, runtime: Runtime, operation_id: str, ids: list[str]) -> list[PersonOut]:
    return [service.person_out(runtime.sealer, service.get_person(session, operation_id, i)) for i in ids]


def _field_errors(error: ValidationError, rows: list[Row], text: Text) -> dict[str, str]:
    """Each problem found by the request model, keyed by the id of the form field it is about."""
    marked: dict[str, str] = {}
    for problem in error.errors():
        loc = problem["loc"]
        if len(loc) < 3 or loc[0] != "people" or not isinstance(loc[1], int):
            marked.setdefault(str(loc[0]), str(problem["msg"]))  # gathering_point or people
            continue
        row, field = rows[loc[1]], "vuln" if loc[2] == "vulnerabilities" else str(loc[2])
        given = problem.get("input")
        message = text("register.required") if given in ("", None) else str(problem["msg"])
        marked.setdefault(f"p-{row.index}-{field}", message)
    return marked


def _errors(request: Request, summary: str, marked: dict[str, str], status: int) -> HTMLResponse:
    return page(request, "register_errors.html", status_code=status, summary=summary, marked=marked)


def _gathering_points(
    session: Session, operation_id: str, route: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """(value, label) of the places people gather: the route's departure points, then the points
    households were already registered at."""
    points = {p["id"]: p["name"] for p in route if p.get("kind") == PointKind.DEPARTURE.value}
    used = session.scalars(
        select(Household.gathering_point)
        .where(Household.operation_id == operation_id, Household.gathering_point.is_not(None))
        .distinct()
    )
    for point in sorted(p for p in used if p):
        points.setdefault(point, point)
    return list(points.items())


def _choices() -> dict[str, Any]:
    return {"sexes": SEXES, "age_bands": AGE_BANDS, "vulnerabilities": VULNERABILITIES}
