"""HTTP routes for the ledger itself: verifying its hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.ledger_check import check_session

router = APIRouter(tags=["ledger"])


class LedgerCheckOut(BaseModel):
    ok: bool
    entries: int
    first_bad_position: int | None
    problem: str
    head_hash: str


@router.get("/api/ledger/verify")
def verify(runtime: RuntimeDep, _actor: Annotated[Actor, permit("ledger.verify")]) -> LedgerCheckOut:
    """Recompute the whole hash chain; name the first entry changed if any."""
    with runtime.db.reading() as session:
        result = check_session(session)
    return LedgerCheckOut(
        ok=result.ok,
        entries=result.entries,
        first_bad_position=result.first_bad_position,
        problem=result.problem,
        head_hash=result.head_hash,
    )
