"""The append-only event ledger: scan events, their hashes, the hash chain and the repeat rules.

Every event is made on a device: the device chooses its id, numbers its events ``1, 2, 3, ...``
(``seq``) and stamps them with its own clock in UTC. The ledger keeps them in the order the server
received them, each entry chained to the one before:

    entry_hash[n] = SHA-256( entry_hash[n-1] + "\\n" + canonical_json(entry[n]) )
    entry_hash[1] = SHA-256( start + "\\n" + canonical_json(entry[1]) )

where ``entry[n]`` is the event's content together with how the ledger filed it (:class:`Filing`:
the operation, the time received, and the subject and point that readers find it by), so
changing, removing or re-ordering any stored entry, or any column a reader uses, changes every
hash after it. ``start`` is :data:`GENESIS`, or the hash of the cut-over record when the ledger was
re-chained from the first form of the chain (:func:`entry_hash_v1`, which covered the event's
content only; see :class:`CutOver`).

Repeats: the same ``event_id`` with the same content is accepted again and changes nothing; the same
``event_id`` with other content is a :class:`~corridor.core.errors.ConflictError` (HTTP 409).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from corridor.core.errors import ConflictError, InputError

GENESIS = "0" * 64

JsonValue = Any


class EventType(StrEnum):
    """What happened. Person events name ``person_id``, vehicle events ``vehicle_id``."""

    REGISTERED = "registered"  # made by the server when a person is registered
    BOARDED = "boarded"  # person got on a vehicle at the departure point
    DEPARTED = "departed"  # vehicle left the departure point
    CHECKPOINT = "checkpoint"  # person or vehicle seen passing a checkpoint
    ARRIVED = "arrived"  # person or vehicle seen at the arrival point
    MISSING = "missing"  # person or vehicle reported missing
    DETAINED = "detained"  # person or vehicle held at a checkpoint
    FOUND = "found"  # a missing person or vehicle seen again
    RELEASED = "released"  # a detained person or vehicle let go
    RETURNED = "returned"  # person went back to where they came from
    INCIDENT = "incident"  # made by the server: an incident was reported
    EVIDENCE_RECEIVED = "evidence_received"  # made by the server: custody of an evidence file
    EVIDENCE_ACCESSED = "evidence_accessed"  # made by the server: an evidence file was read
    PURGED = "purged"  # made by the server: personal data removed by the retention purge


# Event types only the server makes; devices may not send them.
SERVER_TYPES = frozenset(
    {
        EventType.REGISTERED,
        EventType.INCIDENT,
        EventType.EVIDENCE_RECEIVED,
        EventType.EVIDENCE_ACCESSED,
        EventType.PURGED,
    }
)
# Device id under which the server records the events it makes itself.
SERVER_DEVICE = "server"


def canonical_json(value: JsonValue) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces: the same value always gives the same bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_sha256(payload: Mapping[str, JsonValue]) -> str:
    """SHA-256 of the canonical JSON of a payload."""
    return sha256_hex(canonical_json(dict(payload)))


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``: one spelling for every instant."""
    if moment.tzinfo is None:
        raise InputError("time has no timezone", hint="send UTC times such as 2016-12-15T10:02:00Z")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ScanEvent:
    """One event as a device made it. ``device_time`` is timezone-aware (stored as UTC)."""

    event_id: str
    device_id: str
    seq: int
    device_time: datetime
    type: EventType
    payload: Mapping[str, JsonValue] = field(default_factory=dict)
    # When the server received it, once stored (not part of the event's content or hash).
    received_at: datetime | None = field(default=None, compare=False)
    # The sending device's clock offset in seconds (device minus server) when the server received
    # it, and ``ahead`` or ``behind`` when its time is past belief (corridor.ops.clock); kept
    # beside the ledger, not part of the event's content or hash.
    clock_offset: float | None = field(default=None, compare=False)
    clock_flag: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.event_id or not self.device_id:
            raise InputError("event_id and device_id must not be empty", where="event")
        if self.seq < 1:
            raise InputError(
                f"seq must be 1 or more, got {self.seq}",
                where=f"event {self.event_id}",
                hint="number each device's events 1, 2, 3, ...",
            )
        object.__setattr__(self, "device_time", _as_utc(self.device_time))
        if self.received_at is not None:
            object.__setattr__(self, "received_at", _as_utc(self.received_at))
        object.__setattr__(self, "type", EventType(self.type))

    @property
    def payload_sha256(self) -> str:
        return payload_sha256(self.payload)

    @property
    def subject(self) -> tuple[str, str] | None:
        """``("person", id)`` or ``("vehicle", id)``; a person id wins when both are given."""
        person = self.payload.get("person_id")
        if isinstance(person, str) and person:
            return ("person", person)
        vehicle = self.payload.get("vehicle_id")
        if isinstance(vehicle, str) and vehicle:
            return ("vehicle", vehicle)
        return None

    @property
    def point(self) -> str | None:
        point = self.payload.get("point")
        return point if isinstance(point, str) and point else None

    def content(self) -> dict[str, JsonValue]:
        """Everything the chain hash covers, as plain JSON values."""
        return {
            "event_id": self.event_id,
            "device_id": self.device_id,
            "seq": self.seq,
            "device_time": utc_text(self.device_time),
            "type": str(self.type),
            "payload": dict(self.payload),
            "payload_sha256": self.payload_sha256,
        }

    def same_as(self, other: ScanEvent) -> bool:
        """True when ``other`` is a harmless repeat of this event (same id and same content)."""
        return self.content() == other.content()


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InputError(
            "device_time has no timezone",
            where="device_time",
            hint="send UTC times such as 2016-12-15T10:02:00Z",
        )
    return moment.astimezone(UTC)


