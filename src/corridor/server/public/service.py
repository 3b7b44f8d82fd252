"""Notices issued from an operation's published plans, re-issued when a plan changes; the state
of the evacuation at each gathering point, as the public page shows it.

Notices are brought up to date when they are read (the public page, the Notices page): if the
operation's current plan version or convoy version is not the one its notices were made from,
the notices are made again, and each one that changed is issued as a new version while its old
version is marked void. A notice that did not change keeps its version.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError
from corridor.ops.status import Status
from corridor.plan.convoy import ConvoyPlan
from corridor.plan.model import Plan
from corridor.reports.notices import Notice, make_notices
from corridor.reports.tripsheets import node_names
from corridor.server.columns import utc_now
from corridor.server.convoys import scenario as convoy_scenario
from corridor.server.convoys import service as convoys
from corridor.server.errors import NotFoundError
from corridor.server.ids import new_id
from corridor.server.operations import service as operations
from corridor.server.operations import versions
from corridor.server.operations.tables import Operation
from corridor.server.public.tables import Notice as NoticeRow
from corridor.server.registration.tables import Household, Person
from corridor.server.runtime import Runtime

# The state of the evacuation at a gathering point, as the public page says it.
SOON, ON, PAUSED, OVER = "soon", "on", "paused", "over"
_FINISHED = frozenset({Status.ARRIVED, Status.RETURNED})


def slug_of(operation: Operation) -> str:
    """The operation's name as a path segment people can type: ``east-aleppo-2016-demo``
    (Latin letters and digits; the id when the name has none)."""
    ascii_name = unicodedata.normalize("NFKD", operation.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:80] or operation.id


def by_slug(session: Session, slug: str) -> Operation:
    """The operation of a public address (its slug or its id); 404 otherwise."""
    found = session.get(Operation, slug) if len(slug) <= 32 else None
    if found is None:
        found = next((o for o in session.scalars(select(Operation)) if slug_of(o) == slug), None)
    if found is None or found.purged_at is not None:
        raise NotFoundError("no such evacuation", where="operation", hint="check the address on the poster")
    return found


@dataclass(frozen=True)
class Basis:
    """The plan and convoy versions notices are made from (None: none published)."""

    plan_version: int | None
    convoy_version: int | None


def basis_of(session: Session, operation: Operation) -> Basis:
    plan = versions.current(versions.listed(session, operation.id), operation)
    convoy = convoys.current(session, operation.id)
    return Basis(plan.version if plan else None, convoy.version if convoy else None)


def current_notices(session: Session, operation_id: str) -> list[NoticeRow]:
    """The operation's notices in force (not void), in the order they were made."""
    query = (
        select(NoticeRow)
        .where(NoticeRow.operation_id == operation_id, NoticeRow.void_at.is_(None))
        .order_by(NoticeRow.issued_at, NoticeRow.id)
    )
    return sorted(session.scalars(query), key=lambda n: int(n.body.get("order_index", 0)))


def void_notices(session: Session, operation_id: str, *, limit: int = 50) -> list[NoticeRow]:
    query = (
        select(NoticeRow)
        .where(NoticeRow.operation_id == operation_id, NoticeRow.void_at.is_not(None))
        .order_by(NoticeRow.void_at.desc(), NoticeRow.key)
        .limit(limit)
    )
    return list(session.scalars(query))


def notice_of(row: NoticeRow) -> Notice:
    return Notice.from_dict({k: v for k, v in row.body.items() if k != "order_index"})


def _made(runtime: Runtime, operation: Operation, basis: Basis) -> list[Notice] | None:
    """The notices the operation's plans give (None when its scenario cannot be read)."""
    try:
        loaded = convoy_scenario.load(runtime.settings.scenarios_dir, operation.scenario_name)
    except CorridorError:
        return None
    plan: Plan | None = None
    convoy: ConvoyPlan | None = None
    vehicles: dict[str, str] = {}
    offsets: dict[str, int] = {}
    with runtime.db.reading() as session:
        if basis.plan_version is not None and basis.convoy_version is None:  # a convoy plan is preferred
            try:
                plan = versions.plan_of(versions.get(session, operation.id, basis.plan_version))
            except (CorridorError, ValueError):
                plan = None
        if basis.convoy_version is not None:
            version = convoys.get(session, operation.id, basis.convoy_version)
            convoy = convoys.plan_of(version)
            vehicles, offsets = dict(version.vehicles), dict(version.offsets)
    names = node_names(loaded.scenario)
    return make_notices(loaded.scenario, plan, convoy, names=names, vehicles=vehicles, offsets=offsets)


