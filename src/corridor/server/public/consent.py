"""Consents to family tracing, given at registration: a person allows a named relative to learn
their status, and the relative gets a code (shown once, to print; only its hash is kept)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from corridor.server.columns import utc_now
from corridor.server.encryption import Sealer
from corridor.server.ids import new_id
from corridor.server.public.codes import digest, new_code
from corridor.server.public.tables import TracingConsent


@dataclass(frozen=True)
class Granted:
    """A consent just given: the person, the relative named, and the code to hand over."""

    person_id: str
    relative: str
    code: str


def grant(
    session: Session,
    *,
    sealer: Sealer,
    operation_id: str,
    person_id: str,
    relative: str,
    code: str | None = None,
) -> Granted:
    """Store the consent of ``person_id`` that ``relative`` learn their status; the code (a new
    one unless ``code`` is given, as the demo's is)."""
    code = code or new_code()
    session.add(
        TracingConsent(
            id=new_id(),
            operation_id=operation_id,
            person_id=person_id,
            relative_sealed=sealer.seal(relative),
            code_sha256=digest(code),
            created_at=utc_now(),
        )
    )
    return Granted(person_id, relative, code)


def withdraw(session: Session, *, operation_id: str, person_id: str) -> None:
    """The person's consents end: their codes answer as a wrong code does."""
    session.execute(
        update(TracingConsent)
        .where(
            TracingConsent.operation_id == operation_id,
            TracingConsent.person_id == person_id,
            TracingConsent.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=utc_now())
    )
