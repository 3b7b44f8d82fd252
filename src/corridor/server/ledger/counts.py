"""Counts and reconciliation without folding the whole ledger on every request.

The fold of an operation's events (``corridor.ops.status.fold``) and its devices' sequence
numbers are kept in memory with the ledger position they reached. A request reads only the
entries stored since (a range of the ledger's primary key) and applies them:

* an event that comes after every event already applied to its subject, in the fold's order
  (device time, then the fixed tie-break), is applied to the subject's state (``apply``);
* an event that comes earlier (a device that was offline) makes that one subject folded again
  from its own events (read through the subject index).

The answer is the full fold's, exactly (a property test compares the two on random event
sequences). The cache checks, with one look-up, that the entry it stopped at still carries the
hash it saw, and starts again if not (a restored or replaced database); it is dropped when the
operation's route changes. Reading takes the cache's lock, never the ledger's write lock.

Given the database and the key file's sealer, the kept folds are also saved
(:mod:`corridor.server.ledger.snapshots`) by a thread of their own, never by a scan's request:
after every ``every`` new entries, or ``minutes`` after the last save when any entry came since
(the thread also brings the folds it keeps up to the head that often), and when the service
stops. After a restart the first request loads the operation's snapshot, checks that the ledger
still has its hash at its position, and reads only the entries stored since.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from corridor.ops.ledger import SERVER_DEVICE, EventType, ScanEvent
from corridor.ops.reconciliation import (
    NO_GROUP,
    DeviceLog,
    PersonRecord,
    Reconciliation,
    ceasefire,
    overdue,
)
from corridor.ops.route import Route
from corridor.ops.status import STILL_INSIDE, Status, SubjectState, apply, fold, folded, order_key
from corridor.server.checkpoints import clock
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.ledger import raw, snapshots
from corridor.server.ledger.tables import LedgerHead, LedgerRow
from corridor.server.manifests.tables import Vehicle
from corridor.server.operations import service as operations
from corridor.server.operations.tables import Operation
from corridor.server.registration.tables import Household, Person

log = logging.getLogger("corridor.server.ledger")

Subject = tuple[str, str]
OrderKey = tuple[datetime, int, str, int, str]

_COLUMNS = "position, event_id, device_id, seq, device_time, type, payload, entry_hash, received_at"
PAGE = 20_000  # ledger entries read at a time


@dataclass
class _Device:
    """A device's sequence numbers as the highest received and the gaps below it (inclusive
    ranges, in order), kept up to date as each arrives: no sorting of every number received."""

    top: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)
    points: set[str] = field(default_factory=set)

    def add(self, seq: int) -> None:
        if seq > self.top:
            if seq > self.top + 1:
                self.gaps.append((self.top + 1, seq - 1))
            self.top = seq
            return
        at = bisect.bisect_right(self.gaps, (seq, _LAST)) - 1
        if at < 0:
            return  # received already
        first, last = self.gaps[at]
        if not first <= seq <= last:
            return  # received already
        pieces = [(a, b) for a, b in ((first, seq - 1), (seq + 1, last)) if a <= b]
        self.gaps[at : at + 1] = pieces

    def log(self, device_id: str) -> DeviceLog:
        return DeviceLog(device_id, (), frozenset(self.points), known_gaps=tuple(self.gaps))


_LAST = 2**64  # above any sequence number


@dataclass
class _Tally:
    """Counts of the registered people by status, overall, by group and by gathering point,
    moved as each person's status changes; and who is in transit, in alarm, or not registered."""

    status: dict[str, Status] = field(default_factory=dict)
    overall: Counter[Status] = field(default_factory=Counter)
    groups: dict[str, Counter[Status]] = field(default_factory=dict)
    points: dict[str, Counter[Status]] = field(default_factory=dict)
    transit: set[str] = field(default_factory=set)
    alarmed: set[str] = field(default_factory=set)
    strangers: set[Subject] = field(default_factory=set)  # states of subjects not registered

    @classmethod
    def of(cls, people: dict[str, PersonRecord], states: dict[Subject, SubjectState]) -> _Tally:
        """The counts of ``people`` in ``states`` made at once (what moving each would give)."""
        tally = cls()
        status, groups, points = tally.status, tally.groups, tally.points
        registered = Status.REGISTERED
        for person_id, person in people.items():
            state = states.get(("person", person_id))
            now = registered if state is None else state.status
            status[person_id] = now
            for group in person.vulnerabilities or (NO_GROUP,):
                counter = groups.get(group)
                if counter is None:
                    counter = groups[group] = Counter()
                counter[now] += 1
            point = person.gathering_point or NO_GROUP
            counter = points.get(point)
            if counter is None:
                counter = points[point] = Counter()
            counter[now] += 1
        tally.overall.update(status.values())
        tally.transit = {p for p, now in status.items() if now in _TRANSIT}
        tally.alarmed = {p for p, now in status.items() if now in _ALARMS}
        tally.strangers = {k for k in states if not (k[0] == "person" and k[1] in people)}
        return tally

    def move(self, person: PersonRecord, new: Status) -> None:
        old = self.status.get(person.person_id)
        if old == new:
            return
        counters = [
            self.overall,
            *(self.groups.setdefault(g, Counter()) for g in person.vulnerabilities or (NO_GROUP,)),
        ]
        counters.append(self.points.setdefault(person.gathering_point or NO_GROUP, Counter()))
        for counter in counters:
            if old is not None:
                counter[old] -= 1
            counter[new] += 1
        self.status[person.person_id] = new
        for members, inside in ((self.transit, new in _TRANSIT), (self.alarmed, new in _ALARMS)):
            if inside:
                members.add(person.person_id)
            else:
                members.discard(person.person_id)


