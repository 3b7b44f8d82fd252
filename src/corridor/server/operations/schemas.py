"""Request and response bodies for operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from corridor.ops.route import PointKind
from corridor.server.operations.plans import PlanIn
from corridor.server.values import FiniteFloat, Moment, Text

OperationState = Literal["planning", "active", "suspended", "closed"]
SHA256 = r"^[0-9a-f]{64}$"
OperationId = Annotated[Text, Field(min_length=1, max_length=32)]
PointId = Annotated[Text, Field(min_length=1, max_length=100)]
NodeId = Annotated[Text, Field(min_length=1, max_length=200)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PointIn(_In):
    """A point of the route; ``expected_minutes`` is the plan's time from departure to it."""

    id: Text = Field(min_length=1, max_length=100)
    name: Text = Field(min_length=1, max_length=200)
    kind: PointKind
    expected_minutes: FiniteFloat = Field(ge=0, le=100_000)
    pcode: Text | None = Field(default=None, max_length=50, description="P-code, kept as written.")
    admin_level: int | None = Field(default=None, ge=0, le=5)


class WindowIn(_In):
    """A ceasefire window ``[start, end)`` in UTC."""

    start: Moment
    end: Moment

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("a window must end after it starts")
        return self


class OperationIn(_In):
    name: Text = Field(min_length=1, max_length=200)
    scenario_name: Text = Field(min_length=1, max_length=200)
    plan_hash: str | None = Field(
        default=None, pattern=SHA256, description="SHA-256 of the published plan (64 hex digits)."
    )
    route: list[PointIn] = Field(min_length=2, max_length=200)
    windows: list[WindowIn] = Field(default_factory=list, max_length=100)
    linked_operations: list[OperationId] = Field(default_factory=list, max_length=100)


class OperationPatch(_In):
    state: OperationState | None = None
    plan_hash: str | None = Field(default=None, pattern=SHA256)
    route: list[PointIn] | None = Field(default=None, min_length=2, max_length=200)
    windows: list[WindowIn] | None = Field(default=None, max_length=100)
    linked_operations: list[OperationId] | None = Field(default=None, max_length=100)


class PointOut(BaseModel):
    id: str
    name: str
    kind: PointKind
    expected_minutes: float
    pcode: str | None
    admin_level: int | None


class WindowOut(BaseModel):
    start: datetime
    end: datetime


class OperationOut(BaseModel):
    id: str
    name: str
    scenario_name: str
    plan_hash: str | None
    state: OperationState
    route: list[PointOut]
    windows: list[WindowOut]
    linked_operations: list[str]
    created_at: datetime
    closed_at: datetime | None


class PlanPublishIn(_In):
    """A plan to publish: the ``plan.json`` of ``corridor plan SCENARIO --out DIR``, and where
    the route's points stand on its network (a point not named here is taken to be a node id)."""

    plan: PlanIn
    nodes: dict[PointId, NodeId] = Field(
        default_factory=dict,
        max_length=200,
        description="Route point id -> network node id, where they differ.",
    )


class SegmentOut(BaseModel):
    """Expected minutes from one route point to the next, and where they come from."""

    from_point: str
    to_point: str
    minutes: float
    source: Literal["plan", "route"]
    route_minutes: float = Field(description="The time written on the route, used without a plan.")


class PublishedPlanOut(BaseModel):
    plan_hash: str | None = Field(description="Hash of the operation's plan, published or typed in.")
    version: int | None = Field(
        default=None, description="The plan version it is (GET .../plans), when it was published."
    )
    published_at: datetime | None
    published_by: str | None
    method: str | None
    segments: list[SegmentOut]


class PlanVersionOut(BaseModel):
    """A plan published for the operation, numbered 1, 2, 3... in the order of publishing."""

    version: int
    plan_hash: str
    published_at: datetime
    published_by: str
    method: str
    evacuated: int = Field(description="People out by the deadline in this plan.")
    evacuees: int
    nodes: dict[str, str] = Field(description="Route point id -> network node id, as published.")
    current: bool = Field(description="True for the version whose hash the operation cites.")


class PlanVersionBodyOut(PlanVersionOut):
    plan: dict[str, Any] = Field(description="The plan.json as published; its content hash is plan_hash.")
