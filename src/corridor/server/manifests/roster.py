"""The roster a scanning phone holds: only the people whose manifest passes its route point,
and the people registered at that point (their gathering point) who are on no manifest yet, kept
current by deltas.

A person registered in the operation and scanned where they gather must be recognised there,
even before any vehicle is theirs: the phone records the sighting (noting "on no manifest") and
reconciliation counts them like anyone registered. Their row carries no vehicle; once they are
put on a manifest that does not pass the point, the phone drops them (``gone``).

A phone asks with the cursor of its last answer and gets only what changed since: people whose
row changed (as seen from its point), and the ids of people whose manifest no longer passes it.
A phone with no cursor, a cursor for another point, one older than ``MAX_AGE``, or one behind a
change of trips or plans gets the whole roster again (``full``).

Which manifests pass a point: a trip laid out from the current convoy plan passes the points
whose network nodes its loaded drive (``haul``) goes through, boarding included; a trip the plan
does not describe (vehicles and manifests made by hand) passes every point. A route point stands
at the node the published plan names for it, else at the node of its own id; a point whose node
no trip of the plan goes through is passed by every trip (nothing says where it stands).

Rows are as seen from the phone's point: ``[id, wristband, vehicle, status, progress, name]``,
where ``status`` is ``arrived``, ``returned``, ``missing`` or ``detained`` when the person is so,
else empty, and ``progress`` is the furthest route point reached when it is this point or beyond,
else -1: what changes a scan's answer there. A person boarding elsewhere, or passing an earlier
checkpoint, changes nothing a phone further on answers, so it costs that phone nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from corridor.core.errors import InputError
from corridor.ops.route import Route
from corridor.ops.status import SubjectState, fold
from corridor.server.convoys import service as convoys
from corridor.server.encryption import Sealer
from corridor.server.ledger.service import row_to_event
from corridor.server.ledger.tables import LedgerRow
from corridor.server.manifests.roster_tables import EVERY_OPERATION, RosterChange
from corridor.server.manifests.tables import ManifestEntry, Vehicle
from corridor.server.operations import service as operations
from corridor.server.operations import versions
from corridor.server.operations.tables import Operation, PlanVersion
from corridor.server.registration.tables import Person

# A cursor older than this gets the whole roster (its changes may no longer be all there).
MAX_AGE = 6 * 3600
# Statuses that change a scan's answer; any other is sent as "".
ANSWERING = ("arrived", "returned", "missing", "detained")
CHUNK = 500


@dataclass(frozen=True)
class Cursor:
    """Where a phone's roster stands: the last roster change and ledger entry it reflects, when
    it was made (seconds since the epoch) and for which point."""

    change: int
    position: int
    made: int
    point: str

    def text(self) -> str:
        return f"{self.change}.{self.position}.{self.made}.{self.point}"

    @staticmethod
    def parse(text: str | None) -> Cursor | None:
        """The cursor written by :meth:`text`; None for anything else (the phone loads whole)."""
        parts = (text or "").split(".", 3)
        if len(parts) != 4 or not all(p.isdigit() and len(p) < 20 for p in parts[:3]):
            return None
        return Cursor(int(parts[0]), int(parts[1]), int(parts[2]), parts[3])


@dataclass
class Roster:
    cursor: Cursor
    full: bool
    people: list[list[Any]]
    gone: list[str]
    vehicles: list[list[Any]]

    def body(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor.text(),
            "full": self.full,
            "people": self.people,
            "gone": self.gone,
            "vehicles": self.vehicles,
        }


def roster(
    session: Session,
    *,
    operation_id: str,
    point: str,
    since: str | None,
    sealer: Sealer | None,
    now: float | None = None,
) -> Roster:
    """The roster of the phone at ``point`` (whole, or the changes since the cursor ``since``);
    names only with a ``sealer`` (roles allowed to read manifests)."""
    operation = operations.get(session, operation_id)
    route = operations.route_of(operation)
    index = route.index(point)
    if index is None:
        raise InputError(
            f"point {point!r} is not on the route of this operation",
            where="point",
            hint="give the id of one of the route's points",
        )
    clock = int(time.time() if now is None else now)
    change = session.scalar(select(func.max(RosterChange.seq))) or 0
    position = session.scalar(select(func.max(LedgerRow.position))) or 0
    cursor = Cursor(change, position, clock, point)
    passes = passing(session, operation, route, point)
    view = _Viewer(session, operation_id, route, index, sealer, passes, point)
    old = Cursor.parse(since)
    whole = (
        old is None
        or old.point != point
        or clock - old.made > MAX_AGE
        or old.made > clock + 300
        or old.change > change
        or old.position > position
    )
    if not whole and old is not None:
        changed = list(
            session.execute(
                select(RosterChange.subject_kind, RosterChange.subject_id).where(
                    RosterChange.seq > old.change,
                    RosterChange.seq <= change,
                    RosterChange.operation_id.in_((operation_id, EVERY_OPERATION)),
                )
            )
        )
        if any(kind == "all" for kind, _ in changed):
            whole = True
        else:
            return _delta(session, view, cursor, old, changed)
    people = view.people(None)
    vehicles = view.vehicles(None)
    return Roster(cursor, True, people, [], vehicles)


def _delta(session: Session, view: _Viewer, cursor: Cursor, old: Cursor, changed: list[Any]) -> Roster:
    """Rows that differ, as seen from the phone's point, between ``old`` and ``cursor``."""
    moved_people = {sid for kind, sid in changed if kind == "person"}
    moved_vehicles = {sid for kind, sid in changed if kind == "vehicle"}
    scanned = session.execute(
        select(LedgerRow.subject_kind, LedgerRow.subject_id)
        .where(
            LedgerRow.operation_id == view.operation_id,
            LedgerRow.position > old.position,
            LedgerRow.position <= cursor.position,
            LedgerRow.subject_kind.in_(("person", "vehicle")),
        )
        .distinct()
    )
    scanned_people: set[str] = set()
    scanned_vehicles: set[str] = set()
    for kind, sid in scanned:
        (scanned_people if kind == "person" else scanned_vehicles).add(str(sid))
    people: list[list[Any]] = []
    gone: list[str] = []
    # Manifest or person changed: the row whole, or its id if it no longer passes this point.
    if moved_people:
        rows = {row[0]: row for row in view.people(sorted(moved_people))}
        people.extend(rows.values())
        gone.extend(sorted(moved_people - rows.keys()))
    # Only scanned: the row if what a scan here answers changed.
    only_scanned = sorted(scanned_people - moved_people)
    if only_scanned:
        people.extend(view.people(only_scanned, since=old.position))
    vehicles = view.vehicles(sorted(moved_vehicles))
    vehicles += view.vehicles(sorted(scanned_vehicles - moved_vehicles), since=old.position)
    return Roster(cursor, False, people, gone, vehicles)


