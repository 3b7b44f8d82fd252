"""The answer to a tracing code: registered, left, or arrived at a reception point; nothing else.

A wrong code, a withdrawn consent and a person whose record was purged all get the same answer,
``unknown``, after the same work: the code's hash is looked up, compared in constant time with
the stored hash (or a dummy one), and the events of the consent's person (or of no one) are read
and folded. Every query is stored (``tracing_queries``) and written to the access log.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.ops.status import Status
from corridor.server.access.service import log_access
from corridor.server.columns import utc_now
from corridor.server.ledger.counts import LedgerCounts, kept_state
from corridor.server.operations.tables import Operation
from corridor.server.public.codes import digest
from corridor.server.public.tables import TracingConsent, TracingQuery
from corridor.server.registration.tables import Person

REGISTERED, LEFT, ARRIVED, UNKNOWN, LIMITED = "registered", "left", "arrived", "unknown", "limited"
_NO_ONE = "0" * 32
_DUMMY = digest("no such code")
_LEFT = frozenset({Status.BOARDED, Status.CHECKPOINT, Status.MISSING, Status.DETAINED})


@dataclass(frozen=True)
class Answer:
    """What the relative learns: ``outcome`` and, once arrived, the reception point's name."""

    outcome: str
    point: str | None = None


def address_digest(address: str) -> str:
    return hashlib.sha256(b"corridor tracing address v1:" + address.encode("utf-8")).hexdigest()


def ask(session: Session, counts: LedgerCounts, operation: Operation, code: str) -> tuple[Answer, str | None]:
    """The answer for ``code`` in ``operation`` and the consent it matched (None: none). The
    person's status is read from the operation's kept fold (``counts``), the same look-up for a
    code that matches no one."""
    given = digest(code)
    consent = session.scalar(select(TracingConsent).where(TracingConsent.code_sha256 == given))
    stored = consent.code_sha256 if consent is not None else _DUMMY
    matches = hmac.compare_digest(stored, given)
    valid = (
        matches
        and consent is not None
        and consent.operation_id == operation.id
        and consent.withdrawn_at is None
    )
    person_id = consent.person_id if valid and consent is not None else _NO_ONE
    person = session.get(Person, person_id)
    state = kept_state(counts, session, operation, ("person", person_id))
    if not valid or consent is None or person is None or person.purged_at is not None:
        return Answer(UNKNOWN), None
    status = Status.REGISTERED if state is None else state.status
    if status is Status.ARRIVED:
        point = state.progress_point if state is not None else None
        names = {p["id"]: p.get("name") or p["id"] for p in operation.route}
        return Answer(ARRIVED, names.get(point or "", point)), consent.id
    if status in _LEFT:
        return Answer(LEFT), consent.id
    return Answer(REGISTERED), consent.id  # registered, or returned to where they started


def record(
    session: Session, operation_id: str, *, consent_id: str | None, outcome: str, address: str, path: str
) -> None:
    """Store the query and write it to the access log."""
    session.add(
        TracingQuery(
            operation_id=operation_id,
            consent_id=consent_id,
            outcome=outcome,
            address_sha256=address_digest(address),
            at=utc_now(),
        )
    )
    decision = "allow" if consent_id is not None else "deny"
    log_access(
        session,
        actor="public tracing form",
        operation_id=operation_id,
        action="tracing.query",
        decision=decision,
        path=path,
    )
