"""Request and response bodies for scan events and reconciliation."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from corridor.ops.ledger import EventType

PayloadValue = str | int | float | bool | None


class EventIn(BaseModel):
    """One event as the device made it. ``payload`` names ``person_id`` or ``vehicle_id`` (or both
    for ``boarded``) and the route ``point``."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=100, description="Made by the device (a UUID).")
    device_id: str = Field(min_length=1, max_length=100)
    seq: int = Field(ge=1, description="The device's own count of its events: 1, 2, 3, ...")
    device_time: AwareDatetime = Field(description="The device's clock, with its UTC offset.")
    type: EventType
    payload: dict[str, PayloadValue] = Field(default_factory=dict, max_length=20)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1)


class EventResult(BaseModel):
    event_id: str
    outcome: str = Field(description="stored, repeat, conflict or rejected")
    position: int | None = Field(description="Place in the ledger, for stored and repeat.")
    message: str | None = None
    where: str | None = None
    hint: str | None = None


class BatchOut(BaseModel):
    stored: int
    repeats: int
    conflicts: int
    rejected: int
    results: list[EventResult]


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