class _Viewer:
    """Rows of people and vehicles as seen from one point of the route."""

    def __init__(
        self,
        session: Session,
        operation_id: str,
        route: Route,
        index: int,
        sealer: Sealer | None,
        passes: Callable[[str, int], bool],
        point: str,
    ) -> None:
        self.session = session
        self.point = point
        self.operation_id = operation_id
        self.route = route
        self.index = index
        self.sealer = sealer
        self.passes = passes
        self._all: dict[tuple[str, str], SubjectState] | None = None

    def _states(
        self, kind: str, ids: list[str] | None, until: int | None = None
    ) -> dict[tuple[str, str], SubjectState]:
        query = select(LedgerRow).where(LedgerRow.operation_id == self.operation_id)
        if until is not None:
            query = query.where(LedgerRow.position <= until)
        if ids is None:
            if self._all is None:
                self._all = fold((row_to_event(r) for r in self.session.scalars(query)), self.route)
            return self._all
        states: dict[tuple[str, str], SubjectState] = {}
        for chunk in _chunks(ids):
            rows = self.session.scalars(
                query.where(LedgerRow.subject_kind == kind, LedgerRow.subject_id.in_(chunk))
            )
            states.update(fold((row_to_event(r) for r in rows), self.route))
        return states

    def seen(self, state: SubjectState | None) -> list[Any]:
        """``[status, progress]`` as they bear on a scan's answer at this point."""
        if state is None:
            return ["", -1]
        status = str(state.status)
        progress = state.progress if state.progress >= self.index else -1
        return [status if status in ANSWERING else "", progress]

    def people(self, ids: list[str] | None, since: int | None = None) -> list[list[Any]]:
        """Rows of the people (``ids``, or everyone) whose manifest passes this point, or who
        gather here and are on no manifest; with ``since``, only those whose row differs from
        what it was at that ledger position."""
        query = (
            select(
                Person.id,
                Person.wristband,
                ManifestEntry.vehicle_code,
                ManifestEntry.trip,
                Person.name_sealed,
            )
            .outerjoin(ManifestEntry, ManifestEntry.person_id == Person.id)
            .where(
                Person.operation_id == self.operation_id,
                Person.purged_at.is_(None),
                or_(ManifestEntry.person_id.is_not(None), Person.gathering_point == self.point),
            )
        )
        found: list[Any] = []
        if ids is None:
            found = list(self.session.execute(query.order_by(Person.id)))
        else:
            for chunk in _chunks(ids):
                found.extend(self.session.execute(query.where(Person.id.in_(chunk))))
        found = [r for r in found if r[2] is None or self.passes(r[2], r[3])]
        wanted = None if ids is None else [r[0] for r in found]
        states = self._states("person", wanted)
        before = self._states("person", wanted, until=since) if since is not None else {}
        rows = []
        for person_id, wristband, vehicle, _trip, sealed in found:
            now = self.seen(states.get(("person", person_id)))
            if since is not None and now == self.seen(before.get(("person", person_id))):
                continue
            name = self.sealer.open(sealed) if self.sealer is not None and sealed else None
            rows.append([person_id, wristband, vehicle, *now, name])
        return rows

    def vehicles(self, codes: list[str] | None, since: int | None = None) -> list[list[Any]]:
        """``[code, status, progress]`` of the vehicles (``codes``, or all)."""
        query = select(Vehicle.code).where(Vehicle.operation_id == self.operation_id)
        if codes is not None:
            if not codes:
                return []
            query = query.where(Vehicle.code.in_(codes))
        found = list(self.session.scalars(query.order_by(Vehicle.code)))
        states = self._states("vehicle", None if codes is None else found)
        before = self._states("vehicle", found, until=since) if since is not None else {}
        rows = []
        for code in found:
            now = self.seen(states.get(("vehicle", code)))
            if since is not None and now == self.seen(before.get(("vehicle", code))):
                continue
            rows.append([code, *now])
        return rows


