"""Trips followed from the ledger (:mod:`corridor.ops.trips`) for the trips API and pages: from the
kept fold's states (:mod:`corridor.server.ledger.counts`) and the kept trip events
(:mod:`corridor.server.convoys.kept_trips`), never the whole ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.ops.ledger import ScanEvent
from corridor.ops.trips import PlannedTrip, follow
from corridor.server.convoys.kept_trips import kept_trips
from corridor.server.convoys.schemas import TripOut, TripsOut, TripStatusOut
from corridor.server.ledger.counts import kept_states
from corridor.server.manifests.tables import ManifestEntry
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.runtime import Runtime


def trip_events(session: Session, runtime: Runtime, operation: Operation) -> list[ScanEvent]:
    """The operation's vehicle events and boardings, kept (only the entries since are read)."""
    return kept_trips(runtime.counts).events(session, operation.id)


def manifest_of(session: Session, operation: Operation) -> dict[str, tuple[str, int]]:
    """Person -> (vehicle code, trip) of the operation's manifests."""
    return {
        pid: (code, trip)
        for pid, code, trip in session.execute(
            select(ManifestEntry.person_id, ManifestEntry.vehicle_code, ManifestEntry.trip).where(
                ManifestEntry.operation_id == operation.id
            )
        )
    }


def trips(
    session: Session,
    runtime: Runtime,
    *,
    operation: Operation,
    planned: list[TripOut],
    now: datetime,
    events: list[ScanEvent] | None = None,
) -> TripsOut:
    """Every trip's state at ``now``; ``events``: the kept trip events when the caller has them."""
    route = operations.route_of(operation)
    people = kept_states(runtime.counts, session, operation, kind="person")
    manifest = manifest_of(session, operation)
    states = follow(
        trips=[
            PlannedTrip(t.vehicle, t.number, t.planned_departure, t.planned_arrival, t.manifest)
            for t in planned
        ],
        events=trip_events(session, runtime, operation) if events is None else events,
        manifest=manifest,
        people=people,
        route=route,
        now=now,
        margin_minutes=runtime.settings.grace_minutes,
    )
    by_key = {(t.vehicle, t.number): t for t in planned}
    out = []
    for s in states:
        base = by_key.get((s.trip.vehicle, s.trip.number))
        fields = (
            base.model_dump()
            if base is not None
            else TripOut(
                vehicle=s.trip.vehicle,
                number=s.trip.number,
                convoy_version=None,
                current=False,
                gathering=None,
                reception=None,
                load=[],
                planned_start=None,
                planned_boarding=None,
                planned_departure=None,
                planned_arrival=None,
                manifest=0,
            ).model_dump()
        )
        out.append(
            TripStatusOut(
                **fields,
                status=s.status,
                point=s.state.progress_point,
                last_seen_at=s.state.last_seen_at,
                boarded=len(s.boarded),
                arrived=len(s.arrived),
                expected_by=s.expected_by,
                not_seen=list(s.not_seen),
            )
        )
    return TripsOut(
        at=now,
        trips=out,
        overdue=[f"{t.vehicle}/{t.number}" for t in out if t.status == "overdue"],
        not_seen=sorted({p for t in out for p in t.not_seen}),
    )