_TRANSIT = frozenset({Status.BOARDED, Status.CHECKPOINT})
_ALARMS = frozenset({Status.MISSING, Status.DETAINED})


@dataclass
class OperationFold:
    """The fold of one operation's events up to ledger ``position`` (whose hash was ``at_hash``)."""

    route: Route
    position: int = 0
    at_hash: str | None = None
    states: dict[Subject, SubjectState] = field(default_factory=dict)
    last: dict[Subject, OrderKey] = field(default_factory=dict)
    devices: dict[str, _Device] = field(default_factory=dict)
    people: dict[str, PersonRecord] = field(default_factory=dict)
    registered: list[str] = field(default_factory=list)  # people registered since last looked up
    changed: set[Subject] = field(default_factory=set)  # states changed since the last tally
    tally: _Tally = field(default_factory=lambda: _Tally())
    whole: bool = False  # every registered person looked up (after the first extension)
    since: int = 0  # the position it was made from: 0, or that of the snapshot it was loaded from
    saved: int = 0  # the position of the last snapshot saved (or loaded)
    saved_at: float = field(default_factory=time.monotonic)

    def saved_copy(self) -> snapshots.Saved:
        """What a snapshot holds, copied (the states are frozen; the devices are copied)."""
        return snapshots.Saved(
            self.position,
            self.at_hash,
            dict(self.states),
            dict(self.last),
            {d: (v.top, list(v.gaps), sorted(v.points)) for d, v in self.devices.items()},
            dict(self.people),
        )

    @classmethod
    def restore(cls, route: Route, saved: snapshots.Saved) -> OperationFold:
        """The fold a snapshot holds, with its counts made again from its states and people."""
        restored = cls(
            route,
            position=saved.position,
            at_hash=saved.at_hash,
            states=dict(saved.states),
            last=dict(saved.last),
            devices={
                d: _Device(top, list(gaps), set(points)) for d, (top, gaps, points) in saved.devices.items()
            },
            people=dict(saved.people),
            whole=True,
            since=saved.position,
            saved=saved.position,
        )
        restored.tally = _Tally.of(restored.people, restored.states)
        return restored

    def add(self, events: Iterable[ScanEvent]) -> set[Subject]:
        """Apply new events in the order given; the subjects that must be folded again."""
        again: set[Subject] = set()
        for event in events:
            if event.type is EventType.REGISTERED and event.device_id == SERVER_DEVICE:
                person = event.payload.get("person_id")
                if isinstance(person, str):
                    self.registered.append(person)
            if event.device_id != SERVER_DEVICE:
                device = self.devices.setdefault(event.device_id, _Device())
                device.add(event.seq)
                if event.point:
                    device.points.add(event.point)
            subject = event.subject
            if subject is None or not folded(event.type):
                continue
            if subject in again:
                continue
            key = order_key(event)
            last = self.last.get(subject)
            if last is not None and key < last:
                again.add(subject)
                continue
            state = self.states.get(subject) or SubjectState(kind=subject[0], subject_id=subject[1])
            self.states[subject] = apply(state, event, self.route)
            self.last[subject] = key
            self.changed.add(subject)
        return again

    def refold(self, subject: Subject, events: list[ScanEvent]) -> None:
        self.changed.add(subject)
        state = fold(events, self.route).get(subject)
        if state is None:
            self.states.pop(subject, None)
            self.last.pop(subject, None)
            return
        self.states[subject] = state
        self.last[subject] = max(order_key(e) for e in events if e.subject == subject and folded(e.type))

    def count(self, new_people: Iterable[str] = ()) -> None:
        """Bring the counts up to date with the states changed and the people added."""
        for person in new_people:
            self.changed.add(("person", person))
        for kind, subject_id in self.changed:
            if kind == "person" and subject_id in self.people:
                self.tally.strangers.discard((kind, subject_id))
                state = self.states.get(("person", subject_id))
                self.tally.move(self.people[subject_id], Status.REGISTERED if state is None else state.status)
            elif (kind, subject_id) in self.states:
                self.tally.strangers.add((kind, subject_id))
            else:
                self.tally.strangers.discard((kind, subject_id))
        self.changed = set()

    def snapshot(self) -> dict[Subject, SubjectState]:
        """The states as they are now (a copy: later requests go on extending the fold)."""
        return dict(self.states)

    def device_logs(self) -> list[DeviceLog]:
        return [device.log(device_id) for device_id, device in self.devices.items()]