def check_repeat(stored: ScanEvent, incoming: ScanEvent) -> None:
    """Accept a repeat of ``stored`` silently, or raise :class:`ConflictError` if it differs."""
    if stored.event_id != incoming.event_id:
        raise ValueError("check_repeat compares events with the same id")
    if stored.same_as(incoming):
        return
    differing = sorted(key for key, value in stored.content().items() if incoming.content().get(key) != value)
    raise ConflictError(
        f"event {incoming.event_id} was already stored with other content "
        f"(differs in {', '.join(differing)})",
        where=f"event_id {incoming.event_id}",
        hint="a device must never reuse an event id; make a new id for a new event",
    )


def check_sequence_owner(stored: ScanEvent, incoming: ScanEvent) -> None:
    """Raise :class:`ConflictError` when another event already holds this device's ``seq``."""
    if stored.event_id == incoming.event_id:
        return
    raise ConflictError(
        f"device {incoming.device_id} already sent seq {incoming.seq} as event {stored.event_id}",
        where=f"event_id {incoming.event_id}",
        hint="number each device's events 1, 2, 3, ... without reusing a number",
    )


@dataclass(frozen=True)
class Filing:
    """How the ledger filed an event: the operation, when it was received, and the columns that
    readers find it by (derived from the payload when it is stored). The chain hash covers them."""

    operation_id: str
    received_at: datetime
    subject_kind: str | None
    subject_id: str | None
    point: str | None

    @classmethod
    def of(cls, event: ScanEvent, operation_id: str, received_at: datetime) -> Filing:
        """The filing of a new event: its subject and point read from its payload."""
        subject = event.subject
        return cls(
            operation_id,
            received_at,
            subject[0] if subject else None,
            subject[1] if subject else None,
            event.point,
        )

    def content(self) -> dict[str, JsonValue]:
        return {
            "operation_id": self.operation_id,
            "received_at": utc_text(self.received_at),
            "subject_kind": self.subject_kind,
            "subject_id": self.subject_id,
            "point": self.point,
        }


def entry_content(event: ScanEvent, filing: Filing) -> dict[str, JsonValue]:
    """Everything the chain hash of a stored entry covers."""
    return {**event.content(), **filing.content()}


def entry_hash(previous_hash: str, event: ScanEvent, filing: Filing) -> str:
    """The chain hash of an entry: SHA-256 over the previous hash and the canonical JSON of the
    event's content and its filing."""
    return sha256_hex(previous_hash.encode("ascii") + b"\n" + canonical_json(entry_content(event, filing)))


def entry_hash_v1(previous_hash: str, event: ScanEvent) -> str:
    """The first form of the chain hash, over the event's content only (not its filing): kept to
    verify a ledger up to its cut-over to :func:`entry_hash`."""
    return sha256_hex(previous_hash.encode("ascii") + b"\n" + canonical_json(event.content()))


@dataclass(frozen=True)
class CutOver:
    """The record of a ledger re-chained from the first form of the chain hash: the entries
    ``1..entries`` were chained by :func:`entry_hash_v1` up to ``old_head``, and are chained again,
    from :meth:`hash` instead of :data:`GENESIS`, by :func:`entry_hash`. So the record itself is
    the first link of the new chain, and the old chain can still be checked against it."""

    entries: int
    old_head: str
    at: datetime
    version: int = 2

    def content(self) -> dict[str, JsonValue]:
        return {
            "cut_over": "corridor ledger chain",
            "version": self.version,
            "entries": self.entries,
            "old_head": self.old_head,
            "at": utc_text(self.at),
        }

    def hash(self) -> str:
        return sha256_hex(GENESIS.encode("ascii") + b"\n" + canonical_json(self.content()))


