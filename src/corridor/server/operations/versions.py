"""Plan versions: every plan published for an operation, kept whole and numbered per operation.

A version is appended when a plan is published for the first time; publishing a plan the
operation holds already (the same content hash) adds nothing. The operation's current plan is
the version whose hash it cites (``operations.plan_hash``): usually the latest, an older one
when it is published again, none when a hash was typed in by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.plan.model import Plan
from corridor.server.columns import utc_now
from corridor.server.errors import NotFoundError
from corridor.server.operations.tables import Operation, PlanVersion


def listed(session: Session, operation_id: str) -> list[PlanVersion]:
    """The operation's versions, oldest first (their bodies are not loaded)."""
    query = select(PlanVersion).where(PlanVersion.operation_id == operation_id).order_by(PlanVersion.version)
    return list(session.scalars(query))


def get(session: Session, operation_id: str, version: int) -> PlanVersion:
    found = session.get(PlanVersion, (operation_id, version))
    if found is None:
        raise NotFoundError(
            f"operation {operation_id} has no plan version {version}",
            where="version",
            hint=f"list them at GET /api/operations/{operation_id}/plans",
        )
    return found


def current(versions: list[PlanVersion], operation: Operation) -> PlanVersion | None:
    """The version the operation follows: the one whose hash it cites."""
    return next((v for v in reversed(versions) if v.plan_hash == operation.plan_hash), None)


def plan_of(version: PlanVersion) -> Plan:
    """The version's plan, read back from its stored ``plan.json``."""
    return Plan.from_dict(version.body)


@dataclass(frozen=True)
class Figures:
    """What a version lists of its plan, when the plan comes as its body and hash (a plan job's,
    worked out on the worker) rather than as a :class:`Plan`."""

    method: str
    evacuated: int
    evacuees: int


def record(
    session: Session,
    operation: Operation,
    *,
    plan: Plan | Figures,
    nodes: dict[str, str],
    by: str,
    body: dict[str, Any] | None = None,
    plan_hash: str | None = None,
) -> PlanVersion:
    """The version holding ``plan``: the one kept already (a repeated publish), else a new one.

    The same plan with another node mapping is refused: a version's mapping says where its
    expected times were measured, and changing it would rewrite what was published. A version a
    plan job kept (``published_by`` ``job:<id>``, never published) takes the publisher's mapping.
    """
    if plan_hash is None:  # given when worked out before the transaction
        plan_hash = _whole(plan).content_hash()
    # Lock the operation row so that two publishes at once do not take the same number
    # (SQLite has one writer at a time anyway).
    session.execute(select(Operation.id).where(Operation.id == operation.id).with_for_update())
    kept = session.scalar(
        select(PlanVersion).where(
            PlanVersion.operation_id == operation.id, PlanVersion.plan_hash == plan_hash
        )
    )
    if kept is not None and kept.published_by.startswith("job:"):
        # A plan a job made and kept, now published by someone: it takes their mapping and name.
        kept.nodes, kept.published_by, kept.published_at = dict(nodes), by, utc_now()
        return kept
    if kept is not None:
        if kept.nodes != nodes:
            raise ConflictError(
                f"version {kept.version} holds this plan with another node mapping ({_mapping(kept.nodes)})",
                where="nodes",
                hint="publish it with the same nodes, or publish a new plan",
            )
        return kept
    latest = session.scalar(
        select(func.max(PlanVersion.version)).where(PlanVersion.operation_id == operation.id)
    )
    version = PlanVersion(
        operation_id=operation.id,
        version=(latest or 0) + 1,
        plan_hash=plan_hash,
        body=body if body is not None else _whole(plan).to_dict(),
        nodes=dict(nodes),
        published_at=utc_now(),
        published_by=by,
        method=plan.method,
        evacuated=plan.evacuated,
        evacuees=plan.evacuees,
    )
    session.add(version)
    session.flush()
    return version


def _whole(plan: Plan | Figures) -> Plan:
    if not isinstance(plan, Plan):
        raise TypeError("a plan given by its figures comes with its body and hash")
    return plan


def _mapping(nodes: dict[str, Any]) -> str:
    return ", ".join(f"{point} -> {node}" for point, node in sorted(nodes.items())) or "none"
