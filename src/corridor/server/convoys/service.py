"""Convoy plans published for an operation: kept whole, numbered 1, 2, 3... per operation, and
laid out as the operation's trips.

Publishing a plan verifies it against the operation's scenario (and the basis of a re-plan:
closures added, the live state it started from) with :func:`corridor.plan.convoy_verify.verify_convoy`,
which trusts no solver; a plan that breaks it is refused, naming the first violations. The plan's
vehicles are the operation's vehicles (a ``vehicles`` mapping renames them; a vehicle the
operation does not have is registered with its type's places). Each trip of the plan becomes
trip ``offset + number`` of its vehicle, with its planned times; people not yet boarded on trips
the new plan drops lose their place, to be assigned again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, InputError
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem
from corridor.server.columns import utc_now
from corridor.server.convoys.planning import merged
from corridor.server.convoys.scenario import Basis, Loaded, sources
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.errors import NotFoundError
from corridor.server.ledger.tables import LedgerRow
from corridor.server.manifests.tables import ManifestEntry, Trip, Vehicle
from corridor.server.operations.tables import Operation

# The fields of convoy.json itself (the others belong to its trips).
TOP_LEVEL = frozenset(
    [
        "scenario",
        "network",
        "method",
        "status",
        "start",
        "dt",
        "horizon",
        "evacuees",
        "evacuated",
        "bound",
        "bound_kind",
        "vehicles",
        "trips",
        "by_group",
    ]
)


def parse(data: Any) -> ConvoyPlan:
    """A ``convoy.json`` read back; a 422 naming the field that is missing or malformed."""
    if not isinstance(data, dict):
        raise InputError(
            "the convoy plan is not a JSON object", where="plan", hint="send convoy.json as it is"
        )
    if data.get("format", 1) != 1:
        raise InputError(f"convoy plan format {data.get('format')!r} is not read here", where="plan.format")
    try:
        return ConvoyPlan.from_dict(data)
    except KeyError as error:
        key = error.args[0]
        raise InputError(
            f"the convoy plan has no field {key!r}",
            where=f"plan.{key}" if key in TOP_LEVEL else "plan.trips",
            hint="send the convoy.json that `corridor convoy --out DIR` writes",
        ) from None
    except (TypeError, ValueError, AttributeError, IndexError) as error:
        raise InputError(
            f"the convoy plan is malformed: {error}",
            where="plan",
            hint="send the convoy.json that `corridor convoy --out DIR` writes",
        ) from None


def listed(session: Session, operation_id: str) -> list[ConvoyVersion]:
    query = select(ConvoyVersion).where(ConvoyVersion.operation_id == operation_id)
    return list(session.scalars(query.order_by(ConvoyVersion.version)))


def get(session: Session, operation_id: str, version: int) -> ConvoyVersion:
    found = session.get(ConvoyVersion, (operation_id, version))
    if found is None:
        raise NotFoundError(
            f"operation {operation_id} has no convoy plan version {version}",
            where="version",
            hint=f"list them at GET /api/operations/{operation_id}/convoys",
        )
    return found


def plan_of(version: ConvoyVersion) -> ConvoyPlan:
    return ConvoyPlan.from_dict(version.body)


def whole_plan(session: Session, version: ConvoyVersion) -> ConvoyPlan:
    """The version's plan with the trips it kept from the plan it replaced (a re-plan holds its
    new trips only, numbered after the kept ones)."""
    plan = plan_of(version)
    replaces = version.basis.get("replaces")
    if not replaces or not version.offsets:
        return plan
    older = whole_plan(session, get(session, version.operation_id, int(replaces)))
    kept = [t for t in older.trips if t.number <= version.offsets.get(t.vehicle, 0)]
    return merged(plan, kept, dict(version.offsets))


def _vehicle_codes(
    session: Session,
    operation: Operation,
    plan: ConvoyPlan,
    problem: ConvoyProblem,
    mapping: Mapping[str, str],
) -> dict[str, str]:
    """Plan vehicle id -> the operation's vehicle code; registers vehicles it does not have."""
    unknown = sorted(set(mapping) - set(plan.vehicles))
    if unknown:
        raise InputError(
            f"vehicles names vehicles the plan does not have: {', '.join(unknown)}",
            where="vehicles",
            hint="map the plan's vehicle ids (e.g. bus-01) to the operation's vehicle codes",
        )
    index = {v: i for i, v in enumerate(problem.vehicle_ids)}
    strangers = [v for v in plan.vehicles if v not in index]
    if strangers:
        raise InputError(
            f"the plan lists vehicles the scenario's fleet does not have: {', '.join(strangers[:10])}",
            where="plan.vehicles",
            hint="publish a convoy plan made from the operation's scenario",
        )
    codes: dict[str, str] = {}
    for vid in plan.vehicles:
        code = mapping.get(vid, vid)
        seats, stretchers = problem.capacity(index[vid])
        vehicle = session.get(Vehicle, (operation.id, code))
        if vehicle is None:
            vehicle = Vehicle(
                operation_id=operation.id,
                code=code,
                kind="ambulance" if stretchers > 0 else "bus",
                seats=seats,
                stretchers=stretchers,
                wave=0,
                expected_departure=None,
            )
            session.add(vehicle)
        elif vehicle.seats < seats or vehicle.stretchers < stretchers:
            raise InputError(
                f"vehicle {code} has {vehicle.seats} seats and {vehicle.stretchers} stretcher places; "
                f"the plan's {vid} needs {seats} and {stretchers}",
                where=f"vehicles.{vid}",
                hint="map the plan's vehicle to one with room enough, or change the vehicle's places",
            )
        codes[vid] = code
    session.flush()
    return codes


