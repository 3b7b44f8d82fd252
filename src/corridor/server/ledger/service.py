"""Appending to the ledger under its rules, and reading it back as events.

Appends are serialised by locking the head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
a single writer), so every entry's position and chain hash follow the one before without gaps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import BigInteger, Connection, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from corridor.core.errors import ConflictError, CorridorError, InputError
from corridor.ops.ledger import (
    SERVER_DEVICE,
    EventType,
    ScanEvent,
    canonical_json,
    check_repeat,
    check_sequence_owner,
    utc_text,
)
from corridor.server.columns import UTCDateTime, utc_now
from corridor.server.errors import NotFoundError
from corridor.server.ids import new_id
from corridor.server.ledger import raw
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
    # "ahead" or "behind" for a stored event dated past belief (corridor.ops.clock).
    clock_flag: str | None = None


def row_to_event(row: LedgerRow) -> ScanEvent:
    return ScanEvent(
        event_id=row.event_id,
        device_id=row.device_id,
        seq=row.seq,
        device_time=row.device_time,
        type=EventType(row.type),
        payload=json.loads(row.payload),
        received_at=row.received_at,
    )


def lock_head(session: Session) -> LedgerHead:
    head = session.scalar(select(LedgerHead).where(LedgerHead.id == HEAD_ID).with_for_update())
    if head is None:
        raise NotFoundError(
            "the ledger head row is missing", hint="run the database migrations (alembic upgrade)"
        )
    return head


class EventFields(Protocol):
    """What the ledger reads of an event: a :class:`ScanEvent`, or a request body with the same
    fields that was validated as strictly (ids not empty, ``seq`` 1 or more, an aware
    ``device_time``), so that a batch is appended without first being copied into events."""

    @property
    def event_id(self) -> str: ...
    @property
    def device_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def device_time(self) -> datetime: ...
    @property
    def type(self) -> EventType: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


Validator = Callable[[EventFields], None]


def append(
    session: Session, *, operation_id: str, events: Sequence[EventFields], validate: Validator
) -> list[AppendResult]:
    """Append each event under the ledger rules; one result per event, in order.

    A harmless repeat changes nothing; a conflicting repeat or an invalid event is reported and
    skipped, and the others are stored all the same. What is already stored is looked up for the
    whole list in one statement and the new entries are inserted together, so a batch costs a
    handful of statements, not a handful per event. The entries of one append are received
    together and share their ``received_at``.
    """
    head = lock_head(session)
    connection = session.connection()
    known = _stored(connection, operation_id, events)
    results = []
    rows: list[_Entry] = []
    count, previous = head.count, head.head_hash
    times = _Times(sqlite=connection.dialect.name == "sqlite")
    received = times.now()
    for event in events:
        try:
            repeat = _repeat_of(known, operation_id, event, times)
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
        row = _entry(count, previous, operation_id, event, received, times)
        previous = row.entry_hash
        rows.append(row)
        known.add(
            _Kept(
                row.event_id,
                row.device_id,
                row.seq,
                row.device_time,
                row.type,
                row.payload,
                operation_id,
                count,
            )
        )
        results.append(AppendResult(event.event_id, Outcome.STORED, count))
    if rows:
        if _insert_small(connection, rows, count, previous):
            # The head row was updated by the same statement: record that as its stored state,
            # so that the session does not send the update again.
            set_committed_value(head, "count", count)
            set_committed_value(head, "head_hash", previous)
        else:
            _insert(connection, rows)
            head.count, head.head_hash = count, previous
    return results


class _Entry(NamedTuple):
    """One ledger row as the database driver takes it, in the order of :data:`_INSERT`."""

    position: int
    operation_id: str
    event_id: str
    device_id: str
    seq: int
    device_time: Any  # see _Times
    received_at: Any
    type: str
    subject_kind: str | None
    subject_id: str | None
    point: str | None
    payload: str
    payload_sha256: str
    previous_hash: str
    entry_hash: str


class _Times:
    """Timestamps as the driver stores them for the ``UTCDateTime`` columns, without that type's
    per-value processing: psycopg takes the aware UTC datetime; SQLite keeps the text
    ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC (SQLAlchemy's own format, so that reads parse it)."""

    def __init__(self, *, sqlite: bool) -> None:
        self.sqlite = sqlite

    def value(self, utc: datetime, iso: str) -> Any:
        """``utc`` (a UTC datetime) as stored; ``iso`` is its ``isoformat(timespec="microseconds")``."""
        return f"{iso[:10]} {iso[11:26]}" if self.sqlite else utc

    def now(self) -> _Received:
        now = utc_now().astimezone(UTC)
        return _Received(self.value(now, now.isoformat(timespec="microseconds")), utc_text(now))


class _Received(NamedTuple):
    """When entries were received: as the driver stores it, and as the chain hash spells it."""

    value: Any
    text: str


# Canonical JSON (``corridor.ops.ledger.canonical_json``) as text, with the same encoder settings.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_json_string = json.encoder.encode_basestring  # a str as JSON, as _CANONICAL writes it


def _canonical_text_encoder() -> Callable[[Any], str]:
    """``_CANONICAL.encode``, without making json's C encoder again for every value (which was
    most of the time of encoding a small payload): the same C encoder, with the same settings,
    made once. No circular-reference markers are kept (a payload parsed from JSON has no cycles;
    one that had would fail all the same, with a RecursionError), so it holds no state and may be
    shared by threads. Without the C accelerator, ``_CANONICAL.encode`` itself."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return _CANONICAL.encode
    encode = make(None, _CANONICAL.default, _json_string, None, ":", ",", True, False, False)

    def canonical_text(value: Any) -> str:
        return "".join(encode(value, 0))

    return canonical_text


_canonical_text = _canonical_text_encoder()


def _entry(
    position: int,
    previous: str,
    operation_id: str,
    event: EventFields,
    received: _Received,
    times: _Times,
) -> _Entry:
    """The row of a new entry, its chain hash by :func:`corridor.ops.ledger.entry_hash`.

    The hashed bytes are ``canonical_json(entry_content(event, filing))``, written out directly:
    the keys in sorted order, the payload's canonical JSON (made once, and also stored and hashed
    on its own) in place. Where that shortcut cannot be sure to give the same bytes (a year
    before 1000, which ``utc_text`` writes with fewer digits; a ``seq`` that is not a plain int)
    the content is made and encoded as the ledger does.
    """
    payload = event.payload
    payload_text = _canonical_text(payload if type(payload) is dict else dict(payload))
    payload_sha256 = hashlib.sha256(payload_text.encode("utf-8")).hexdigest()
    utc = event.device_time.astimezone(UTC)
    iso = utc.isoformat(timespec="microseconds")
    kind = str(event.type)
    seq = event.seq
    person = payload.get("person_id")
    vehicle = payload.get("vehicle_id")
    point = payload.get("point")
    point = point if isinstance(point, str) and point else None
    subject_kind: str | None = None
    subject_id: str | None = None
    if isinstance(person, str) and person:
        subject_kind, subject_id = "person", person
    elif isinstance(vehicle, str) and vehicle:
        subject_kind, subject_id = "vehicle", vehicle
    if utc.year >= 1000 and type(seq) is int:
        content = (
            f'{{"device_id":{_json_string(event.device_id)},"device_time":"{iso[:26]}Z",'
            f'"event_id":{_json_string(event.event_id)},'
            f'"operation_id":{_json_string(operation_id)},"payload":{payload_text},'
            f'"payload_sha256":"{payload_sha256}","point":{_json_or_null(point)},'
            f'"received_at":"{received.text}","seq":{seq},'
            f'"subject_id":{_json_or_null(subject_id)},"subject_kind":{_json_or_null(subject_kind)},'
            f'"type":{_json_string(kind)}}}'
        ).encode()
    else:
        content = canonical_json(
            {
                "event_id": event.event_id,
                "device_id": event.device_id,
                "seq": seq,
                "device_time": utc_text(utc),
                "type": kind,
                "payload": dict(payload),
                "payload_sha256": payload_sha256,
                "operation_id": operation_id,
                "received_at": received.text,
                "subject_kind": subject_kind,
                "subject_id": subject_id,
                "point": point,
            }
        )
    return _Entry(
        position,
        operation_id,
        event.event_id,
        event.device_id,
        seq,
        times.value(utc, iso),
        received.value,
        kind,
        subject_kind,
        subject_id,
        point,
        payload_text,
        payload_sha256,
        previous,
        hashlib.sha256(previous.encode("ascii") + b"\n" + content).hexdigest(),
    )


def _json_or_null(text: str | None) -> str:
    return "null" if text is None else _json_string(text)


def _row(position: int, previous: str, operation_id: str, event: EventFields) -> dict[str, Any]:
    """A new entry's row by column name, with the timestamps as datetimes."""
    now = utc_now().astimezone(UTC)
    received = _Received(now, utc_text(now))
    return _entry(position, previous, operation_id, event, received, _Times(sqlite=False))._asdict()


