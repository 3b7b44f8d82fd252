"""Request and response bodies for vehicles and manifests."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from corridor.server.values import Moment

VehicleKind = Literal["bus", "ambulance", "truck", "car"]


class VehicleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, pattern=r"^[\w.:-]+$")
    kind: VehicleKind
    seats: int = Field(ge=0, le=200)
    stretchers: int = Field(default=0, ge=0, le=20)
    wave: int = Field(default=0, ge=0, le=10_000, description="Departure wave of the plan (0 = first).")
    expected_departure: Moment | None = None


class VehicleOut(BaseModel):
    code: str
    kind: str
    seats: int
    stretchers: int
    wave: int
    expected_departure: datetime | None


class ManifestRunOut(BaseModel):
    assigned: int
    by_vehicle: dict[str, int]
    by_trip: dict[str, int] = Field(
        default_factory=dict, description='People assigned by this run per trip, keyed "vehicle/trip".'
    )
    split_households: list[str]
    unplaced: list[str]


class ManifestLine(BaseModel):
    person_id: str
    household_id: str
    name: str | None
    age_band: str
    sex: str
    vulnerabilities: list[str]
    wristband: str | None
    place: str
    trip: int = 1


class ManifestOut(BaseModel):
    vehicle: VehicleOut
    people: list[ManifestLine]