def publish(
    session: Session,
    operation: Operation,
    *,
    plan: ConvoyPlan,
    loaded: Loaded,
    problem: ConvoyProblem,
    basis: Basis,
    mapping: Mapping[str, str],
    offsets: Mapping[str, int] | None = None,
    replaces: int | None = None,
    by: str,
) -> ConvoyVersion:
    """Make ``plan`` (verified by the caller against ``problem``) the operation's convoy plan."""
    if operation.state == "closed":
        raise ConflictError("the operation is closed", where="state", hint="closed operations cannot change")
    plan_hash = plan.content_hash()
    session.execute(select(Operation.id).where(Operation.id == operation.id).with_for_update())
    codes = _vehicle_codes(session, operation, plan, problem, mapping)
    offsets = {v: int(n) for v, n in (offsets or {}).items()}
    kept = session.scalar(
        select(ConvoyVersion).where(
            ConvoyVersion.operation_id == operation.id, ConvoyVersion.plan_hash == plan_hash
        )
    )
    if kept is not None and (kept.vehicles != codes or kept.offsets != offsets):
        raise ConflictError(
            f"convoy version {kept.version} holds this plan with other vehicles or trip numbers",
            where="vehicles",
            hint="publish it with the same vehicles, or publish a new plan",
        )
    session.execute(
        update(ConvoyVersion).where(ConvoyVersion.operation_id == operation.id).values(current=False)
    )
    if kept is None:
        latest = session.scalar(
            select(func.max(ConvoyVersion.version)).where(ConvoyVersion.operation_id == operation.id)
        )
        record = basis.to_dict()
        record["sources"] = sources(loaded.scenario, problem)
        if replaces is not None:
            record["replaces"] = replaces
        kept = ConvoyVersion(
            operation_id=operation.id,
            version=(latest or 0) + 1,
            plan_hash=plan_hash,
            body=plan.to_dict(),
            basis=record,
            vehicles=codes,
            offsets=offsets,
            current=True,
            published_at=utc_now(),
            published_by=by,
            method=plan.method,
            evacuated=plan.evacuated,
            evacuees=plan.evacuees,
            trips=len(plan.trips),
        )
        session.add(kept)
    else:
        kept.current = True
    session.flush()
    _lay_out_trips(session, operation.id, plan, kept, codes, offsets)
    return kept


def _lay_out_trips(
    session: Session,
    operation_id: str,
    plan: ConvoyPlan,
    version: ConvoyVersion,
    codes: Mapping[str, str],
    offsets: Mapping[str, int],
) -> None:
    existing = {
        (t.vehicle_code, t.number): t
        for t in session.scalars(select(Trip).where(Trip.operation_id == operation_id))
    }
    planned: set[tuple[str, int]] = set()
    # A re-plan keeps the trips under way (numbered up to the vehicle's offset): they stay current.
    code_offsets = {codes[v]: n for v, n in offsets.items() if v in codes}
    for (code, number), under_way in existing.items():
        if number <= code_offsets.get(code, 0):
            under_way.convoy_version = version.version
            planned.add((code, number))
    for trip in plan.trips:
        code, number = codes[trip.vehicle], offsets.get(trip.vehicle, 0) + trip.number
        planned.add((code, number))
        row = existing.get((code, number))
        if row is None:
            row = Trip(operation_id=operation_id, vehicle_code=code, number=number)
            session.add(row)
        row.convoy_version = version.version
        row.gathering = trip.gathering
        row.reception = trip.reception
        row.load = [[s, n] for s, n in trip.load]
        row.planned_start = plan.time_of(trip.approach.start)
        row.planned_boarding = plan.time_of(trip.board_start)
        row.planned_departure = plan.time_of(trip.board_end)
        row.planned_arrival = plan.time_of(trip.haul.arrival)
    session.flush()
    dropped = [key for key in existing if key not in planned]
    if dropped:
        boarded = select(LedgerRow.subject_id).where(
            LedgerRow.operation_id == operation_id,
            LedgerRow.subject_kind == "person",
            LedgerRow.type == "boarded",
        )
        for code, number in dropped:
            session.execute(
                delete(ManifestEntry).where(
                    ManifestEntry.operation_id == operation_id,
                    ManifestEntry.vehicle_code == code,
                    ManifestEntry.trip == number,
                    ManifestEntry.person_id.not_in(boarded),
                )
            )
        session.flush()


def current(session: Session, operation_id: str) -> ConvoyVersion | None:
    return session.scalar(
        select(ConvoyVersion).where(ConvoyVersion.operation_id == operation_id, ConvoyVersion.current)
    )


def basis_of(version: ConvoyVersion) -> Basis:
    return Basis.from_dict(version.basis)