_INSERT = f"INSERT INTO {LedgerRow.__tablename__} ({', '.join(_Entry._fields)}) VALUES {{values}}"


def _postgresql_type(name: str) -> str:
    """The PostgreSQL type a binary COPY sends a ledger column's values in (strings as text,
    which is also the binary form of varchar)."""
    kind = LedgerRow.__table__.c[name].type
    if isinstance(kind, UTCDateTime):
        return "timestamptz"
    return "int8" if isinstance(kind, BigInteger) else "text"


_POSTGRESQL_COLUMNS = tuple((name, _postgresql_type(name)) for name in _Entry._fields)


def _insert(connection: Connection, rows: list[_Entry]) -> None:
    """Insert new entries, the values already as the driver takes them, so that SQLAlchemy's
    per-value processing (the bulk of a Core insert's time) is skipped. SQLite: the driver's
    executemany, one prepared statement run for each row in C. PostgreSQL: ``COPY ... FROM STDIN``
    in the same transaction, which psycopg writes in C and the server loads as one stream."""
    if connection.dialect.name == "sqlite":
        values = f"({raw.markers(connection, len(_Entry._fields))})"
        connection.exec_driver_sql(_INSERT.format(values=values), cast(Any, rows))
        return
    raw.copy_rows(connection, LedgerRow.__tablename__, _POSTGRESQL_COLUMNS, rows)


