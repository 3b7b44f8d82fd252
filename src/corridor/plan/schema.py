"""The plan file (``plan.json``, format 1): the one schema of the file that ``Plan.to_dict()`` writes
and :meth:`corridor.plan.model.Plan.from_dict` reads, checked field by field.

The web service takes it as the body of a published plan (its errors then name the field, for
example ``body.plan.routes.0``); ``Plan.from_dict`` turns a refusal into an
:class:`~corridor.core.errors.InputError` naming the field (``plan.dt``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from corridor.plan.model import Plan, Route


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanRouteIn(_In):
    """One route of the plan: ``departures[k]`` is the step hop ``k`` leaves ``nodes[k]``."""

    source: str
    group: str
    people: int = Field(ge=0)
    destination: str
    nodes: list[str] = Field(min_length=1)
    arcs: list[Annotated[int, Field(ge=0, lt=2**31)]]  # arc indices (Plan.verify bounds them by the network)
    departures: list[int]
    arrival: int = Field(ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(self.nodes) != len(self.arcs) + 1:
            raise ValueError(f"{len(self.nodes)} nodes for {len(self.arcs)} arcs (need one more node)")
        if len(self.departures) != len(self.arcs):
            raise ValueError(f"{len(self.departures)} departures for {len(self.arcs)} arcs")
        if any(b < a for a, b in zip(self.departures, self.departures[1:], strict=False)):
            raise ValueError("departures must not fall along the route")
        if self.departures and (self.departures[0] < 0 or self.arrival <= self.departures[-1]):
            raise ValueError("departures start at step 0 or later and the arrival follows the last")
        return self


class PlanIn(_In):
    """The plan file; field meanings are those of :class:`corridor.plan.model.Plan`."""

    format: Literal[1] = 1  # PLAN_FORMAT: the plan file layout this server reads
    scenario: str
    network: str
    method: str = Field(min_length=1, max_length=40)
    objective: str
    status: Literal["optimal", "feasible"]
    start: AwareDatetime
    dt: float = Field(gt=0)
    horizon: int = Field(ge=0)
    evacuees: int = Field(ge=0)
    evacuated: int = Field(ge=0)
    bound: int = Field(ge=0)
    routes: list[PlanRouteIn]
    evacuation_steps: int | None = None
    evacuation_steps_proved: bool = False
    total_steps: int = 0

    def to_plan(self) -> Plan:
        return Plan(
            scenario=self.scenario,
            network=self.network,
            method=self.method,
            objective=self.objective,
            status=self.status,
            start=self.start,
            dt=float(self.dt),
            horizon=self.horizon,
            evacuees=self.evacuees,
            evacuated=self.evacuated,
            bound=self.bound,
            routes=tuple(
                Route(
                    source=r.source,
                    group=r.group,
                    people=r.people,
                    destination=r.destination,
                    nodes=tuple(r.nodes),
                    arcs=tuple(r.arcs),
                    departures=tuple(r.departures),
                    arrival=r.arrival,
                )
                for r in self.routes
            ),
            evacuation_steps=self.evacuation_steps,
            evacuation_steps_proved=self.evacuation_steps_proved,
            total_steps=self.total_steps,
        )
