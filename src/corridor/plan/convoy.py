"""A convoy plan: every vehicle's trips, with the roads it drives and when, and whom it carries.

Times are steps of the plan's time axis (``dt`` minutes from ``start``), as in :class:`Plan`. A trip of
a vehicle is: an empty drive (``approach``) from where the vehicle was to a gathering point, boarding
over ``[board_start, board_end)``, a loaded drive (``haul``) to a reception point with an inspection at
every checkpoint it passes, and unloading until ``unload_end``. The next trip's approach starts where
this one ended, no earlier than ``unload_end``. People are *out* when the haul reaches the reception
point, which must be by the horizon (the deadline).

The objective, lexicographic: the most people out by the deadline in the first priority level, then in
the next, and so on; then the earliest completion (the last arrival of a loaded vehicle); then the
fewest trips.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from corridor.plan import canonical

if TYPE_CHECKING:
    from corridor.problem.convoy import ConvoyProblem

ConvoyStatus = Literal["optimal", "feasible"]
CONVOY_FORMAT = 1


@dataclass(frozen=True)
class Drive:
    """A vehicle driving ``nodes`` in order; it leaves ``nodes[k]`` at ``departures[k]``.

    ``arrival`` is the step it reaches ``nodes[-1]``; a drive of one node (no road) is a vehicle that is
    already there, and ``arrival`` is then when it is ready there.
    """

    nodes: tuple[str, ...]
    departures: tuple[int, ...]
    arrival: int

    @property
    def start(self) -> int:
        return self.departures[0] if self.departures else self.arrival


@dataclass(frozen=True)
class Inspection:
    """A loaded vehicle held at checkpoint ``checkpoint`` (its id) over ``[start, end)``."""

    checkpoint: str
    start: int
    end: int


@dataclass(frozen=True)
class Trip:
    """One trip of one vehicle; ``load`` is (source id, people) boarded at the gathering node."""

    vehicle: str
    number: int  # 1, 2, ... for each vehicle
    gathering: str  # node id where people board
    reception: str  # destination id
    load: tuple[tuple[str, int], ...]
    approach: Drive
    board_start: int
    board_end: int
    haul: Drive
    inspections: tuple[Inspection, ...]
    unload_end: int

    @property
    def people(self) -> int:
        return sum(n for _, n in self.load)

    @property
    def arrival(self) -> int:
        return self.haul.arrival


@dataclass(frozen=True)
class ConvoyPlan:
    """The result of every convoy method. ``bound`` is a proved upper bound on people out by the deadline."""

    scenario: str
    network: str
    method: str
    status: ConvoyStatus
    start: datetime
    dt: float
    horizon: int
    evacuees: int  # people to move at the plan's start (waiting and on board)
    evacuated: int  # people the trips bring out by the deadline
    bound: int
    bound_kind: str  # the tightest bound: "people", "flow", "fleet", "checkpoint", "time", "route" or "exact"
    vehicles: tuple[str, ...]
    trips: tuple[Trip, ...]
    by_group: tuple[tuple[str, int], ...] = ()  # people out per group, in the problem's group order
    objective: str = (
        "lexicographic: people out by priority level, then earliest completion, then fewest trips"
    )
    stats: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def gap(self) -> float:
        """Relative gap of ``evacuated`` to ``bound`` (0 for a proved optimum)."""
        return 0.0 if self.bound == 0 else (self.bound - self.evacuated) / self.bound

    @property
    def completion(self) -> int | None:
        """Step of the last arrival of a loaded vehicle (``None`` with no trip)."""
        return max((t.arrival for t in self.trips), default=None)

    def time_of(self, step: int) -> datetime:
        """When step ``step`` starts, on the scenario's clock."""
        return self.start + timedelta(minutes=step * self.dt)

    def trips_of(self, vehicle: str) -> tuple[Trip, ...]:
        return tuple(sorted((t for t in self.trips if t.vehicle == vehicle), key=lambda t: t.number))

    def verify(self, problem: ConvoyProblem) -> list[str]:
        """Violations of ``problem`` by this plan; empty when the plan is feasible."""
        from corridor.plan.convoy_verify import verify_convoy

        return verify_convoy(self, problem)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["format"] = CONVOY_FORMAT
        data.pop("stats")
        return data

    def content_hash(self) -> str:
        """SHA-256 of the plan's canonical JSON: the version operations cite."""
        return canonical.content_hash(self.to_dict())

    def summary(self) -> dict[str, Any]:
        """The figures ``corridor convoy --json`` prints."""
        completion = self.completion
        used = {t.vehicle for t in self.trips}
        return {
            "scenario": self.scenario,
            "method": self.method,
            "objective": self.objective,
            "status": self.status,
            "evacuees": self.evacuees,
            "evacuated_by_deadline": self.evacuated,
            "bound": self.bound,
            "bound_kind": self.bound_kind,
            "gap": round(self.gap, 6),
            "vehicles": len(self.vehicles),
            "vehicles_used": len(used),
            "trips": len(self.trips),
            "completion": None if completion is None else completion * self.dt,
            "by_group": dict(self.by_group),
            "time_step": self.dt,
            "horizon_steps": self.horizon,
            "plan_hash": self.content_hash(),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ConvoyPlan:
        """Read a plan written by :meth:`to_dict` (raises ``KeyError``/``TypeError``/``ValueError``)."""
        try:
            return ConvoyPlan._from_dict(data)
        except OverflowError as exc:  # int(1e400) and the like
            raise ValueError(f"a number is out of range: {exc}") from None

    @staticmethod
    def _from_dict(data: dict[str, Any]) -> ConvoyPlan:

        def drive(d: dict[str, Any]) -> Drive:
            return Drive(
                tuple(str(n) for n in d["nodes"]), tuple(int(x) for x in d["departures"]), int(d["arrival"])
            )

        trips = tuple(
            Trip(
                vehicle=str(t["vehicle"]),
                number=int(t["number"]),
                gathering=str(t["gathering"]),
                reception=str(t["reception"]),
                load=tuple((str(s), int(n)) for s, n in t["load"]),
                approach=drive(t["approach"]),
                board_start=int(t["board_start"]),
                board_end=int(t["board_end"]),
                haul=drive(t["haul"]),
                inspections=tuple(
                    Inspection(str(i["checkpoint"]), int(i["start"]), int(i["end"])) for i in t["inspections"]
                ),
                unload_end=int(t["unload_end"]),
            )
            for t in data["trips"]
        )
        return ConvoyPlan(
            scenario=str(data["scenario"]),
            network=str(data["network"]),
            method=str(data["method"]),
            status="optimal" if data["status"] == "optimal" else "feasible",
            start=datetime.fromisoformat(str(data["start"])),
            dt=float(data["dt"]),
            horizon=int(data["horizon"]),
            evacuees=int(data["evacuees"]),
            evacuated=int(data["evacuated"]),
            bound=int(data["bound"]),
            bound_kind=str(data["bound_kind"]),
            vehicles=tuple(str(v) for v in data["vehicles"]),
            trips=trips,
            by_group=tuple((str(g), int(n)) for g, n in data["by_group"]),
            objective=str(data.get("objective", "")),
        )


__all__ = ["CONVOY_FORMAT", "ConvoyPlan", "ConvoyStatus", "Drive", "Inspection", "Trip"]