# Up to this many new entries, PostgreSQL gets one statement that inserts them and moves the head
# row; more go through COPY, which costs more round trips per transaction (the COPY, its end, then
# the head update) but loads many rows faster. Single events come in groups of a few to a few tens.
SMALL_INSERT = 100

# The rows as one JSON parameter, an array of rows, each an array of the columns' values: the
# statement's text is the same for any number of rows, so psycopg parses it once and prepares it
# (a VALUES list is parsed in Python at every call, marker by marker), and the rows are encoded by
# json's C encoder (one array parameter per column, dumped by psycopg in Python, was no faster
# than the COPY).
_INSERT_JSON = (
    f"WITH added AS (INSERT INTO {LedgerRow.__tablename__} ({', '.join(_Entry._fields)}) "
    f"SELECT {', '.join(f'(r->>{i})::{kind}' for i, (_, kind) in enumerate(_POSTGRESQL_COLUMNS))} "
    "FROM json_array_elements(%s::json) AS r) "
    f"UPDATE {LedgerHead.__tablename__} SET count = %s, head_hash = %s WHERE id = {HEAD_ID}"
)
_ROWS_JSON = json.JSONEncoder(separators=(",", ":"), default=datetime.isoformat)


def _insert_small(connection: Connection, rows: list[_Entry], count: int, head_hash: str) -> bool:
    """On PostgreSQL, insert a few new entries and set the head row (locked by this transaction)
    to ``count`` and ``head_hash`` in one statement: one round trip instead of three. False, with
    nothing done, on SQLite or for more than :data:`SMALL_INSERT` rows. The timestamps (aware UTC
    datetimes) travel as ISO 8601 text with their offset, which ``timestamptz`` reads exactly."""
    if not raw.is_postgresql(connection) or len(rows) > SMALL_INSERT:
        return False
    connection.exec_driver_sql(_INSERT_JSON, (_ROWS_JSON.encode(rows), count, head_hash))
    return True


class _Kept(NamedTuple):
    """A stored entry (or one stored earlier in the same append), as much of it as tells a harmless
    repeat from a conflict: the fields of ``ScanEvent.content()`` as the driver stores them."""

    event_id: str
    device_id: str
    seq: int
    device_time: Any  # see _Times
    type: str
    payload: str  # canonical JSON
    operation_id: str
    position: int

    def event(self) -> ScanEvent:
        return ScanEvent(
            self.event_id,
            self.device_id,
            self.seq,
            raw.utc_datetime(self.device_time),
            EventType(self.type),
            json.loads(self.payload),
        )


@dataclass
class _Known:
    """The stored entries an append may meet again: by event id, and the event id that holds each
    device's seq."""

    by_id: dict[str, _Kept]
    by_seq: dict[tuple[str, int], str]

    def add(self, kept: _Kept) -> None:
        self.by_id[kept.event_id] = kept
        self.by_seq[(kept.device_id, kept.seq)] = kept.event_id


