"""The kept fold of an operation's events, saved in the database and read back after a restart.

A snapshot holds what :class:`corridor.server.ledger.counts.OperationFold` keeps of the events up
to one ledger entry: each subject's state and the order key of the last event applied to it,
each device's highest sequence number, gaps and points, and the people registered as
reconciliation reads them (people are only ever added, each with a ``registered`` entry: those
registered since are looked up as the entries after the snapshot are read). It is stored with
that entry's position and hash and the route's fingerprint; it is used only while the ledger
still carries that hash at that position and the operation's route is the same (a rewritten
chain, a restored backup or a changed route make it worthless, and the fold is made from
nothing).

It is encoded and sealed before the write transaction begins, which only replaces one row. The
body is JSON, compressed, then sealed with the key file (:mod:`corridor.server.encryption`), as
every personal field at rest is: it tells each person's status. A snapshot that the key file
cannot open is ignored (``corridor rotate-key`` seals it again with the new key).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, insert, update
from sqlalchemy.orm import Session

from corridor.core.errors import InputError
from corridor.ops.reconciliation import PersonRecord
from corridor.ops.route import Route
from corridor.ops.status import Status, SubjectState
from corridor.server.columns import utc_now
from corridor.server.encryption import Sealer
from corridor.server.ledger.snapshot_tables import CountsSnapshot

log = logging.getLogger("corridor.server.ledger")

FORMAT = 1
Subject = tuple[str, str]
OrderKey = tuple[datetime, int, str, int, str]
DeviceKept = tuple[int, list[tuple[int, int]], list[str]]  # top, gaps, points

# The fields of SubjectState, in the order a snapshot lists them (a test checks that none is missed).
STATE_FIELDS = (
    "kind",
    "subject_id",
    "progress",
    "progress_point",
    "progress_at",
    "finished",
    "alarm",
    "alarm_at",
    "alarm_point",
    "last_seen_at",
    "last_seen_point",
    "vehicle_id",
    "events",
)


@dataclass
class Saved:
    """A fold's content at ledger entry ``position`` (hash ``at_hash``), copied out of it."""

    position: int
    at_hash: str | None
    states: dict[Subject, SubjectState] = field(default_factory=dict)
    last: dict[Subject, OrderKey] = field(default_factory=dict)
    devices: dict[str, DeviceKept] = field(default_factory=dict)
    people: dict[str, PersonRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class Sealed:
    """A snapshot ready to be stored: its body encoded and sealed."""

    position: int
    at_hash: str
    route_hash: str
    body: bytes


def route_hash(route: Route) -> str:
    return hashlib.sha256(repr(route).encode("utf-8")).hexdigest()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


_STATUSES = {str(s): s for s in Status}


def _status(value: str | None) -> Status | None:
    return None if value is None else _STATUSES[value]


def encode(saved: Saved) -> bytes:
    """``saved`` as compressed JSON (not yet sealed). Each state is a list of the fields of
    :data:`STATE_FIELDS` in order, then the order key of the last event applied to it."""
    time, last = _time, saved.last
    states = []
    for subject, s in saved.states.items():
        key = last.get(subject)
        states.append(
            [
                s.kind,
                s.subject_id,
                s.progress,
                s.progress_point,
                time(s.progress_at),
                s.finished and str(s.finished),
                s.alarm and str(s.alarm),
                time(s.alarm_at),
                s.alarm_point,
                time(s.last_seen_at),
                s.last_seen_point,
                s.vehicle_id,
                s.events,
                None if key is None else [key[0].isoformat(), *key[1:]],
            ]
        )
    devices = [[d, top, [list(g) for g in gaps], points] for d, (top, gaps, points) in saved.devices.items()]
    people = [
        [p.person_id, p.household_id, p.gathering_point, list(p.vulnerabilities)]
        for p in saved.people.values()
    ]
    # The same JSON as one json.dumps of the whole body, written a row at a time: one call over a
    # hundred thousand rows holds the interpreter's lock for its whole length (tenths of a second),
    # and every scan of the service waits that long; between two rows other threads get it.
    head = {"format": FORMAT, "position": saved.position, "at_hash": saved.at_hash}
    text = "".join(
        [
            _dumps(head)[:-1],
            ',"states":[',
            ",".join(map(_dumps, states)),
            '],"devices":[',
            ",".join(map(_dumps, devices)),
            '],"people":[',
            ",".join(map(_dumps, people)),
            "]}",
        ]
    )
    return zlib.compress(text.encode("utf-8"), 1)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def decode(data: bytes) -> Saved:
    """What :func:`encode` gave; ValueError if it is not a snapshot of this format."""
    body = json.loads(zlib.decompress(data))
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError("not a counts snapshot of this format")
    saved = Saved(int(body["position"]), body["at_hash"])
    parse, status, states, last = _parse, _status, saved.states, saved.last
    for kind, subject_id, progress, pp, pa, fi, al, aa, ap, ls, lp, vid, events, key in body["states"]:
        states[kind, subject_id] = SubjectState(
            kind,
            subject_id,
            progress,
            pp,
            parse(pa),
            status(fi),
            status(al),
            parse(aa),
            ap,
            parse(ls),
            lp,
            vid,
            events,
        )
        if key is not None:
            last[kind, subject_id] = (datetime.fromisoformat(key[0]), key[1], key[2], key[3], key[4])
    for device_id, top, gaps, points in body["devices"]:
        saved.devices[device_id] = (int(top), [(int(a), int(b)) for a, b in gaps], list(points))
    for person_id, household_id, gathering_point, vulnerabilities in body["people"]:
        saved.people[person_id] = PersonRecord(
            person_id, household_id, gathering_point, tuple(vulnerabilities)
        )
    return saved


def seal(sealer: Sealer, route: Route, saved: Saved) -> Sealed | None:
    """``saved`` encoded and sealed (outside any transaction); None for an empty ledger."""
    if saved.at_hash is None:
        return None
    return Sealed(saved.position, saved.at_hash, route_hash(route), sealer.seal_bytes(encode(saved)))


def write(session: Session, operation_id: str, sealed: Sealed) -> None:
    """Store ``sealed`` as the operation's snapshot (replacing the one before), without reading
    the one before: its body is megabytes at a hundred thousand people, and this runs in a write
    transaction that scans wait for."""
    values = {
        "position": sealed.position,
        "at_hash": sealed.at_hash,
        "route_hash": sealed.route_hash,
        "written_at": utc_now(),
        "body": sealed.body,
    }
    replaced = session.execute(
        update(CountsSnapshot).where(CountsSnapshot.operation_id == operation_id).values(values),
        execution_options={"synchronize_session": False},
    )
    if not cast("CursorResult[Any]", replaced).rowcount:
        session.execute(insert(CountsSnapshot).values(operation_id=operation_id, **values))


def read(session: Session, sealer: Sealer, operation_id: str, route: Route, top: int) -> Saved | None:
    """The operation's snapshot if it fits ``route`` and a ledger of ``top`` entries (the caller
    still checks the hash at its position); None otherwise, saying why in the log."""
    row = session.get(CountsSnapshot, operation_id)
    if row is None:
        return None
    if row.route_hash != route_hash(route):
        log.info(
            "the counts snapshot of operation %s is for another route: folding from the start", operation_id
        )
        return None
    if row.position > top:
        log.warning(
            "the counts snapshot of operation %s is at entry %d, past the ledger's %d entries "
            "(a restored backup?): folding from the start",
            operation_id,
            row.position,
            top,
        )
        return None
    try:
        saved = decode(sealer.open_bytes(row.body))
    except (InputError, ValueError, KeyError, TypeError, zlib.error) as exc:
        log.warning(
            "the counts snapshot of operation %s cannot be read (%s): folding from the start",
            operation_id,
            exc,
        )
        return None
    if saved.position != row.position or saved.at_hash != row.at_hash:
        log.warning(
            "the counts snapshot of operation %s does not match its row: folding from the start", operation_id
        )
        return None
    return saved
