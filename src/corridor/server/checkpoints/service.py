"""Scan events: checking them against the operation, storing them, and reconciling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import InputError
from corridor.ops.ledger import SERVER_TYPES, EventType, ScanEvent
from corridor.ops.reconciliation import DeviceLog, PersonRecord, Reconciliation, reconcile
from corridor.ops.route import Route
from corridor.ops.status import SubjectState, fold
from corridor.server.access.names import is_reserved
from corridor.server.auth import Actor
from corridor.server.checkpoints import clock
from corridor.server.checkpoints.clock import ClockRules
from corridor.server.checkpoints.schemas import EventIn
from corridor.server.columns import utc_now
from corridor.server.errors import NotFoundError
from corridor.server.ledger import raw
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


def check_sender(actor: Actor, event: ledger.EventFields) -> None:
    """A scanner sends its own events; a person sends them as device ``user:<username>``, or
    ``user:<username>/<browser>`` when scanning from several browsers (each counts its own
    sequence numbers). A scanner enrolled under a name the service keeps for itself (possible
    before such names were refused) sends nothing."""
    if actor.kind == "device" and is_reserved(actor.name):
        raise InputError(
            f"scanner {actor.name!r} has a name reserved for the service",
            where=f"event {event.event_id}: device_id",
            hint="enrol the scanner again under another id",
        )
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
    """Checks an event against an operation: type, subject, point. Caches what it looked up;
    :meth:`prefetch` looks up every subject of a group of events at once."""

    def __init__(self, session: Session, operation: Operation) -> None:
        self.session = session
        self.operation = operation
        self.route = operations.route_of(operation)
        self._points = {p.id for p in self.route.points}
        self._people: dict[str, bool] = {}
        self._vehicles: dict[str, bool] = {}

    def __call__(self, event: ledger.EventFields) -> None:
        if event.type in SERVER_TYPES:
            raise InputError(
                f"type {event.type} is made by the server only", where=f"event {event.event_id}: type"
            )
        self._check_subject(event)
        point = event.payload.get("point")
        if isinstance(point, str) and point and point not in self._points:
            ids = ", ".join(p.id for p in self.route.points)
            raise InputError(
                f"point {point!r} is not on the route",
                where=f"event {event.event_id}: payload.point",
                hint=f"use one of: {ids}",
            )

    def _check_subject(self, event: ledger.EventFields) -> None:
        where = f"event {event.event_id}"
        for key in ("person_id", "vehicle_id", "point"):
            value = event.payload.get(key)
            if key in event.payload and not (isinstance(value, str) and value):
                raise InputError(
                    f"payload.{key} must be a non-empty text, not {value!r}",
                    where=f"{where}: payload.{key}",
                    hint=f"send {key} as a quoted id",
                )
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

    def prefetch(self, events: Sequence[ledger.EventFields]) -> None:
        """Look up every person and vehicle the events name: one statement per 500 of each, with
        the values bound as the driver takes them (see :mod:`corridor.server.ledger.raw`)."""
        people = {p for e in events if isinstance(p := e.payload.get("person_id"), str)}
        vehicles = {v for e in events if isinstance(v := e.payload.get("vehicle_id"), str)}
        self._people.update(self._known(Person.__tablename__, "id", people - self._people.keys()))
        self._vehicles.update(self._known(Vehicle.__tablename__, "code", vehicles - self._vehicles.keys()))

    def _known(self, table: str, column: str, wanted: set[str]) -> dict[str, bool]:
        connection = self.session.connection()
        values = sorted(wanted)
        known: dict[str, bool] = {}
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            among, params = raw.one_of(connection, column, chunk)
            statement = (
                f"SELECT {column} FROM {table} WHERE operation_id = {raw.marker(connection)} AND {among}"
            )
            found = set(connection.exec_driver_sql(statement, (self.operation.id, *params)).scalars())
            known.update({value: value in found for value in chunk})
        return known

    def _person_known(self, person_id: str) -> bool:
        if person_id not in self._people:
            self._people.update(self._known(Person.__tablename__, "id", {person_id}))
        return self._people[person_id]

    def _vehicle_known(self, code: str) -> bool:
        if code not in self._vehicles:
            self._vehicles.update(self._known(Vehicle.__tablename__, "code", {code}))
        return self._vehicles[code]


@dataclass(frozen=True)
class EventRequest:
    """One request's events, as handed to the ledger writer; with the device's clock reading
    when it sent one, the server's clock when the request arrived, and the rules that judge the
    events' times (:mod:`corridor.server.checkpoints.clock`)."""

    operation_id: str
    actor: Actor
    bodies: list[EventIn]
    device_now: datetime | None = None
    server_now: datetime | None = None
    rules: ClockRules | None = None


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
        results = record(
            session,
            operation=operation,
            senders=[requests[i].actor for i in indexes for _ in requests[i].bodies],
            bodies=[body for i in indexes for body in requests[i].bodies],
        )
        offset = 0
        syncs = []
        for i in indexes:
            size = len(requests[i].bodies)
            answers[i] = results[offset : offset + size]
            offset += size
            request = requests[i]
            now = request.server_now or utc_now()
            syncs.append(clock.Sync(request.bodies, results[offset - size : offset], request.device_now, now))
        rules = next((requests[i].rules for i in indexes if requests[i].rules is not None), None)
        if rules is not None:
            windows = operations.windows_of(operation)
            flags = clock.note(
                session,
                operation_id=operation_id,
                earliest=rules.earliest(min((w.start for w in windows), default=None)),
                ahead=rules.ahead,
                syncs=syncs,
            )
            if flags:
                for i in indexes:
                    answer = answers[i]
                    assert isinstance(answer, list)
                    answers[i] = [_flagged(result, flags) for result in answer]
    return answers


def _flagged(result: ledger.AppendResult, flags: Mapping[int, str]) -> ledger.AppendResult:
    flag = flags.get(result.position) if result.position is not None else None
    return replace(result, clock_flag=flag) if flag is not None else result


def record(
    session: Session, *, operation: Operation, senders: Sequence[Actor], bodies: Sequence[EventIn]
) -> list[ledger.AppendResult]:
    """Append events to the ledger; ``senders[i]`` sent ``bodies[i]``. One result per event.

    The request bodies go to the ledger as they are (validated by their schema as strictly as a
    :class:`ScanEvent` is), not copied into events first; a body passed twice is copied, so that
    each object has one sender."""
    checker = EventChecker(session, operation)
    checker.prefetch(bodies)
    actors: dict[int, Actor] = {}
    events = []
    for body, actor in zip(bodies, senders, strict=True):
        event = body.model_copy() if id(body) in actors else body
        actors[id(event)] = actor
        events.append(event)

    def validate(event: ledger.EventFields) -> None:
        check_sender(actors[id(event)], event)
        checker(event)

    return ledger.append(session, operation_id=operation.id, events=events, validate=validate)


def reconciliation(
    session: Session,
    *,
    operation: Operation,
    now: datetime,
    grace_minutes: float,
    states: Mapping[tuple[str, str], SubjectState] | None = None,
    devices: Sequence[DeviceLog] | None = None,
) -> Reconciliation:
    """Fold the operation's events and compare them with who was registered and the plan.

    ``states`` is the fold of the operation's events and ``devices`` its devices' logs when the
    caller has them already (kept by ``corridor.server.ledger.counts``), so that the ledger is
    not read again."""
    route: Route = operations.route_of(operation)
    if states is None:
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
    if devices is None:
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