@dataclass(frozen=True)
class LedgerEntry:
    """An event as stored: its place in the chain (1, 2, 3, ...), how it was filed and the hashes
    recorded with it."""

    position: int
    event: ScanEvent
    previous_hash: str
    entry_hash: str
    stored_payload_sha256: str | None = None
    filing: Filing | None = None


def chain(
    events: Iterable[ScanEvent],
    *,
    operation_id: str = "op",
    received_at: datetime | None = None,
    start_position: int = 1,
    start_hash: str = GENESIS,
) -> list[LedgerEntry]:
    """Chain ``events`` in order from ``start_hash``, as filed in ``operation_id`` at
    ``received_at`` (default: each event's device time)."""
    entries: list[LedgerEntry] = []
    previous = start_hash
    for offset, event in enumerate(events):
        filing = Filing.of(event, operation_id, received_at or event.device_time)
        current = entry_hash(previous, event, filing)
        entries.append(
            LedgerEntry(start_position + offset, event, previous, current, event.payload_sha256, filing)
        )
        previous = current
    return entries


@dataclass(frozen=True)
class ChainCheck:
    """What :func:`verify_chain` found. ``first_bad_position`` is None when the chain is intact."""

    entries: int
    first_bad_position: int | None = None
    problem: str = ""
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.first_bad_position is None

    def render(self) -> str:
        if self.ok:
            return f"ledger intact: {self.entries} entries, head {self.head_hash}"
        return f"ledger changed at entry {self.first_bad_position}: {self.problem}"


def verify_chain(
    entries: Iterable[LedgerEntry],
    *,
    expected_count: int | None = None,
    expected_head: str | None = None,
    start_hash: str = GENESIS,
) -> ChainCheck:
    """Recompute every hash in order; name the first entry that was changed, removed or moved.

    ``expected_count`` and ``expected_head`` (kept apart from the entries) also catch entries cut
    off the end of the chain. ``start_hash`` is the hash the first entry links to.
    """
    previous = start_hash
    count = 0
    for count, entry in enumerate(entries, start=1):
        problem = _entry_problem(entry, count, previous)
        if problem:
            return ChainCheck(count - 1, count, problem, previous)
        previous = entry.entry_hash
    if expected_count is not None and expected_count != count:
        return ChainCheck(
            count,
            count + 1,
            f"the ledger head records {expected_count} entries but {count} are stored",
            previous,
        )
    if expected_head is not None and expected_head != previous:
        return ChainCheck(count, count, "the last entry's hash differs from the ledger head")
    return ChainCheck(count, None, "", previous)


def _entry_problem(entry: LedgerEntry, position: int, previous: str) -> str:
    if entry.position != position:
        return f"expected entry {position} here, found entry {entry.position} (removed or moved)"
    stored = entry.stored_payload_sha256
    if stored is not None and stored != entry.event.payload_sha256:
        return "its payload no longer matches its recorded payload hash (the payload was edited)"
    if entry.previous_hash != previous:
        return "its link to the previous entry does not match (an entry before it was changed)"
    if entry.filing is None:
        return "it has no filing (operation, time received, subject, point) to check"
    if entry_hash(previous, entry.event, entry.filing) != entry.entry_hash:
        return "its content no longer matches its hash (the entry was edited)"
    derived = Filing.of(entry.event, entry.filing.operation_id, entry.filing.received_at)
    if derived != entry.filing:
        return "its subject or point columns no longer match its payload (the entry was edited)"
    return ""


def verify_chain_v1(entries: Iterable[LedgerEntry], *, count: int, old_head: str) -> ChainCheck:
    """Check the first ``count`` entries under the first form of the chain hash
    (:func:`entry_hash_v1`, from :data:`GENESIS`) against ``old_head``, the head recorded at the
    cut-over: the content of those entries is what the old chain held."""
    previous = GENESIS
    seen = 0
    for seen, entry in enumerate(entries, start=1):
        if seen > count:
            seen = count
            break
        previous = entry_hash_v1(previous, entry.event)
    if seen < count:
        return ChainCheck(seen, seen + 1, f"the cut-over records {count} entries but {seen} are stored")
    if previous != old_head:
        return ChainCheck(
            0,
            1,
            f"the entries up to the cut-over (1 to {count}) no longer give the old chain's head "
            "recorded at the cut-over (an entry before the cut-over was changed)",
        )
    return ChainCheck(count, None, "", previous)
