"""Request and response bodies for incidents and evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from corridor.server.values import FiniteFloat, Moment, Text

IncidentKind = Literal["shelling", "shooting", "detention", "obstruction", "looting", "abduction", "other"]


Code = Annotated[Text, Field(min_length=1, max_length=100)]


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IncidentKind
    occurred_at: Moment
    place_name: Text | None = Field(default=None, max_length=200)
    pcode: Text | None = Field(default=None, max_length=50, description="P-code, kept as written.")
    admin_level: int | None = Field(default=None, ge=0, le=5)
    lon: FiniteFloat | None = Field(default=None, ge=-180, le=180)
    lat: FiniteFloat | None = Field(default=None, ge=-90, le=90)
    description: Text = Field(min_length=1, max_length=20000)
    vehicles: list[Code] = Field(default_factory=list, max_length=500, description="Vehicle codes concerned.")
    people: list[Code] = Field(default_factory=list, max_length=5000, description="Person ids concerned.")


class EvidenceOut(BaseModel):
    sha256: str
    incident_id: str
    filename: str
    media_type: str
    size: int
    received_at: datetime
    received_by: str
    note: str | None


class IncidentOut(BaseModel):
    id: str
    kind: str
    occurred_at: datetime
    place_name: str | None
    pcode: str | None
    admin_level: int | None
    lon: float | None
    lat: float | None
    description: str | None
    vehicles: list[str]
    people: list[str]
    reported_by: str
    created_at: datetime
    ledger_event_id: str
    evidence: list[EvidenceOut] = Field(default_factory=list)
