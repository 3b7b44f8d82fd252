"""The events that follow trips, kept with the ledger position they reached, so that the trips API,
the trips page and a re-plan's live state read only the entries stored since, not the whole ledger.

Which trip an event belongs to (:func:`corridor.ops.trips.assign_trips`) depends only on vehicle
events and boardings (a person's ``boarded`` event that names a vehicle); those are kept, in the
order the assignment takes them (:func:`corridor.ops.status.order_key`, an event that came late is
put in its place), marked with their clock offsets as the ledger's reader marks them. The trip
states and who boarded what are then worked out from the kept events: the same answer as from
every event of the operation (a test compares the two as scans come in, late ones too).

Like the kept fold (:mod:`corridor.server.ledger.counts`), the kept events check with one look-up
that the entry they stopped at still carries the hash they saw, and start again if not (a restored
or replaced database); reading takes their own lock, never the ledger's write lock. They are held
beside the service's kept folds (one set per :class:`LedgerCounts`, gone with it).
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from corridor.ops.ledger import EventType, ScanEvent
from corridor.ops.status import order_key
from corridor.server.checkpoints import clock
from corridor.server.ledger.counts import LedgerCounts, hash_at, ledger_rows, row_event
from corridor.server.ledger.tables import LedgerHead

OrderKey = tuple[Any, ...]
_TRIP_ENTRIES = "subject_kind = 'vehicle' OR type = 'boarded'"  # the entries follows_trips may take


def follows_trips(event: ScanEvent) -> bool:
    """Whether :func:`corridor.ops.trips.assign_trips` reads ``event``: a vehicle's event, or a
    person's boarding of a named vehicle."""
    vehicle = event.payload.get("vehicle_id")
    if not isinstance(vehicle, str) or not vehicle:
        return False
    person = event.payload.get("person_id")
    return not (isinstance(person, str) and person) or event.type is EventType.BOARDED


@dataclass
class _Kept:
    """An operation's trip events up to ledger ``position`` (whose hash was ``at_hash``)."""

    position: int = 0
    at_hash: str | None = None
    keys: list[OrderKey] = field(default_factory=list)
    events: list[ScanEvent] = field(default_factory=list)

    def add(self, event: ScanEvent) -> None:
        key = order_key(event)
        at = bisect.bisect_right(self.keys, key)
        self.keys.insert(at, key)
        self.events.insert(at, event)


class KeptTrips:
    """The trip events of the operations asked about, each brought up with only the new entries."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, operation_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(operation_id, threading.Lock())

    def events(self, session: Session, operation_id: str) -> list[ScanEvent]:
        """The operation's trip events up to the ledger's head as ``session`` sees it, in order."""
        with self._lock(operation_id):
            connection = session.connection()
            kept = self._kept.get(operation_id)
            if kept is not None and not _still_there(connection, kept):
                kept = None
            head = session.get(LedgerHead, 1)
            top = head.count if head is not None else 0
            if kept is None:
                kept = _Kept()
            if top > kept.position:
                marks = clock.marks_of(connection, operation_id, after=kept.position, top=top)
                for position, event in _rows(connection, operation_id, kept.position, top):
                    if follows_trips(event):
                        kept.add(clock.marked(event, marks.get(position)))
                kept.position = top
                kept.at_hash = hash_at(connection, top)
            self._kept[operation_id] = kept
            return list(kept.events)

    def forget(self, operation_id: str | None = None) -> None:
        with self._guard:
            if operation_id is None:
                self._kept.clear()
            else:
                self._kept.pop(operation_id, None)


_beside: weakref.WeakKeyDictionary[LedgerCounts, KeptTrips] = weakref.WeakKeyDictionary()
_beside_guard = threading.Lock()


def kept_trips(counts: LedgerCounts) -> KeptTrips:
    """The kept trip events held beside the service's kept folds ``counts``."""
    with _beside_guard:
        found = _beside.get(counts)
        if found is None:
            found = _beside[counts] = KeptTrips()
        return found


def _still_there(connection: Connection, kept: _Kept) -> bool:
    return kept.position == 0 or hash_at(connection, kept.position) == kept.at_hash


def _rows(connection: Connection, operation_id: str, after: int, top: int) -> Iterator[tuple[int, ScanEvent]]:
    """The operation's entries about a vehicle or a boarding after ``after`` up to ``top``, in ledger
    order, a page at a time (read as the kept fold reads the ledger)."""
    for row in ledger_rows(connection, operation_id, after, top, only=_TRIP_ENTRIES):
        yield row[0], row_event(row)


__all__ = ["KeptTrips", "follows_trips", "kept_trips"]
