"""The retention purge: personal data of closed operations is removed once its time is up.

Names, phone numbers, wristbands and name indexes of people, incident descriptions, and the
relatives named for family tracing (whose codes then answer nothing) are erased. What stays: ids,
age bands, sex, vulnerabilities, the ledger (which holds only ids, so the hash chain still
verifies) and evidence files (kept as evidence). The purge itself is recorded in the ledger.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.ops.ledger import EventType
from corridor.server.incidents.tables import Incident
from corridor.server.ledger.service import append_server_event
from corridor.server.operations.tables import Operation
from corridor.server.public.tables import TracingConsent
from corridor.server.registration.tables import Person


def due_at(operation: Operation, retention_days: int) -> datetime | None:
    if operation.closed_at is None:
        return None
    return operation.closed_at + timedelta(days=retention_days)


def purge_operation(session: Session, *, operation: Operation, now: datetime, retention_days: int) -> int:
    """Erase the personal data of one operation; the number of people purged."""
    due = due_at(operation, retention_days)
    if due is None:
        raise ConflictError("the operation is not closed", where="state", hint="close the operation first")
    if now < due:
        raise ConflictError(
            f"the retention period runs until {due.isoformat()}",
            where="retention_days",
            hint="personal data is purged once the retention period is over",
        )
    result = session.execute(
        update(Person)
        .where(Person.operation_id == operation.id, Person.purged_at.is_(None))
        .values(name_sealed=None, phone_sealed=None, name_index=None, wristband=None, purged_at=now)
    )
    people = cast(CursorResult[Any], result).rowcount
    session.execute(
        update(Incident).where(Incident.operation_id == operation.id).values(description_sealed="")
    )
    session.execute(
        update(TracingConsent)
        .where(TracingConsent.operation_id == operation.id)
        .values(relative_sealed="", withdrawn_at=func.coalesce(TracingConsent.withdrawn_at, now))
    )
    operation.purged_at = now
    append_server_event(
        session,
        operation_id=operation.id,
        type=EventType.PURGED,
        payload={"people": int(people or 0), "at": now.isoformat()},
    )
    return int(people or 0)


def purge_expired(session: Session, *, now: datetime, retention_days: int) -> dict[str, int]:
    """Purge every closed operation whose retention period is over (for a scheduled job)."""
    done = {}
    query = select(Operation).where(Operation.state == "closed", Operation.purged_at.is_(None))
    for operation in session.scalars(query):
        due = due_at(operation, retention_days)
        if due is not None and due <= now:
            done[operation.id] = purge_operation(
                session, operation=operation, now=now, retention_days=retention_days
            )
    return done