class LedgerCounts:
    """The folds of the operations asked about, each extended with only the new entries; saved
    as snapshots and loaded from them when ``db`` and ``sealer`` are given."""

    def __init__(
        self,
        db: Database | None = None,
        sealer: Sealer | None = None,
        *,
        every: int = 10_000,
        minutes: float = 5.0,
    ) -> None:
        self._folds: dict[str, OperationFold] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._db = db
        self._sealer = sealer
        self.every = every
        self.minutes = minutes
        self._pending: dict[str, tuple[Route, snapshots.Saved]] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def _lock(self, operation_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(operation_id, threading.Lock())

    def fold(self, session: Session, operation_id: str, route: Route) -> OperationFold:
        """The operation's fold, brought up to the ledger's head as this session sees it."""
        with self._lock(operation_id):
            current = self._folds.get(operation_id)
            connection = session.connection()
            if current is not None and (current.route != route or not _still_there(connection, current)):
                current = None
            head = session.get(LedgerHead, 1)
            top = head.count if head is not None else 0
            if current is None:
                current = self._restored(session, operation_id, route, top) or OperationFold(route)
            if top > current.position or not current.whole:
                _extend(session, current, operation_id, top)
            self._folds[operation_id] = current
            if self._db is not None and current.position > current.saved:
                moved = current.position - current.saved
                waited = time.monotonic() - current.saved_at
                if moved >= self.every or waited >= self.minutes * 60:
                    self._offer(operation_id, current)
            return current

    def reading(self, operation_id: str) -> threading.Lock:
        """The lock to hold while copying out of an operation's fold."""
        return self._lock(operation_id)

    def forget(self, operation_id: str | None = None) -> None:
        with self._guard:
            if operation_id is None:
                self._folds.clear()
            else:
                self._folds.pop(operation_id, None)

    # Snapshots ---------------------------------------------------------------------------

    def _restored(self, session: Session, operation_id: str, route: Route, top: int) -> OperationFold | None:
        if self._sealer is None or self._db is None:
            return None
        saved = snapshots.read(session, self._sealer, operation_id, route, top)
        if saved is None:
            return None
        restored = OperationFold.restore(route, saved)
        if not _still_there(session.connection(), restored):
            log.warning(
                "the ledger no longer has the hash of operation %s's counts snapshot at entry %d "
                "(rewritten, or another database): folding from the start",
                operation_id,
                saved.position,
            )
            return None
        return restored

    def _offer(self, operation_id: str, current: OperationFold) -> None:
        """Hand a copy of ``current`` (its lock held) to the thread that saves snapshots."""
        self._hand_over(operation_id, current)
        with self._wake:
            self._wake.notify()
        self.start()

    def _hand_over(self, operation_id: str, current: OperationFold) -> None:
        current.saved = current.position
        current.saved_at = time.monotonic()
        with self._wake:
            self._pending[operation_id] = (current.route, current.saved_copy())

    def start(self) -> None:
        """Start the thread that saves snapshots (once; only with a database and a sealer)."""
        if self._db is None or self._sealer is None:
            return
        with self._wake:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(target=self._run, name="counts-snapshots", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._pending and not self._stopping:
                    self._wake.wait(timeout=self.minutes * 60)
                ticked = not self._pending and not self._stopping  # the timer, not an offer
                stopping = self._stopping
            if ticked:
                self._bring_up()  # offers whatever moved since
            self.save_pending()
            if stopping:
                return

    def _bring_up(self) -> None:
        """Extend every kept fold to the head (so that their snapshots follow the ledger)."""
        assert self._db is not None
        for operation_id, kept in list(self._folds.items()):
            try:
                with self._db.reading() as session:
                    self.fold(session, operation_id, kept.route)
            except Exception:  # a dropped operation or a database away: the next tick tries again
                log.exception("the counts of operation %s could not be brought up to date", operation_id)

    def save_pending(self) -> None:
        """Write the snapshots handed over and not yet written (each in a short transaction)."""
        assert self._db is not None and self._sealer is not None
        while True:
            with self._wake:
                if not self._pending:
                    return
                operation_id, (route, saved) = self._pending.popitem()
            try:
                sealed = snapshots.seal(self._sealer, route, saved)
                if sealed is not None:
                    # One row replaced: a short transaction, not waiting for the disk (a snapshot
                    # lost with the machine is made again from the ledger; it never outlives its entries).
                    with self._db.writing(durable=False) as session:
                        snapshots.write(session, operation_id, sealed)
            except Exception:
                log.exception("the counts snapshot of operation %s could not be saved", operation_id)

    def save_now(self) -> None:
        """Save every kept fold that moved since its last snapshot, in this thread."""
        if self._db is None or self._sealer is None:
            return
        for operation_id, kept in list(self._folds.items()):
            with self._lock(operation_id):
                if kept.position > kept.saved:
                    self._hand_over(operation_id, kept)
        self.save_pending()

    def stop(self) -> None:
        """Save what moved since the last snapshots and stop the thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=60)
        self.save_now()


def _still_there(connection: Connection, cached: OperationFold) -> bool:
    if cached.position == 0:
        return True
    mark = raw.marker(connection)
    found = connection.exec_driver_sql(
        f"SELECT entry_hash FROM {LedgerRow.__tablename__} WHERE position = {mark}", (cached.position,)
    ).scalar()
    return bool(found == cached.at_hash)


def _extend(session: Session, cached: OperationFold, operation_id: str, top: int) -> None:
    connection = session.connection()
    marks = clock.marks_of(connection, operation_id, after=cached.position, top=top)
    again = cached.add(
        clock.marked(row_event(row), marks.get(row[0]))
        for row in ledger_rows(connection, operation_id, cached.position, top)
    )
    for subject in again:
        cached.refold(subject, _about(connection, operation_id, subject, top))
    if not cached.whole:
        found = _people(session, operation_id, None)
        cached.whole = True
    else:
        found = _people(session, operation_id, cached.registered) if cached.registered else []
    cached.people.update((p.person_id, p) for p in found)
    cached.registered = []
    cached.count(p.person_id for p in found)
    cached.position = top
    cached.at_hash = hash_at(connection, top)


def _people(session: Session, operation_id: str, ids: list[str] | None) -> list[PersonRecord]:
    """The operation's registered people (or those of ``ids``) as reconciliation reads them.
    People are only ever added, each with a ``registered`` entry in the ledger; the retention
    purge erases names, never what reconciliation reads."""
    query = (
        select(Person.id, Person.household_id, Household.gathering_point, Person.vulnerabilities)
        .join(Household, Household.id == Person.household_id)
        .where(Person.operation_id == operation_id)
    )
    found: list[PersonRecord] = []
    chunks = [None] if ids is None else [ids[i : i + 1000] for i in range(0, len(ids), 1000)]
    for chunk in chunks:
        selected = query if chunk is None else query.where(Person.id.in_(chunk))
        found += [PersonRecord(pid, hid, gp, tuple(v)) for pid, hid, gp, v in session.execute(selected)]
    return found


def kept_states(
    counts: LedgerCounts, session: Session, operation: Operation, *, kind: str | None = None
) -> dict[Subject, SubjectState]:
    """The operation's states (of ``kind`` only, if given) as the full fold gives them: copied
    out of its kept fold, under its lock, once brought up to the head."""
    kept = counts.fold(session, operation.id, operations.route_of(operation))
    with counts.reading(operation.id):
        if kind is None:
            return dict(kept.states)
        return {k: s for k, s in kept.states.items() if k[0] == kind}


def kept_state(
    counts: LedgerCounts, session: Session, operation: Operation, subject: Subject
) -> SubjectState | None:
    """One subject's state as the full fold gives it (None: no event about it)."""
    kept = counts.fold(session, operation.id, operations.route_of(operation))
    with counts.reading(operation.id):
        return kept.states.get(subject)


def reconciliation(
    counts: LedgerCounts,
    session: Session,
    *,
    operation: Operation,
    now: datetime,
    grace_minutes: float,
    only_counts: bool = False,
) -> Reconciliation:
    """The operation's reconciliation at ``now`` from its kept fold and counts: the full fold's
    answer (alarms in order of kind and id). Its cost follows the people in transit or in alarm
    and the vehicles, not the people registered nor the events. With ``only_counts`` (the
    dashboard's counts) no one is listed: ``not_seen``, ``overdue_vehicles`` and ``alarms`` are
    left empty, and the people in transit are not gone through."""
    route = operations.route_of(operation)
    vehicle_ids = list(session.scalars(select(Vehicle.code).where(Vehicle.operation_id == operation.id)))
    kept = counts.fold(session, operation.id, route)
    with counts.reading(operation.id):
        tally = kept.tally
        transit = [] if only_counts else [kept.states[("person", p)] for p in sorted(tally.transit)]
        alarmed = [] if only_counts else [kept.states[("person", p)] for p in sorted(tally.alarmed)]
        vehicles = [kept.states.get(("vehicle", v)) or SubjectState("vehicle", v) for v in vehicle_ids]
        known = set(vehicle_ids)
        unknown = sorted(k for k in tally.strangers if not (k[0] == "vehicle" and k[1] in known))
        overall = {str(s): tally.overall[s] for s in Status}
        groups = {g: {str(s): c[s] for s in Status} for g, c in sorted(tally.groups.items())}
        points = {g: {str(s): c[s] for s in Status} for g, c in sorted(tally.points.items())}
        inside = sum(tally.overall[s] for s in STILL_INSIDE)
        devices = kept.device_logs()
    vehicle_status = [v.status for v in vehicles]
    pending = {p for d in devices if d.gaps for p in d.points}
    grace = timedelta(minutes=grace_minutes)
    return Reconciliation(
        at=now,
        counts=overall,
        by_group=groups,
        by_gathering_point=points,
        vehicle_counts={str(s): vehicle_status.count(s) for s in Status},
        not_seen=overdue(transit, [s.status for s in transit], route, now, grace, pending),
        overdue_vehicles=[] if only_counts else overdue(vehicles, vehicle_status, route, now, grace, pending),
        data_pending={d.device_id: d.gaps for d in devices if d.gaps},
        unknown_subjects=unknown,
        ceasefire=ceasefire(operations.windows_of(operation), now, inside),
        alarms=[] if only_counts else [*alarmed, *(v for v in vehicles if v.alarm is not None)],
    )


def hash_at(connection: Connection, position: int) -> str | None:
    mark = raw.marker(connection)
    found = connection.exec_driver_sql(
        f"SELECT entry_hash FROM {LedgerRow.__tablename__} WHERE position = {mark}", (position,)
    ).scalar()
    return None if found is None else str(found)


def ledger_rows(
    connection: Connection, operation_id: str, after: int, top: int, *, only: str = ""
) -> Iterator[Any]:
    """The operation's entries after ``after`` up to ``top``, in ledger order, a page at a time;
    ``only``: a further SQL condition on the entry's columns (a constant of the caller's, never
    input). The range of the primary key leads: on SQLite ``+operation_id`` keeps the operation's
    indexes (which would walk every entry of the operation) out of the plan."""
    mark = raw.marker(connection)
    column = "+operation_id" if connection.dialect.name == "sqlite" else "operation_id"
    statement = (
        f"SELECT {_COLUMNS} FROM {LedgerRow.__tablename__} "
        f"WHERE position > {mark} AND position <= {mark} AND {column} = {mark} "
        f"{f'AND ({only}) ' if only else ''}"
        f"ORDER BY position LIMIT {PAGE}"
    )
    while after < top:
        page = connection.exec_driver_sql(statement, (after, top, operation_id)).all()
        if not page:
            return
        yield from page
        after = page[-1][0]


def _about(connection: Connection, operation_id: str, subject: Subject, top: int) -> list[ScanEvent]:
    """A subject's events up to ledger position ``top`` (through the subject index)."""
    mark = raw.marker(connection)
    statement = (
        f"SELECT {_COLUMNS} FROM {LedgerRow.__tablename__} WHERE operation_id = {mark} "
        f"AND subject_kind = {mark} AND subject_id = {mark} AND position <= {mark}"
    )
    rows = connection.exec_driver_sql(statement, (operation_id, *subject, top)).all()
    marks = clock.marks_of(connection, operation_id, top=top) if rows else {}
    return [clock.marked(row_event(row), marks.get(row[0])) for row in rows]


def row_event(row: Any) -> ScanEvent:
    _, event_id, device_id, seq, device_time, kind, payload, _, received_at = row
    return ScanEvent(
        event_id,
        device_id,
        seq,
        raw.utc_datetime(device_time),
        EventType(kind),
        json.loads(payload),
        raw.utc_datetime(received_at),
    )
