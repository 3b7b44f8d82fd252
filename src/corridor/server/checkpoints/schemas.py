"""Request and response bodies for scan events and reconciliation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictInt, ValidationError

from corridor.ops.ledger import EventType
from corridor.server.values import INT64_MAX, INT64_MIN, FiniteFloat, Int64, Moment, Text, no_nul

# The most events a batch may hold whatever the settings say (``max_batch`` is at most this).
MAX_BATCH = 10_000

PayloadKey = Annotated[Text, Field(min_length=1, max_length=64)]


_PAYLOAD_TEXT_MAX = 500
_PayloadSchema = Annotated[Text, Field(max_length=_PAYLOAD_TEXT_MAX)] | Int64 | FiniteFloat | bool | None


def _payload_value(value: Any) -> str | int | float | bool | None:
    """A payload value: text (500 characters at most, no NUL), a 64-bit whole number, a finite
    number, true, false or null. Checked here as one type so that an error names the key alone
    (a union of types would add each member's internal name to the place)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > _PAYLOAD_TEXT_MAX:
            raise ValueError(f"text must be {_PAYLOAD_TEXT_MAX} characters at most, not {len(value)}")
        return no_nul(value)
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError("a whole number must be between -2^63 and 2^63 - 1")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a number must be finite")
        return value
    raise ValueError("a payload value is text, a number, true, false or null")


PayloadValue = Annotated[
    str | int | float | bool | None,
    PlainValidator(_payload_value, json_schema_input_type=_PayloadSchema),
]


class EventIn(BaseModel):
    """One event as the device made it. ``payload`` names ``person_id`` or ``vehicle_id`` (or both
    for ``boarded``) and the route ``point``."""

    model_config = ConfigDict(extra="forbid")

    event_id: Text = Field(min_length=1, max_length=100, description="Made by the device (a UUID).")
    device_id: Text = Field(min_length=1, max_length=100)
    seq: StrictInt = Field(
        ge=1, le=INT64_MAX, description="The device's own count of its events: 1, 2, 3, ..."
    )
    device_time: Moment = Field(
        description="The device's clock, with its UTC offset. Corrected by the device's clock "
        "offset (see device_now of a batch); dated past belief (ahead of the server's clock, or "
        "before the operation's start; see the settings), the event is stored and flagged."
    )
    type: EventType
    payload: dict[PayloadKey, PayloadValue] = Field(default_factory=dict, max_length=20)


class SingleEventIn(EventIn):
    """One event sent on its own (``POST .../events``), with the device's clock as it sends it."""

    device_now: Moment | None = Field(
        default=None,
        description="The device's clock as it sends the event, with its UTC offset: the service "
        "estimates the device's clock offset from it and corrects its events' times by it.",
    )


@dataclass(frozen=True)
class EventProblem:
    """An event of a batch that failed its schema: answered on its own, the others stored."""

    event_id: str | None
    problems: list[dict[str, Any]]

    @property
    def message(self) -> str:
        first = self.problems[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{where}: {first.get('msg', 'invalid value')}{more}" if where else str(first.get("msg"))

    @property
    def where(self) -> str:
        first = self.problems[0]
        return ".".join(str(part) for part in ("event", *first.get("loc", ())))


def _event_or_problem(value: Any) -> EventIn | EventProblem:
    """One event of a batch, or what is wrong with it (so that one bad event fails alone)."""
    try:
        return EventIn.model_validate(value)
    except ValidationError as exc:
        event_id = value.get("event_id") if isinstance(value, dict) else None
        if not isinstance(event_id, str) or not 0 < len(event_id) <= 100 or "\x00" in event_id:
            event_id = None
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
        return EventProblem(event_id, [dict(p) for p in problems])


BatchEntry = Annotated[
    EventIn | EventProblem, PlainValidator(_event_or_problem, json_schema_input_type=EventIn)
]


class BatchIn(BaseModel):
    """A batch: each event is checked on its own; one that fails its schema is answered as
    rejected in its place in the results, and the others are stored."""

    model_config = ConfigDict(extra="forbid")

    events: list[BatchEntry] = Field(min_length=1, max_length=MAX_BATCH)
    device_now: Moment | None = Field(
        default=None,
        description="The device's clock as it sends the batch, with its UTC offset: the service "
        "estimates the device's clock offset from it and corrects the events' times by it.",
    )


class StrictBatchIn(BaseModel):
    """A batch whose events all pass their schema: the quick way to read one (a single
    validation in Rust); a batch that fails it is read again as :class:`BatchIn`."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)
    device_now: Moment | None = Field(
        default=None,
        description="The device's clock as it sends the batch, with its UTC offset: the service "
        "estimates the device's clock offset from it and corrects the events' times by it.",
    )


class EventResult(BaseModel):
    event_id: str | None = Field(description="None for an event whose own id is not valid.")
    outcome: str = Field(description="stored, repeat, conflict or rejected")
    position: int | None = Field(description="Place in the ledger, for stored and repeat.")
    message: str | None = None
    where: str | None = None
    hint: str | None = None


class BatchEventResult(EventResult):
    flagged: str | None = Field(
        default=None,
        description='"clock" for an event stored but dated past belief by its device\'s clock '
        "(ahead of its receipt, or before the operation): it is placed at its received time and "
        "clears no alarm; see GET .../clocks.",
    )
    index: int = Field(description="The event's place in its batch (0 first).")


class DeviceClockOut(BaseModel):
    """A device's clock: its offset from the server's (device minus server, in seconds; none
    before it sent its clock), when it last did, and how many of its events were flagged."""

    device_id: str
    offset_seconds: float | None
    synced_at: datetime | None
    flagged: int


class BatchOut(BaseModel):
    stored: int
    repeats: int
    conflicts: int
    rejected: int
    results: list[BatchEventResult]


class OverdueOut(BaseModel):
    kind: str
    subject_id: str
    last_point: str | None
    last_seen_at: datetime | None
    expected_point: str
    expected_by: datetime
    data_pending: bool


class AlarmOut(BaseModel):
    kind: str
    subject_id: str
    status: str
    since: datetime | None
    point: str | None


class CeasefireOut(BaseModel):
    window_end: datetime | None
    minutes_left: float | None
    people_inside: int


class CountsOut(BaseModel):
    """Counts only: what an observer may see."""

    at: datetime
    people: dict[str, int]
    vehicles: dict[str, int]
    by_group: dict[str, dict[str, int]]
    by_gathering_point: dict[str, dict[str, int]]
    ceasefire: CeasefireOut


class GapOut(BaseModel):
    first: int
    last: int


class ReconciliationOut(CountsOut):
    not_seen: list[OverdueOut]
    overdue_vehicles: list[OverdueOut]
    alarms: list[AlarmOut]
    data_pending: dict[str, list[GapOut]]
    unknown_subjects: list[str]


class SubjectStatusOut(BaseModel):
    kind: str
    subject_id: str
    status: str
    point: str | None
    last_seen_at: datetime | None
    last_seen_point: str | None
    vehicle_id: str | None
    events: int