def sync(runtime: Runtime, operation_id: str) -> None:
    """Bring the operation's notices up to date with its current plans (see the module)."""
    with runtime.db.reading() as session:
        operation = operations.get(session, operation_id)
        basis = basis_of(session, operation)
        kept = current_notices(session, operation_id)
        if kept and all(
            (n.plan_version, n.convoy_version) == (basis.plan_version, basis.convoy_version) for n in kept
        ):
            return
    made = _made(runtime, operation, basis)
    if made is None:
        return
    with runtime.db.writing() as session:
        session.execute(select(Operation.id).where(Operation.id == operation_id).with_for_update())
        operation = operations.get(session, operation_id)
        if basis_of(session, operation) != basis:
            return  # published again meanwhile: the next reader makes them
        reissue(session, operation_id, made, basis)


def reissue(session: Session, operation_id: str, made: Sequence[Notice], basis: Basis) -> list[NoticeRow]:
    """Store ``made`` as the operation's notices: a changed or new notice as its next version
    (the old one void), an unchanged one kept (now citing ``basis``), one no longer made void.
    Returns the notices issued now."""
    now = utc_now()
    current = {n.key: n for n in current_notices(session, operation_id)}
    latest: dict[str, int] = {}
    for key, version in session.execute(
        select(NoticeRow.key, NoticeRow.version).where(NoticeRow.operation_id == operation_id)
    ):
        latest[key] = max(latest.get(key, 0), version)
    issued = []
    for index, notice in enumerate(made):
        body = {**notice.to_dict(), "order_index": index}
        old = current.pop(notice.key, None)
        if old is not None and old.fingerprint == notice.fingerprint:
            old.plan_version, old.convoy_version = basis.plan_version, basis.convoy_version
            old.body = body
            continue
        if old is not None:
            old.void_at = now
        row = NoticeRow(
            id=new_id(),
            operation_id=operation_id,
            key=notice.key,
            version=latest.get(notice.key, 0) + 1,
            point=notice.point,
            group_name=notice.group,
            fingerprint=notice.fingerprint,
            body=body,
            plan_version=basis.plan_version,
            convoy_version=basis.convoy_version,
            issued_at=now,
        )
        session.add(row)
        issued.append(row)
    for gone in current.values():
        gone.void_at = now
    session.flush()
    return issued


@dataclass(frozen=True)
class PointState:
    point: str  # network node
    name: str
    state: str  # soon, on, paused or over


def point_states(
    runtime: Runtime, session: Session, operation: Operation, notices: Sequence[Notice]
) -> list[PointState]:
    """Each gathering point of the notices with the state of the evacuation there: the
    operation's state (planning: soon; suspended: paused; closed: over), and while it is active,
    over at a point where everyone registered has arrived (or returned)."""
    points: dict[str, str] = {}
    for notice in notices:
        points.setdefault(notice.point, notice.point_name)
    if operation.state != "active":
        state = {"planning": SOON, "suspended": PAUSED, "closed": OVER}.get(operation.state, SOON)
        return [PointState(p, name, state) for p, name in points.items()]
    node_of = _nodes_of_sources(runtime, operation)
    route = operations.route_of(operation)
    fold = runtime.counts.fold(session, operation.id, route)
    with runtime.counts.reading(operation.id):
        states = fold.snapshot()
    inside: dict[str, int] = {}
    seen: dict[str, int] = {}
    rows = session.execute(
        select(Person.id, Household.gathering_point)
        .join(Household, Household.id == Person.household_id)
        .where(Person.operation_id == operation.id)
    )
    for person_id, gathering in rows:
        node = node_of.get(gathering or "", gathering or "")
        subject = states.get(("person", person_id))
        seen[node] = seen.get(node, 0) + 1
        if subject is None or subject.status not in _FINISHED:
            inside[node] = inside.get(node, 0) + 1
    return [
        PointState(p, name, OVER if seen.get(p) and not inside.get(p) else ON) for p, name in points.items()
    ]


def _nodes_of_sources(runtime: Runtime, operation: Operation) -> dict[str, str]:
    """Source id -> its node (households are registered at a source or a node)."""
    try:
        loaded = convoy_scenario.load(runtime.settings.scenarios_dir, operation.scenario_name)
    except CorridorError:
        return {}
    return {s.id: s.node or s.id for s in loaded.scenario.sources}
