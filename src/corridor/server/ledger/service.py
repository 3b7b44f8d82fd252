"""Appending to the ledger under its rules, and reading it back as events.

Appends are serialised by locking the head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
a single writer), so every entry's position and chain hash follow the one before without gaps.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, TextualSelect, insert, select, text
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, CorridorError, InputError
from corridor.ops.ledger import (
    SERVER_DEVICE,
    EventType,
    ScanEvent,
    canonical_json,
    check_repeat,
    check_sequence_owner,
    sha256_hex,
    utc_text,
)
from corridor.server.columns import utc_now
from corridor.server.errors import NotFoundError
from corridor.server.ids import new_id
from corridor.server.ledger.tables import LedgerHead, LedgerRow

HEAD_ID = 1


class Outcome(StrEnum):
    STORED = "stored"
    REPEAT = "repeat"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True)
class AppendResult:
    event_id: str
    outcome: Outcome
    position: int | None = None
    error: CorridorError | None = None


Validator = Callable[[ScanEvent], None]


def row_to_event(row: LedgerRow) -> ScanEvent:
    return ScanEvent(
        event_id=row.event_id,
        device_id=row.device_id,
        seq=row.seq,
        device_time=row.device_time,
        type=EventType(row.type),
        payload=json.loads(row.payload),
    )


def lock_head(session: Session) -> LedgerHead:
    head = session.scalar(select(LedgerHead).where(LedgerHead.id == HEAD_ID).with_for_update())
    if head is None:
        raise NotFoundError(
            "the ledger head row is missing", hint="run the database migrations (alembic upgrade)"
        )
    return head


def append(
    session: Session, *, operation_id: str, events: Sequence[ScanEvent], validate: Validator
) -> list[AppendResult]:
    """Append each event under the ledger rules; one result per event, in order.

    A harmless repeat changes nothing; a conflicting repeat or an invalid event is reported and
    skipped, and the others are stored all the same. What is already stored is looked up for the
    whole list at once and the new entries are inserted together, so a batch costs a handful of
    statements, not a handful per event.
    """
    head = lock_head(session)
    known = _stored(session, events)
    results = []
    rows: list[dict[str, Any]] = []
    count, previous = head.count, head.head_hash
    for event in events:
        try:
            repeat = _repeat_of(known, operation_id, event)
            if repeat is not None:
                results.append(repeat)
                continue
            validate(event)
        except ConflictError as exc:
            results.append(AppendResult(event.event_id, Outcome.CONFLICT, error=exc))
            continue
        except InputError as exc:
            results.append(AppendResult(event.event_id, Outcome.REJECTED, error=exc))
            continue
        count += 1
        row = _row(count, previous, operation_id, event)
        previous = row["entry_hash"]
        rows.append(row)
        known.by_id[event.event_id] = (event, operation_id, count)
        known.by_seq[(event.device_id, event.seq)] = event
        results.append(AppendResult(event.event_id, Outcome.STORED, count))
    if rows:
        session.connection().execute(insert(_LEDGER_TABLE), rows)
        head.count, head.head_hash = count, previous
    return results


@dataclass
class _Known:
    by_id: dict[str, tuple[ScanEvent, str, int]]
    by_seq: dict[tuple[str, int], ScanEvent]


_LEDGER_TABLE = cast(Table, LedgerRow.__table__)
_EVENT_COLUMNS = (
    LedgerRow.event_id,
    LedgerRow.device_id,
    LedgerRow.seq,
    LedgerRow.device_time,
    LedgerRow.type,
    LedgerRow.payload,
    LedgerRow.operation_id,
    LedgerRow.position,
)


def _stored(session: Session, events: Sequence[ScanEvent]) -> _Known:
    """The stored events that share an id, or a device and seq, with any of ``events``."""
    known = _Known({}, {})
    ids = sorted({e.event_id for e in events})
    for chunk in _chunks(ids):
        for row in session.execute(select(*_EVENT_COLUMNS).where(LedgerRow.event_id.in_(chunk))):
            known.by_id[row.event_id] = (_event_of(row), row.operation_id, row.position)
    pairs = sorted({(e.device_id, e.seq) for e in events})
    for chunk in _chunks(pairs, 200):
        for row in session.execute(_pairs_query(len(chunk)), _pair_params(chunk)):
            known.by_seq[(row.device_id, row.seq)] = _event_of(row)
    return known


@functools.lru_cache(maxsize=256)
def _pairs_query(count: int) -> TextualSelect:
    """Stored entries with any of ``count`` (device_id, seq) pairs. A join with a VALUES list:
    both SQLite and PostgreSQL search the (device_id, seq) index for each pair, which SQLite does
    not do for a row-value IN."""
    values = ", ".join(f"(:d{i}, :s{i})" for i in range(count))
    columns = ", ".join(f"l.{c.key}" for c in _EVENT_COLUMNS)
    return text(
        f"WITH wanted (device_id, seq) AS (VALUES {values}) "
        f"SELECT {columns} FROM wanted JOIN ledger_entries l "
        "ON l.device_id = wanted.device_id AND l.seq = wanted.seq"
    ).columns(*(c.expression for c in _EVENT_COLUMNS))


def _pair_params(pairs: list[tuple[str, int]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (device_id, seq) in enumerate(pairs):
        params[f"d{i}"] = device_id
        params[f"s{i}"] = seq
    return params


def _event_of(row: Any) -> ScanEvent:
    return ScanEvent(
        event_id=row.event_id,
        device_id=row.device_id,
        seq=row.seq,
        device_time=row.device_time,
        type=EventType(row.type),
        payload=json.loads(row.payload),
    )


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _repeat_of(known: _Known, operation_id: str, event: ScanEvent) -> AppendResult | None:
    """The result for a repeat of a known event; None for a new one; ConflictError if it clashes."""
    stored = known.by_id.get(event.event_id)
    if stored is not None:
        check_repeat(stored[0], event)
        if stored[1] != operation_id:
            raise ConflictError(
                f"event {event.event_id} belongs to another operation",
                where=f"event_id {event.event_id}",
                hint="send each event to the operation it was recorded in",
            )
        return AppendResult(event.event_id, Outcome.REPEAT, stored[2])
    owner = known.by_seq.get((event.device_id, event.seq))
    if owner is not None:
        check_sequence_owner(owner, event)
    return None


def _row(position: int, previous: str, operation_id: str, event: ScanEvent) -> dict[str, Any]:
    subject = event.subject
    payload = canonical_json(dict(event.payload))
    payload_sha256 = sha256_hex(payload)
    return {
        "position": position,
        "operation_id": operation_id,
        "event_id": event.event_id,
        "device_id": event.device_id,
        "seq": event.seq,
        "device_time": event.device_time,
        "received_at": utc_now(),
        "type": str(event.type),
        "subject_kind": subject[0] if subject else None,
        "subject_id": subject[1] if subject else None,
        "point": event.point,
        "payload": payload.decode("utf-8"),
        "payload_sha256": payload_sha256,
        "previous_hash": previous,
        "entry_hash": _entry_hash(previous, event, payload_sha256),
    }


def _entry_hash(previous: str, event: ScanEvent, payload_sha256: str) -> str:
    """:func:`corridor.ops.ledger.entry_hash`, given the payload's hash already made for the row:
    the same bytes are hashed (``ScanEvent.content()`` with that hash), with the payload's
    canonical JSON made once per event instead of three times."""
    content = {
        "event_id": event.event_id,
        "device_id": event.device_id,
        "seq": event.seq,
        "device_time": utc_text(event.device_time),
        "type": str(event.type),
        "payload": dict(event.payload),
        "payload_sha256": payload_sha256,
    }
    return sha256_hex(previous.encode("ascii") + b"\n" + canonical_json(content))


def append_server_event(
    session: Session, *, operation_id: str, type: EventType, payload: dict[str, Any]
) -> ScanEvent:
    """Record an event the server makes itself (registration, incident, evidence custody)."""
    [event] = append_server_events(session, operation_id=operation_id, type=type, payloads=[payload])
    return event


def append_server_events(
    session: Session, *, operation_id: str, type: EventType, payloads: Sequence[dict[str, Any]]
) -> list[ScanEvent]:
    """Record several events the server makes itself, in one insert."""
    head = lock_head(session)
    now = utc_now()
    events = []
    rows = []
    count, previous = head.count, head.head_hash
    for payload in payloads:
        head.server_seq += 1
        event = ScanEvent(
            event_id=f"server-{new_id()}",
            device_id=SERVER_DEVICE,
            seq=head.server_seq,
            device_time=now,
            type=type,
            payload=payload,
        )
        count += 1
        row = _row(count, previous, operation_id, event)
        previous = row["entry_hash"]
        rows.append(row)
        events.append(event)
    if rows:
        session.connection().execute(insert(_LEDGER_TABLE), rows)
        head.count, head.head_hash = count, previous
    return events


def events_of(session: Session, operation_id: str) -> Iterator[ScanEvent]:
    """Every event of an operation that names a person or vehicle."""
    query = (
        select(LedgerRow)
        .where(LedgerRow.operation_id == operation_id, LedgerRow.subject_kind.is_not(None))
        .execution_options(yield_per=2000)
    )
    for row in session.scalars(query):
        yield row_to_event(row)


def events_about(session: Session, operation_id: str, kind: str, subject_id: str) -> list[ScanEvent]:
    query = select(LedgerRow).where(
        LedgerRow.operation_id == operation_id,
        LedgerRow.subject_kind == kind,
        LedgerRow.subject_id == subject_id,
    )
    return [row_to_event(row) for row in session.scalars(query)]


def device_sequences(session: Session, operation_id: str) -> dict[str, tuple[list[int], set[str]]]:
    """For each device of an operation (not the server): the seqs received and points reported."""
    logs: dict[str, tuple[list[int], set[str]]] = {}
    query = select(LedgerRow.device_id, LedgerRow.seq, LedgerRow.point).where(
        LedgerRow.operation_id == operation_id, LedgerRow.device_id != SERVER_DEVICE
    )
    for device_id, seq, point in session.execute(query):
        seqs, points = logs.setdefault(device_id, ([], set()))
        seqs.append(seq)
        if point:
            points.add(point)
    return logs