def _stored(connection: Connection, operation_id: str, events: Sequence[EventFields]) -> _Known:
    """The stored entries that share an id, or a device and seq, with any of ``events``: one
    statement per 1,000 events (both look-ups in one), with the values bound as the driver takes
    them. Every row found fills both maps: a stored row holds its id and its device's seq. Ids and
    seqs are keys within an operation: only ``operation_id``'s entries are looked at.

    The (device_id, seq) pairs are joined as a table (a VALUES list on SQLite, ``unnest`` of two
    arrays on PostgreSQL): both search the (device_id, seq) index for each pair, which SQLite does
    not do for a row-value IN."""
    known = _Known({}, {})
    wanted = list({(e.event_id, e.device_id, e.seq): None for e in events})
    columns = ", ".join(_Kept._fields)
    joined = ", ".join(f"l.{c}" for c in _Kept._fields)
    table = LedgerRow.__tablename__
    mark = raw.marker(connection)
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        pairs, pair_params = raw.pairs(connection, [(device_id, seq) for _, device_id, seq in chunk])
        ids, id_params = raw.one_of(connection, "event_id", [event_id for event_id, _, _ in chunk])
        statement = (
            f"WITH wanted (device_id, seq) AS ({pairs}) "
            f"SELECT {joined} FROM wanted JOIN {table} l "
            f"ON l.operation_id = {mark} AND l.device_id = wanted.device_id AND l.seq = wanted.seq "
            f"UNION SELECT {columns} FROM {table} WHERE operation_id = {mark} AND {ids}"
        )
        params = (*pair_params, operation_id, operation_id, *id_params)
        for row in connection.exec_driver_sql(statement, params):
            known.add(_Kept(*row))
    return known


def _scan_event(event: EventFields) -> ScanEvent:
    """``event`` as a ScanEvent, to compare it under the ledger's repeat rules."""
    if isinstance(event, ScanEvent):
        return event
    return ScanEvent(event.event_id, event.device_id, event.seq, event.device_time, event.type, event.payload)


def _repeat_of(known: _Known, operation_id: str, event: EventFields, times: _Times) -> AppendResult | None:
    """The result for a repeat of a known event; None for a new one; ConflictError if it clashes.

    A repeat is harmless when its content is the stored content (``ScanEvent.same_as``): the same
    as having the same fields as stored, the payload as canonical JSON, which is compared first;
    only when they differ are both made into events, for :func:`check_repeat` to name what differs.
    """
    stored = known.by_id.get(event.event_id)
    if stored is not None:
        utc = event.device_time.astimezone(UTC)
        payload = event.payload
        incoming = (
            event.event_id,
            event.device_id,
            event.seq,
            times.value(utc, utc.isoformat(timespec="microseconds")),
            str(event.type),
            _canonical_text(payload if type(payload) is dict else dict(payload)),
        )
        if incoming != stored[:6]:
            check_repeat(stored.event(), _scan_event(event))
        if stored.operation_id != operation_id:
            raise ConflictError(
                f"event {event.event_id} belongs to another operation",
                where=f"event_id {event.event_id}",
                hint="send each event to the operation it was recorded in",
            )
        return AppendResult(event.event_id, Outcome.REPEAT, stored.position)
    holder = known.by_seq.get((event.device_id, event.seq))
    if holder is not None:
        check_sequence_owner(known.by_id[holder].event(), _scan_event(event))
    return None


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
    connection = session.connection()
    times = _Times(sqlite=connection.dialect.name == "sqlite")
    now = utc_now()
    received = times.now()
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
        row = _entry(count, previous, operation_id, event, received, times)
        previous = row.entry_hash
        rows.append(row)
        events.append(event)
    if rows:
        _insert(connection, rows)
        head.count, head.head_hash = count, previous
    return events


def events_of(session: Session, operation_id: str) -> Iterator[ScanEvent]:
    """Every event of an operation that names a person or vehicle."""
    query = (
        select(LedgerRow)
        .where(LedgerRow.operation_id == operation_id, LedgerRow.subject_kind.is_not(None))
        .execution_options(yield_per=2000)
    )
    marks = _clock_marks(session, operation_id)
    for row in session.scalars(query):
        yield _marked(row_to_event(row), marks.get(row.position))


def _clock_marks(session: Session, operation_id: str) -> dict[int, tuple[float | None, str | None]]:
    """The clock offsets and flags kept beside an operation's entries (corridor.ops.clock)."""
    from corridor.server.checkpoints.clock import marks_of

    return marks_of(session.connection(), operation_id)


def _marked(event: ScanEvent, mark: tuple[float | None, str | None] | None) -> ScanEvent:
    if mark is None:
        return event
    return replace(event, clock_offset=mark[0], clock_flag=mark[1])


def events_about(session: Session, operation_id: str, kind: str, subject_id: str) -> list[ScanEvent]:
    query = select(LedgerRow).where(
        LedgerRow.operation_id == operation_id,
        LedgerRow.subject_kind == kind,
        LedgerRow.subject_id == subject_id,
    )
    rows = list(session.scalars(query))
    marks = _clock_marks(session, operation_id) if rows else {}
    return [_marked(row_to_event(row), marks.get(row.position)) for row in rows]


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
