"""Scan events: checking them against the operation, storing them, and reconciling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import InputError
from corridor.ops.ledger import SERVER_TYPES, EventType, ScanEvent
from corridor.ops.reconciliation import DeviceLog, PersonRecord, Reconciliation, reconcile
from corridor.ops.route import Route
from corridor.ops.status import fold
from corridor.server.auth import Actor
from corridor.server.checkpoints.schemas import EventIn
from corridor.server.errors import NotFoundError
from corridor.server.ledger import service as ledger
from corridor.server.ledger.writer import Answer
from corridor.server.manifests.tables import Vehicle
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.registration.tables import Household, Person

_PERSON_ONLY = {EventType.BOARDED, EventType.RETURNED}
_VEHICLE_ONLY = {EventType.DEPARTED}


def to_event(body: EventIn) -> ScanEvent:
    return ScanEvent(
        event_id=body.event_id,
        device_id=body.device_id,
        seq=body.seq,
        device_time=body.device_time,
        type=body.type,
        payload=body.payload,
    )


def check_sender(actor: Actor, event: ScanEvent) -> None:
    """A scanner sends its own events; a person sends them as device ``user:<username>``, or
    ``user:<username>/<browser>`` when scanning from several browsers (each counts its own
    sequence numbers)."""
    expected = actor.name if actor.kind == "device" else f"user:{actor.name}"
    own = event.device_id == expected or (
        actor.kind == "user"
        and event.device_id.startswith(expected + "/")
        and len(event.device_id) > len(expected) + 1
    )
    if not own:
        raise InputError(
            f"device_id {event.device_id!r} is not the sender's",
            where=f"event {event.event_id}: device_id",
            hint=f"this sender's events carry device_id {expected!r}",
        )


class EventChecker:
    """Checks an event against an operation: type, subject, point. Caches what it looked up."""

    def __init__(self, session: Session, operation: Operation) -> None:
        self.session = session
        self.operation = operation
        self.route = operations.route_of(operation)
        self._people: dict[str, bool] = {}
        self._vehicles: dict[str, bool] = {}

    def __call__(self, event: ScanEvent) -> None:
        where = f"event {event.event_id}"
        if event.type in SERVER_TYPES:
            raise InputError(f"type {event.type} is made by the server only", where=f"{where}: type")
        self._check_subject(event, where)
        if event.point is not None and self.route.index(event.point) is None:
            ids = ", ".join(p.id for p in self.route.points)
            raise InputError(
                f"point {event.point!r} is not on the route",
                where=f"{where}: payload.point",
                hint=f"use one of: {ids}",
            )

    def _check_subject(self, event: ScanEvent, where: str) -> None:
        person = event.payload.get("person_id")
        vehicle = event.payload.get("vehicle_id")
        if event.type in _PERSON_ONLY and not person:
            raise InputError(f"a {event.type} event names a person", where=f"{where}: payload.person_id")
        if event.type in _VEHICLE_ONLY and not vehicle:
            raise InputError(f"a {event.type} event names a vehicle", where=f"{where}: payload.vehicle_id")
        if not person and not vehicle:
            raise InputError(
                "the event names no person and no vehicle",
                where=f"{where}: payload",
                hint="put person_id or vehicle_id in the payload",
            )
        if isinstance(person, str) and person and not self._person_known(person):
            raise InputError(
                f"no person {person!r} is registered in this operation",
                where=f"{where}: payload.person_id",
                hint="scan the person's wristband code as registered",
            )
        if isinstance(vehicle, str) and vehicle and not self._vehicle_known(vehicle):
            raise InputError(
                f"no vehicle {vehicle!r} in this operation", where=f"{where}: payload.vehicle_id"
            )

    def prefetch(self, bodies: Sequence[EventIn]) -> None:
        """Look up every person the events name, in one query."""
        wanted = sorted({p for b in bodies if isinstance(p := b.payload.get("person_id"), str)})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = set(
                self.session.scalars(
                    select(Person.id).where(Person.operation_id == self.operation.id, Person.id.in_(chunk))
                )
            )
            self._people.update({p: p in found for p in chunk})

    def _person_known(self, person_id: str) -> bool:
        if person_id not in self._people:
            found = self.session.scalar(
                select(Person.id).where(Person.id == person_id, Person.operation_id == self.operation.id)
            )
            self._people[person_id] = found is not None
        return self._people[person_id]

    def _vehicle_known(self, code: str) -> bool:
        if code not in self._vehicles:
            found = self.session.get(Vehicle, (self.operation.id, code))
            self._vehicles[code] = found is not None
        return self._vehicles[code]


@dataclass(frozen=True)
class EventRequest:
    """One request's events, as handed to the ledger writer."""

    operation_id: str
    actor: Actor
    bodies: list[EventIn]


def record_group(session: Session, requests: Sequence[EventRequest]) -> list[Answer]:
    """Append the events of several requests: one append per operation, each event checked with
    its own request's sender; one answer per request."""
    answers: list[Answer] = [[] for _ in requests]
    by_operation: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        by_operation.setdefault(request.operation_id, []).append(index)
    for operation_id, indexes in by_operation.items():
        try:
            operation = operations.get(session, operation_id)
        except NotFoundError as exc:
            for i in indexes:
                answers[i] = exc
            continue
        owners = [(i, body) for i in indexes for body in requests[i].bodies]
        results = record(
            session,
            operation=operation,
            senders=[requests[i].actor for i, _ in owners],
            bodies=[body for _, body in owners],
        )
        for (i, _), result in zip(owners, results, strict=True):
            answer = answers[i]
            assert isinstance(answer, list)
            answer.append(result)
    return answers


def record(
    session: Session, *, operation: Operation, senders: Sequence[Actor], bodies: Sequence[EventIn]
) -> list[ledger.AppendResult]:
    """Append events to the ledger; ``senders[i]`` sent ``bodies[i]``. One result per event."""
    checker = EventChecker(session, operation)
    checker.prefetch(bodies)
    events = [to_event(body) for body in bodies]
    actors = {id(event): actor for event, actor in zip(events, senders, strict=True)}

    def validate(event: ScanEvent) -> None:
        check_sender(actors[id(event)], event)
        checker(event)

    return ledger.append(session, operation_id=operation.id, events=events, validate=validate)


def reconciliation(
    session: Session, *, operation: Operation, now: datetime, grace_minutes: float
) -> Reconciliation:
    """Fold the operation's events and compare them with who was registered and the plan."""
    route: Route = operations.route_of(operation)
    states = fold(ledger.events_of(session, operation.id), route)
    people = [
        PersonRecord(pid, hid, gp, tuple(v))
        for pid, hid, gp, v in session.execute(
            select(Person.id, Person.household_id, Household.gathering_point, Person.vulnerabilities)
            .join(Household, Household.id == Person.household_id)
            .where(Person.operation_id == operation.id)
        )
    ]
    vehicles = session.scalars(select(Vehicle.code).where(Vehicle.operation_id == operation.id))
    devices = [
        DeviceLog(device_id, seqs, frozenset(points))
        for device_id, (seqs, points) in ledger.device_sequences(session, operation.id).items()
    ]
    return reconcile(
        states=states,
        people=people,
        vehicle_ids=list(vehicles),
        route=route,
        devices=devices,
        windows=operations.windows_of(operation),
        now=now,
        grace_minutes=grace_minutes,
    )