def passing(session: Session, operation: Operation, route: Route, point: str) -> Callable[[str, int], bool]:
    """Whether trip ``(vehicle code, number)`` passes ``point`` (see the module's docstring)."""
    node = _nodes(session, operation).get(point, point)
    version = convoys.current(session, operation.id)
    if version is None:
        return lambda _vehicle, _trip: True
    key = (operation.id, version.version, version.plan_hash)
    paths = _PATHS.get(key)
    if paths is None:
        paths = _paths(version.body, version.vehicles, version.offsets)
        _PATHS.clear()  # one plan kept: the current one of the operation asked last
        _PATHS[key] = paths

    if not any(node in path for path in paths.values()):
        # No trip of the plan names this point's node (no published plan says where the point
        # stands on the network): nothing tells which trips pass it, so all do.
        return lambda _vehicle, _trip: True

    def passes(vehicle: str, trip: int) -> bool:
        path = paths.get((vehicle, trip))
        return path is None or node in path

    return passes


_PATHS: dict[tuple[str, int, str], dict[tuple[str, int], frozenset[str]]] = {}


def _paths(
    body: dict[str, Any], codes: dict[str, str], offsets: dict[str, int]
) -> dict[tuple[str, int], frozenset[str]]:
    """The nodes each trip of a convoy plan passes loaded (boarding included), by the
    operation's (vehicle code, trip number)."""
    paths: dict[tuple[str, int], frozenset[str]] = {}
    for trip in body.get("trips", []):
        vehicle = str(trip["vehicle"])
        key = (codes.get(vehicle, vehicle), int(offsets.get(vehicle, 0)) + int(trip["number"]))
        paths[key] = frozenset({str(trip["gathering"]), *(str(n) for n in trip["haul"]["nodes"])})
    return paths


def _nodes(session: Session, operation: Operation) -> dict[str, str]:
    """Route point id -> network node, as the operation's published plan names them."""
    listed = list(session.scalars(select(PlanVersion).where(PlanVersion.operation_id == operation.id)))
    version = versions.current(listed, operation)
    return dict(version.nodes) if version is not None else {}


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in ids:
        chunk.append(value)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
