"""Administration of scanners: enrol one with a QR code, revoke one.

Enrolling makes the scanner's token (shown once, only its SHA-256 is kept) and a QR code that
carries everything a scanning app needs to start sending: the server's address, the operation,
the scanner's id and route point, and the token. Revoking refuses the token at once: the
scanner's next scan is answered 401; the events it sent stay in the ledger.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select

from corridor.core.errors import ConflictError, CorridorError, InputError
from corridor.server.access import service as access
from corridor.server.access.schemas import DeviceIn
from corridor.server.access.tables import Device
from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.operations import service as operations
from corridor.server.runtime import Runtime
from corridor.server.web.admin import problems, record, show_operation
from corridor.server.web.i18n import choose

router = APIRouter(include_in_schema=False)
ENROLMENT_FORMAT = "corridor-scanner/1"


def enrolment(request: Request, operation_id: str, device_id: str, point: str | None, token: str) -> str:
    """What the QR code carries: JSON with the server's address, the operation, the scanner and
    its token (POST ``{server}/api/operations/{operation}/events`` with ``Authorization: Bearer``)."""
    return json.dumps(
        {
            "format": ENROLMENT_FORMAT,
            "server": str(request.base_url).rstrip("/"),
            "operation": operation_id,
            "device_id": device_id,
            "point": point,
            "token": token,
        },
        separators=(",", ":"),
    )


def qr_svg(payload: str, title: str) -> Markup:
    """The payload as an inline SVG QR code (no script, no image request), titled for screen readers."""
    svg = segno.make(payload, error="m").svg_inline(scale=4, title=title, svgclass="qr", lineclass="qr-line")
    return Markup(svg)  # made by segno, which escapes the title


def _page(
    request: Request,
    runtime: Runtime,
    actor: Actor,
    operation_id: str,
    *,
    full: bool,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        devices = list(
            session.scalars(
                select(Device).where(Device.operation_id == operation_id).order_by(Device.created_at)
            )
        )
    context.setdefault("typed", {"device_id": "", "label": "", "point": ""})
    return show_operation(
        request,
        "admin_devices.html",
        actor=actor,
        operation=operation,
        title_key="admin.devices",
        full=full,
        status_code=status_code,
        devices=devices,
        points=operation.route,
        **context,
    )


@router.get("/operations/{operation_id}/admin/devices")
def devices_admin(
    request: Request, operation_id: str, runtime: RuntimeDep, actor: Annotated[Actor, permit("devices.write")]
) -> HTMLResponse:
    return _page(request, runtime, actor, operation_id, full=True)


@router.post("/operations/{operation_id}/admin/devices")
def enrol_device(
    request: Request,
    operation_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("devices.write")],
    device_id: Annotated[str, Form(max_length=200)] = "",
    label: Annotated[str, Form(max_length=400)] = "",
    point: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Enrol a scanner: its token and QR code are shown once, in this answer."""
    text = choose(request).text
    typed = {"device_id": device_id, "label": label, "point": point}
    try:
        body = DeviceIn(device_id=device_id.strip(), label=label.strip(), point=point or None)
        with runtime.db.writing() as session:
            operation = operations.get(session, operation_id)
            if operation.state == "closed":
                raise ConflictError(
                    f"operation {operation_id} is closed: it takes no new scanners",
                    where="operation_id",
                    hint="closed operations are read-only",
                )
            if body.point is not None and operations.route_of(operation).index(body.point) is None:
                raise InputError(f"point {body.point!r} is not on the route", where="point")
            token = access.register_device(
                session,
                operation_id=operation_id,
                device_id=body.device_id,
                label=body.label,
                point=body.point,
            )
            record(session, actor, operation_id, "device.registered", request, body.device_id)
    except (ValidationError, CorridorError) as error:
        return _page(
            request,
            runtime,
            actor,
            operation_id,
            full=False,
            status_code=409 if isinstance(error, ConflictError) else 422,
            error=problems(error, text),
            typed=typed,
        )
    payload = enrolment(request, operation_id, body.device_id, body.point, token)
    return _page(
        request,
        runtime,
        actor,
        operation_id,
        full=False,
        status_code=201,
        done=text("admin.done.device", name=body.device_id),
        enrolled={
            "device_id": body.device_id,
            "token": token,
            "payload": payload,
            "qr": qr_svg(payload, text("admin.device_qr", name=body.device_id)),
        },
    )


@router.post("/operations/{operation_id}/admin/devices/{device_id}/revoke")
def revoke_device(
    request: Request,
    operation_id: str,
    device_id: str,
    runtime: RuntimeDep,
    actor: Annotated[Actor, permit("devices.write")],
) -> HTMLResponse:
    """Revoke a scanner: its token is refused from now on."""
    text = choose(request).text
    try:
        with runtime.db.writing() as session:
            device = access.device_in(session, operation_id=operation_id, device_id=device_id)
            access.revoke_device(session, device)
            record(session, actor, operation_id, "device.revoked", request)
    except CorridorError as error:
        return _page(
            request, runtime, actor, operation_id, full=False, status_code=404, error=problems(error, text)
        )
    finally:
        runtime.devices.forget(device_id)
    return _page(
        request, runtime, actor, operation_id, full=False, done=text("admin.done.revoked", name=device_id)
    )
