"""Request and response bodies for convoy plans and trips."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Code = str


class ConvoyPublishIn(BaseModel):
    """A convoy plan to publish: the ``convoy.json`` of ``corridor convoy SCENARIO --out DIR``
    (``ConvoyPlan.to_dict()``), or none to have the server plan the operation's scenario."""

    model_config = ConfigDict(extra="forbid")

    plan: dict[str, Any] | None = Field(
        default=None, description="convoy.json as written; absent: the server plans the scenario."
    )
    vehicles: dict[str, Code] = Field(
        default_factory=dict,
        max_length=2000,
        description="Plan vehicle id -> the operation's vehicle code, where they differ.",
    )
    method: str = Field(
        default="greedy", min_length=1, max_length=40, description="Convoy method when the server plans."
    )


class ConvoyVersionOut(BaseModel):
    version: int
    plan_hash: str
    published_at: datetime
    published_by: str
    method: str
    evacuated: int
    evacuees: int
    trips: int
    current: bool
    replan: bool = Field(description="Made by a re-plan after a closure (verified with its closures).")


class ConvoyVersionBodyOut(ConvoyVersionOut):
    plan: dict[str, Any]
    vehicles: dict[str, str]
    offsets: dict[str, int]
    basis: dict[str, Any]


class TripOut(BaseModel):
    vehicle: str
    number: int
    convoy_version: int | None
    current: bool = Field(description="Part of the convoy plan the operation follows.")
    gathering: str | None
    reception: str | None
    load: list[tuple[str, int]]
    planned_start: datetime | None
    planned_boarding: datetime | None
    planned_departure: datetime | None
    planned_arrival: datetime | None
    manifest: int = Field(description="People on the trip's manifest.")


class TripStatusOut(TripOut):
    status: str = Field(description="planned, boarding, under_way, arrived or overdue")
    point: str | None = Field(description="The furthest route point the trip reached.")
    last_seen_at: datetime | None
    boarded: int
    arrived: int
    expected_by: datetime | None = Field(description="Planned arrival plus the margin (grace_minutes).")
    not_seen: list[str] = Field(
        description="Boarded the trip, not seen arriving though the trip arrived or is overdue."
    )


class TripsOut(BaseModel):
    at: datetime
    trips: list[TripStatusOut]
    overdue: list[str] = Field(description='Overdue trips, as "vehicle/trip".')
    not_seen: list[str] = Field(description="People who boarded a trip and were not seen further.")
