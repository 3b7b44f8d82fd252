"""Registering households and people, reading them back, and finding possible duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.ops.ledger import EventType
from corridor.server.columns import utc_now
from corridor.server.encryption import Sealer
from corridor.server.errors import NotFoundError
from corridor.server.ids import new_id
from corridor.server.ledger.service import append_server_events, lock_head
from corridor.server.manifests.roster_tables import RosterChange
from corridor.server.public.consent import Granted, grant
from corridor.server.registration import duplicates as matching
from corridor.server.registration.schemas import HouseholdIn, PersonOut, PossibleDuplicate
from corridor.server.registration.tables import Household, Person

# At most this many earlier registrations are named as possible duplicates of one person.
MAX_MATCHES = matching.MAX_MATCHES


@dataclass(frozen=True)
class Registered:
    household: Household
    people: list[Person]
    duplicates: list[PossibleDuplicate]
    tracing: list[Granted] = field(default_factory=list)


def register_household(
    session: Session,
    *,
    sealer: Sealer,
    operation_id: str,
    body: HouseholdIn,
    names: matching.Names | None = None,
    ids: Sequence[str] | None = None,
    household_id: str | None = None,
    shown: Sequence[Sequence[str]] | None = None,
) -> Registered:
    """Store a household and its people (names encrypted), each with a ``registered`` event.

    ``names`` keeps the names opened for the duplicate look-up across calls (an import);
    ``ids`` gives the people their ids (an import made idempotent by the form's submission ids);
    ``household_id`` the household's; ``shown``, the possible duplicates of each person worked
    out beforehand (an import: :class:`matching.ImportMatcher`), in place of the look-up.

    The ledger's head is locked first, as an import's chunk locks it (:func:`lock_first`): on
    PostgreSQL the two take their locks in the same order (no deadlock), and the wristband check
    sees every registration committed before it."""
    lock_first(session)
    check_wristbands(session, operation_id, [p.wristband for p in body.people if p.wristband])
    household, people = made_household(
        sealer,
        operation_id=operation_id,
        body=body,
        household_id=household_id or new_id(),
        ids=ids if ids is not None else [new_id() for _ in body.people],
    )
    session.add(household)
    if shown is None:
        duplicates = _duplicates_of(session, names or matching.Names(sealer), operation_id, body, people)
    else:
        duplicates = [
            PossibleDuplicate(person_id=person.id, matches=list(found))
            for person, found in zip(people, shown, strict=True)
            if found
        ]
    session.add_all(people)
    session.flush()
    append_server_events(
        session,
        operation_id=operation_id,
        type=EventType.REGISTERED,
        payloads=[{"person_id": p.id, "household_id": household.id} for p in people],
    )
    tracing = [
        grant(
            session,
            sealer=sealer,
            operation_id=operation_id,
            person_id=people[c.person].id,
            relative=c.relative,
        )
        for c in body.tracing
    ]
    return Registered(household, people, duplicates, tracing)


def made_household(
    sealer: Sealer,
    *,
    operation_id: str,
    body: HouseholdIn,
    household_id: str,
    ids: Sequence[str],
) -> tuple[Household, list[Person]]:
    """A household and its people as :func:`register_household` stores them (names sealed),
    made with no session (an import makes them before its write transaction)."""
    now = utc_now()
    household = Household(
        id=household_id,
        operation_id=operation_id,
        reference=body.reference,
        gathering_point=body.gathering_point,
        created_at=now,
    )
    people = [
        Person(
            id=ids[number],
            operation_id=operation_id,
            household_id=household_id,
            name_sealed=sealer.seal(item.name),
            phone_sealed=sealer.seal(item.phone) if item.phone else None,
            name_index=matching.name_index(sealer, item.name),
            age_band=item.age_band,
            sex=item.sex,
            vulnerabilities=list(item.vulnerabilities),
            gathering_point=body.gathering_point,
            wristband=item.wristband,
            registered_at=now,
        )
        for number, item in enumerate(body.people)
    ]
    return household, people


def store_made(
    session: Session, *, operation_id: str, made: Sequence[tuple[Household, list[Person]]]
) -> None:
    """Store households made by :func:`made_household` (their wristbands checked by the
    caller), with one insert of the households, one of their people and one append of their
    ``registered`` events, in order. The inserts are the table's own (no unit of work: a third
    of the time an import held the write lock went to the ORM's flush); the objects stay
    outside the session, so the phones' roster changes (:mod:`corridor.server.manifests.roster_tables`,
    noted on an ORM flush) are inserted here too, one per person."""
    if not made:
        return
    connection = session.connection()
    connection.execute(insert(Household), [_row(household) for household, _ in made])
    connection.execute(insert(Person), [_row(p) for _, people in made for p in people])
    now = utc_now()
    connection.execute(
        insert(RosterChange),
        [
            {"operation_id": operation_id, "subject_kind": "person", "subject_id": p.id, "changed_at": now}
            for _, people in made
            for p in people
        ],
    )
    append_server_events(
        session,
        operation_id=operation_id,
        type=EventType.REGISTERED,
        payloads=[{"person_id": p.id, "household_id": h.id} for h, people in made for p in people],
    )


def lock_first(session: Session) -> None:
    """Lock the ledger's head before anything else of a transaction that registers people (a
    registration, an import's chunk): their ``registered`` events lock it anyway, and taking it
    first orders them on PostgreSQL, where a person inserted before it would wait for another
    transaction holding the head while that one waits for the person's wristband or id (a deadlock,
    a 500). On SQLite, whose writes wait for one another already, it costs one read."""
    lock_head(session)


def _row(item: Household | Person) -> dict[str, object]:
    """An object's column values, as its table's insert takes them (unset ones are None)."""
    values = item.__dict__
    return {column.key: values.get(column.key) for column in type(item).__mapper__.columns}


def taken_wristbands(session: Session, operation_id: str, wristbands: Sequence[str]) -> set[str]:
    """Those of ``wristbands`` already given to someone in the operation."""
    if not wristbands:
        return set()
    query = select(Person.wristband).where(
        Person.operation_id == operation_id, Person.wristband.in_(list(wristbands))
    )
    return {w for w in session.scalars(query) if w}


def check_wristbands(session: Session, operation_id: str, wristbands: list[str]) -> None:
    """409 if a wristband is given twice in ``wristbands`` or already in the operation."""
    repeated = sorted({w for w in wristbands if wristbands.count(w) > 1})
    clash = sorted(set(repeated) | taken_wristbands(session, operation_id, wristbands))
    if clash:
        raise ConflictError(
            f"wristband {', '.join(clash)} is already given to someone",
            where="people.wristband",
            hint="give each person their own wristband",
        )


def _duplicates_of(
    session: Session, names: matching.Names, operation_id: str, body: HouseholdIn, people: Sequence[Person]
) -> list[PossibleDuplicate]:
    """For each of ``people`` (not stored yet), the registered people the matcher takes for them
    (name, sex, age band, household; see :func:`matching.household_matches`). One statement."""
    lookups = [matching.lookup_indexes(names.sealer, item.name) for item in body.people]
    found = matching.candidates(session, names, operation_id, (i for found in lookups for i in found))
    records = [
        matching.Record(item.name, item.sex, item.age_band, person.household_id)
        for person, item in zip(people, body.people, strict=True)
    ]
    shown = matching.household_matches(records, lookups, found, names.alike)
    return [
        PossibleDuplicate(person_id=person.id, matches=ids)
        for person, ids in zip(people, shown, strict=True)
        if ids
    ]


def possible_duplicates(
    session: Session, *, sealer: Sealer, operation_id: str, name: str, age_band: str, sex: str
) -> list[str]:
    """Ids of registered people who may be the person about to be registered (the same rule as
    at registration), so the registrar is warned while typing; reads only."""
    indexes = matching.lookup_indexes(sealer, name)
    found = matching.candidates(session, matching.Names(sealer), operation_id, indexes)
    return matching.matches(matching.Record(name, sex, age_band), indexes, found)


def household_of(session: Session, operation_id: str, household_id: str) -> tuple[Household, list[Person]]:
    """A household and its people (for printing their wristbands)."""
    household = session.get(Household, household_id)
    if household is None or household.operation_id != operation_id:
        raise NotFoundError(f"no household {household_id} in this operation", where="household_id")
    people = session.scalars(
        select(Person).where(Person.household_id == household_id).order_by(Person.registered_at, Person.id)
    )
    return household, list(people)


def person_out(sealer: Sealer, person: Person) -> PersonOut:
    return PersonOut(
        id=person.id,
        household_id=person.household_id,
        name=sealer.open(person.name_sealed) if person.name_sealed else None,
        age_band=person.age_band,
        sex=person.sex,
        vulnerabilities=list(person.vulnerabilities),
        gathering_point=person.gathering_point,
        wristband=person.wristband,
        registered_at=person.registered_at,
    )


def get_person(session: Session, operation_id: str, person_id: str) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.operation_id != operation_id:
        raise NotFoundError(f"no person {person_id} in this operation", where="person_id")
    return person


def page_of_people(session: Session, operation_id: str, *, after: str | None, limit: int) -> list[Person]:
    query = select(Person).where(Person.operation_id == operation_id).order_by(Person.id).limit(limit)
    if after:
        query = query.where(Person.id > after)
    return list(session.scalars(query))


def duplicate_groups(session: Session, sealer: Sealer, operation_id: str) -> list[list[str]]:
    """Groups of people the matcher takes for one person (stored under one key)."""
    return matching.groups(session, sealer, operation_id)
