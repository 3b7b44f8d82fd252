"""Request and response bodies for households and people."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from corridor.server.values import Text

AgeBand = Literal["0-4", "5-11", "12-17", "18-59", "60+", "unknown"]
Sex = Literal["female", "male", "other", "unknown"]
Vulnerability = Literal["wounded", "stretcher", "wheelchair", "unaccompanied_child", "pregnant", "elderly"]
AGE_BANDS: tuple[str, ...] = ("0-4", "5-11", "12-17", "18-59", "60+", "unknown")
VULNERABILITIES: tuple[str, ...] = (
    "wounded",
    "stretcher",
    "wheelchair",
    "unaccompanied_child",
    "pregnant",
    "elderly",
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonIn(_In):
    """A person as registered. ``name`` may be in any script (Arabic included)."""

    name: Text = Field(min_length=1, max_length=200)
    age_band: AgeBand
    sex: Sex
    vulnerabilities: list[Vulnerability] = Field(default_factory=list, max_length=6)
    wristband: Text | None = Field(default=None, min_length=1, max_length=64)
    phone: Text | None = Field(default=None, max_length=40)

    @field_validator("name")
    @classmethod
    def _normal_form(cls, value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            raise ValueError("a name must have at least one letter")
        return value

    @field_validator("vulnerabilities")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class TracingConsentIn(_In):
    """A person's consent that a named relative learn their status (registered, left, arrived at
    a reception point, nothing else) with a code given to the relative."""

    person: int = Field(default=0, ge=0, description="The person's place in ``people`` (0: the first).")
    relative: Text = Field(min_length=1, max_length=200, description="The relative's name.")

    @field_validator("relative")
    @classmethod
    def _named(cls, value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            raise ValueError("name the relative who may ask")
        return value


class HouseholdIn(_In):
    reference: Text | None = Field(default=None, max_length=100, description="Id on the field form.")
    gathering_point: Text | None = Field(default=None, max_length=100)
    people: list[PersonIn] = Field(min_length=1, max_length=60)
    tracing: list[TracingConsentIn] = Field(
        default_factory=list, max_length=60, description="Consents to family tracing, if any."
    )

    @model_validator(mode="after")
    def _consents_name_people(self) -> HouseholdIn:
        for consent in self.tracing:
            if consent.person >= len(self.people):
                raise ValueError(
                    f"tracing names person {consent.person}; the household has {len(self.people)} "
                    f"(counted from 0)"
                )
        return self


class TracingCodeOut(BaseModel):
    """A tracing code to print for the relative: shown once, never stored (only its hash)."""

    person_id: str
    relative: str
    code: str


class PersonOut(BaseModel):
    id: str
    household_id: str
    name: str | None = Field(description="Null once the retention purge removed it.")
    age_band: str
    sex: str
    vulnerabilities: list[str]
    gathering_point: str | None
    wristband: str | None
    registered_at: datetime


class PossibleDuplicate(BaseModel):
    """A registered person whose name matches another's spelling-free skeleton, with the same
    age band and sex. Shown to the registrar; never merged automatically."""

    person_id: str
    matches: list[str]


class HouseholdOut(BaseModel):
    id: str
    reference: str | None
    gathering_point: str | None
    people: list[PersonOut]
    possible_duplicates: list[PossibleDuplicate]
    tracing_codes: list[TracingCodeOut] = Field(default_factory=list)


class PeoplePage(BaseModel):
    people: list[PersonOut]
    next_after: str | None = Field(description="Pass as ?after= for the next page; null at the end.")


class ImportRejection(BaseModel):
    row: int
    where: str
    message: str


class ImportReport(BaseModel):
    imported: bool
    households: int
    people: int
    rejected: list[ImportRejection]
    possible_duplicates: int
    ignored_columns: list[str]
    already_imported: int = Field(
        default=0,
        description="People whose form submission (instanceID) was imported before: not stored again.",
    )
