"""HTTP routes for the ledger itself: verifying its hash chain, signing and exporting its head."""

from __future__ import annotations

from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter
from pydantic import BaseModel

from corridor.server.auth import Actor
from corridor.server.deps import RuntimeDep, permit
from corridor.server.errors import NotFoundError
from corridor.server.ledger import anchor
from corridor.server.ledger_check import check_session
from corridor.server.runtime import Runtime

router = APIRouter(tags=["ledger"])


class LedgerCheckOut(BaseModel):
    ok: bool
    entries: int
    first_bad_position: int | None
    problem: str
    head_hash: str
    checkpoints: int = 0
    last_good_checkpoint: int | None = None
    signatures_checked: bool = False
    cut_over: int | None = None


class HeadExportOut(BaseModel):
    """A signed checkpoint of the ledger's head, to keep elsewhere (print it, send it away)."""

    statement: str
    position: int
    head_hash: str
    signed_at: str
    signature: str
    public_key: str
    key_id: str


def _public_key(runtime: Runtime) -> Ed25519PublicKey | None:
    path = runtime.settings.signing_key_path
    if not path.exists():
        return None
    return anchor.load_or_create_signing_key(path).public_key()


@router.get("/api/ledger/verify")
def verify(runtime: RuntimeDep, _actor: Annotated[Actor, permit("ledger.verify")]) -> LedgerCheckOut:
    """Recompute the whole hash chain and check every signed checkpoint; name the first entry
    that can no longer be trusted, if any."""
    public = _public_key(runtime)
    with runtime.db.reading() as session:
        result = check_session(session, public)
    return LedgerCheckOut(
        ok=result.ok,
        entries=result.entries,
        first_bad_position=result.first_bad_position,
        problem=result.problem,
        head_hash=result.head_hash,
        checkpoints=result.checkpoints,
        last_good_checkpoint=result.last_good_checkpoint,
        signatures_checked=result.signatures_checked,
        cut_over=result.cut_over,
    )


@router.post("/api/ledger/checkpoints", status_code=201)
def sign_checkpoint(runtime: RuntimeDep, _actor: Annotated[Actor, permit("ledger.anchor")]) -> HeadExportOut:
    """Sign a checkpoint of the head now; the answer is its export, to keep elsewhere."""
    export = anchor.checkpoint_now(runtime.db, runtime.settings.signing_key_path)
    return HeadExportOut.model_validate(export, from_attributes=True)


@router.get("/api/ledger/head")
def read_head(runtime: RuntimeDep, _actor: Annotated[Actor, permit("ledger.anchor")]) -> HeadExportOut:
    """The latest signed checkpoint of the head, as an export to keep elsewhere."""
    with runtime.db.reading() as session:
        checkpoint = anchor.latest(session)
    if checkpoint is None:
        raise NotFoundError(
            "no checkpoint of the ledger has been signed yet",
            hint="sign one with POST /api/ledger/checkpoints",
        )
    public = _public_key(runtime)
    return HeadExportOut.model_validate(
        anchor.HeadExport.of(checkpoint, anchor.public_hex(public) if public else ""), from_attributes=True
    )
