"""A convoy problem: the flow problem plus a fleet of vehicles, compiled onto the same time axis.

Units are steps of ``axis.dt`` minutes, as in :class:`~corridor.problem.model.Problem`. A vehicle of
type ``k`` takes ``arc_steps[k][a] = max(1, ceil(travel_time[a] * speed_factor[k] / dt))`` steps on
road ``a``, boards in ``load_steps[k]`` steps and unloads in ``unload_steps[k]``. A checkpoint inspects
one loaded vehicle at a time; an inspection of a vehicle carrying ``n`` people takes
``inspection_steps(c, n)`` steps (the inspection time, and no less than the checkpoint's rate allows).
Gathering points are the nodes of the sources: a vehicle boards people of the sources at one node.

The live state of an operation (vehicles on the road, people on board or already out) enters as
:class:`LiveState`; the problem's ``source_people`` are then the people still waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from corridor.core.findings import Finding, Severity, has_errors
from corridor.network.model import Network
from corridor.problem.build import compile_problem
from corridor.problem.model import UNLIMITED, IntArray, Problem
from corridor.scenario.load import time_step_minutes
from corridor.scenario.model import Scenario

_EPS = 1e-9


@dataclass(frozen=True)
class VehicleState:
    """Where a vehicle is now: at ``node`` (a node id), free from step ``ready``, with people on board.

    ``on_board`` maps source ids to people already in the vehicle; they are out once it reaches a
    reception point. A vehicle between two nodes is given at the node it will reach next.
    """

    vehicle: str
    node: str
    ready: int = 0
    on_board: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class LiveState:
    """What an operation holds: vehicles' places, people already out, people no longer waiting."""

    vehicles: tuple[VehicleState, ...] = ()
    # source id -> people no longer waiting there (out, on board, or gone): removed from the sources.
    left: tuple[tuple[str, int], ...] = ()
    out_by_group: tuple[tuple[str, int], ...] = ()
    # reception point id -> people already received there: taken off its capacity.
    received: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, eq=False)
class ConvoyProblem:
    """The flow problem (network, window, sources, reception points, checkpoints, closures) + the fleet."""

    flow: Problem
    type_ids: tuple[str, ...]
    type_seats: IntArray
    type_stretchers: IntArray
    type_speed: NDArray[np.float64]
    load_steps: IntArray  # per type
    unload_steps: IntArray  # per type
    vehicle_ids: tuple[str, ...]
    vehicle_type: IntArray  # index into type_*
    vehicle_node: IntArray  # where each vehicle is at its ready step
    vehicle_ready: IntArray
    vehicle_on_board: tuple[tuple[tuple[int, int], ...], ...]  # (source index, people) per vehicle
    group_stretcher: NDArray[np.bool_]
    checkpoint_inspection: IntArray  # steps per loaded vehicle, per checkpoint (order of flow.checkpoint_*)
    checkpoint_vehicle_rate: NDArray[np.float64]  # vehicles/hour, 0 = no such limit
    checkpoint_people_rate: NDArray[np.float64]  # people/hour, 0 = no such limit
    out_already: int = 0
    out_already_by_group: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def network(self) -> Network:
        return self.flow.network

    @property
    def horizon(self) -> int:
        return self.flow.horizon

    @property
    def dt(self) -> float:
        return self.flow.axis.dt

    @property
    def n_vehicles(self) -> int:
        return len(self.vehicle_ids)

    @property
    def people(self) -> int:
        """People waiting at the gathering points and on board (out already not counted)."""
        board = sum(p for v in self.vehicle_on_board for _, p in v)
        return self.flow.people + board

    @cached_property
    def arc_steps(self) -> IntArray:
        """``arc_steps[k, a]``: steps a vehicle of type ``k`` takes on road ``a``."""
        minutes = np.outer(self.type_speed, self.network.travel_time) / self.dt
        return np.maximum(1, np.ceil(minutes - _EPS)).astype(np.int64).reshape(len(self.type_ids), -1)

    @cached_property
    def source_stretcher(self) -> NDArray[np.bool_]:
        return np.asarray(self.group_stretcher[self.flow.source_group], dtype=bool)

    @cached_property
    def checkpoint_of_node(self) -> dict[int, int]:
        """Node index -> checkpoint index (the first checkpoint at that node)."""
        out: dict[int, int] = {}
        for c, v in enumerate(self.flow.checkpoint_node.tolist()):
            out.setdefault(int(v), c)
        return out

    @cached_property
    def gathering_nodes(self) -> IntArray:
        """Nodes where people wait (sorted, unique)."""
        flow = self.flow
        return np.unique(flow.source_node[flow.source_people > 0]).astype(np.int64)

    def inspection_steps(self, checkpoint: int, people: int) -> int:
        """Steps checkpoint ``checkpoint`` is busy with one loaded vehicle carrying ``people``."""
        minutes = self._inspection_minutes(checkpoint)
        rate_v = float(self.checkpoint_vehicle_rate[checkpoint])
        rate_p = float(self.checkpoint_people_rate[checkpoint])
        if rate_v > 0:
            minutes = max(minutes, 60.0 / rate_v)
        if rate_p > 0:
            minutes = max(minutes, 60.0 * people / rate_p)
        return max(1, math.ceil(minutes / self.dt - _EPS))

    def _inspection_minutes(self, checkpoint: int) -> float:
        return float(self.checkpoint_inspection[checkpoint]) * self.dt

    def capacity(self, vehicle: int) -> tuple[int, int]:
        """(seats, stretcher places) of vehicle ``vehicle``."""
        k = int(self.vehicle_type[vehicle])
        return int(self.type_seats[k]), int(self.type_stretchers[k])


def _steps(minutes: float, dt: float) -> int:
    return max(0, math.ceil(minutes / dt - _EPS))


@dataclass
class _Fleet:
    findings: list[Finding]
    type_ids: list[str] = field(default_factory=list)
    seats: list[int] = field(default_factory=list)
    stretchers: list[int] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)
    load: list[int] = field(default_factory=list)
    unload: list[int] = field(default_factory=list)
    vehicle_ids: list[str] = field(default_factory=list)
    vehicle_type: list[int] = field(default_factory=list)
    vehicle_node: list[int] = field(default_factory=list)

    def error(self, code: str, where: str, message: str, hint: str) -> None:
        self.findings.append(Finding(Severity.ERROR, code, where, message, hint))


def _fleet(scenario: Scenario, network: Network, dt: float, findings: list[Finding]) -> _Fleet:
    fleet = _Fleet(findings)
    if not scenario.fleet:
        fleet.error("no-fleet", "fleet", "the scenario has no vehicles", "add [[fleet]] entries")
    for i, part in enumerate(scenario.fleet):
        where = f"fleet[{i}] ({part.id})"
        if part.seats + part.stretchers == 0:
            fleet.error(
                "zero-capacity-vehicle",
                where,
                "a vehicle with no seat and no stretcher place carries nobody",
                "give 'seats' or 'stretchers' above 0, or remove this entry",
            )
        if part.depot is not None:
            node = network.index.get(part.depot, -1)
            if node < 0:
                fleet.error(
                    "depot-off-network",
                    where,
                    f"depot {part.depot!r} is not a node of {network.name!r}",
                    "use a node id of the network file, or give lon/lat",
                )
        elif not network.has_coordinates:
            fleet.error("no-coordinates", where, "lon/lat given but the network has no coordinates", "")
            node = -1
        else:
            assert part.lon is not None and part.lat is not None
            node = network.nearest_node(part.lon, part.lat)
        k = len(fleet.type_ids)
        fleet.type_ids.append(part.id)
        fleet.seats.append(part.seats)
        fleet.stretchers.append(part.stretchers)
        fleet.speed.append(part.speed_factor)
        load = scenario.convoy.loading_minutes if part.loading_minutes is None else part.loading_minutes
        unload = (
            scenario.convoy.unloading_minutes if part.unloading_minutes is None else part.unloading_minutes
        )
        fleet.load.append(_steps(load, dt))
        fleet.unload.append(_steps(unload, dt))
        width = max(2, len(str(part.count)))
        for j in range(part.count):
            fleet.vehicle_ids.append(f"{part.id}-{j + 1:0{width}d}")
            fleet.vehicle_type.append(k)
            fleet.vehicle_node.append(node)
    return fleet


def _group_findings(scenario: Scenario, fleet: _Fleet, findings: list[Finding]) -> None:
    seats = sum(s * (n > 0) for s, n in zip(fleet.seats, _counts(scenario), strict=True))
    stretchers = sum(s * (n > 0) for s, n in zip(fleet.stretchers, _counts(scenario), strict=True))
    for g in scenario.groups:
        people = sum(s.people for s in scenario.sources if s.group == g.name)
        if people == 0:
            continue
        if g.stretcher and stretchers == 0:
            findings.append(
                Finding(
                    Severity.ERROR,
                    "group-fits-no-vehicle",
                    f"groups ({g.name})",
                    f"{people} people need a stretcher place and no vehicle of the fleet has one",
                    "add vehicles with 'stretchers' (ambulances) to [[fleet]]",
                )
            )
        if not g.stretcher and seats == 0:
            findings.append(
                Finding(
                    Severity.ERROR,
                    "group-fits-no-vehicle",
                    f"groups ({g.name})",
                    f"{people} people need a seat and no vehicle of the fleet has one",
                    "add vehicles with 'seats' (buses) to [[fleet]]",
                )
            )


def _counts(scenario: Scenario) -> list[int]:
    return [part.count for part in scenario.fleet]


def _checkpoint_rates(
    scenario: Scenario, flow: Problem
) -> tuple[IntArray, NDArray[np.float64], NDArray[np.float64]]:
    by_id = {c.id: c for c in scenario.checkpoints}
    inspection, vrate, prate = [], [], []
    for cid in flow.checkpoint_ids:
        cp = by_id[cid]
        minutes = (
            scenario.convoy.inspection_minutes if cp.inspection_minutes is None else cp.inspection_minutes
        )
        inspection.append(_steps(minutes, flow.axis.dt))
        vrate.append(cp.vehicles_per_hour or 0.0)
        prate.append(cp.people_per_hour or 0.0)
    return (
        np.asarray(inspection, dtype=np.int64),
        np.asarray(vrate, dtype=np.float64),
        np.asarray(prate, dtype=np.float64),
    )


def _bad_state(findings: list[Finding], where: str, message: str) -> None:
    findings.append(Finding(Severity.ERROR, "bad-live-state", where, message, "check the live state"))


def _apply_state(
    scenario: Scenario, flow: Problem, fleet: _Fleet, state: LiveState, findings: list[Finding]
) -> tuple[Problem, list[int], list[tuple[tuple[int, int], ...]]]:
    people = _people_left(flow, state, findings)
    _check_groups(flow, state, findings)
    dest_cap = _received_caps(flow, state, findings)
    ready, board = _vehicle_states(scenario, flow, fleet, state, findings)
    return replace(flow, source_people=people, dest_cap=dest_cap), ready, board


def _people_left(flow: Problem, state: LiveState, findings: list[Finding]) -> IntArray:
    source_index = {sid: i for i, sid in enumerate(flow.source_ids)}
    people = flow.source_people.copy()
    for sid, gone in state.left:
        i = source_index.get(sid)
        if i is None:
            findings.append(
                Finding(Severity.ERROR, "unknown-source", f"state.left ({sid})", "no such source", "")
            )
            continue
        if int(gone) < 0:
            _bad_state(findings, f"state.left ({sid})", f"{gone} people left: a count cannot be negative")
            continue
        people[i] = max(0, int(people[i]) - int(gone))
    return people


def _check_groups(flow: Problem, state: LiveState, findings: list[Finding]) -> None:
    groups = set(flow.group_names)
    for g, n in state.out_by_group:
        if g not in groups:
            _bad_state(findings, f"state.out_by_group ({g})", f"no such group (groups: {sorted(groups)})")
        elif int(n) < 0:
            _bad_state(findings, f"state.out_by_group ({g})", f"{n} people out: a count cannot be negative")


def _received_caps(flow: Problem, state: LiveState, findings: list[Finding]) -> IntArray:
    """Reception capacities less the people already received there."""
    dest_cap = flow.dest_cap.copy()
    dest_index = {d: i for i, d in enumerate(flow.dest_ids)}
    for did, n in state.received:
        r = dest_index.get(did)
        if r is None:
            _bad_state(findings, f"state.received ({did})", "no such reception point")
        elif int(n) < 0:
            _bad_state(
                findings, f"state.received ({did})", f"{n} people received: a count cannot be negative"
            )
        elif int(dest_cap[r]) != UNLIMITED:
            dest_cap[r] = max(0, int(dest_cap[r]) - int(n))
    return dest_cap


def _vehicle_states(
    scenario: Scenario, flow: Problem, fleet: _Fleet, state: LiveState, findings: list[Finding]
) -> tuple[list[int], list[tuple[tuple[int, int], ...]]]:
    source_index = {sid: i for i, sid in enumerate(flow.source_ids)}
    ready = [0] * len(fleet.vehicle_ids)
    board: list[tuple[tuple[int, int], ...]] = [()] * len(fleet.vehicle_ids)
    vindex = {v: i for i, v in enumerate(fleet.vehicle_ids)}
    seen: set[str] = set()
    for vs in state.vehicles:
        where = f"state.vehicles ({vs.vehicle})"
        if vs.vehicle in seen:
            _bad_state(findings, where, "the vehicle is listed more than once")
            continue
        seen.add(vs.vehicle)
        i = vindex.get(vs.vehicle)
        node = flow.network.index.get(vs.node)
        if i is None or node is None:
            what = "no such vehicle in [[fleet]]" if i is None else f"node {vs.node!r} is not in the network"
            findings.append(Finding(Severity.ERROR, "bad-vehicle-state", where, what, "check the live state"))
            continue
        fleet.vehicle_node[i] = node
        ready[i] = max(0, vs.ready)
        loads = []
        seated = lying = 0
        for sid, n in vs.on_board:
            s = source_index.get(sid)
            if s is None or n < 0:
                what = (
                    f"on board: unknown source {sid!r}" if s is None else f"on board: {n} people from {sid}"
                )
                findings.append(
                    Finding(Severity.ERROR, "bad-vehicle-state", where, what, "check the live state")
                )
                continue
            if n:
                loads.append((s, int(n)))
                if _needs_stretcher(scenario, flow, s):
                    lying += int(n)
                else:
                    seated += int(n)
        k = fleet.vehicle_type[i]
        if seated > fleet.seats[k] or lying > fleet.stretchers[k]:
            findings.append(
                Finding(
                    Severity.ERROR,
                    "bad-vehicle-state",
                    where,
                    f"on board: {seated} seated and {lying} on stretchers, but the vehicle has "
                    f"{fleet.seats[k]} seats and {fleet.stretchers[k]} stretcher places",
                    "check the people on board in the live state",
                )
            )
        board[i] = tuple(loads)
    return ready, board


def _needs_stretcher(scenario: Scenario, flow: Problem, source: int) -> bool:
    """Whether the people of source ``source`` need a stretcher."""
    name = flow.group_names[int(flow.source_group[source])]
    return any(g.stretcher for g in scenario.groups if g.name == name)


def compile_convoy(
    scenario: Scenario, network: Network, *, state: LiveState | None = None
) -> tuple[ConvoyProblem | None, list[Finding]]:
    """The convoy problem and the findings; ``None`` if an error makes it meaningless."""
    flow, findings = compile_problem(scenario, network)
    dt = time_step_minutes(scenario)
    fleet = _fleet(scenario, network, dt, findings)
    _group_findings(scenario, fleet, findings)
    if flow is None or has_errors(findings):
        return None, findings
    ready = [0] * len(fleet.vehicle_ids)
    board: list[tuple[tuple[int, int], ...]] = [()] * len(fleet.vehicle_ids)
    if state is not None:
        flow, ready, board = _apply_state(scenario, flow, fleet, state, findings)
        if has_errors(findings):
            return None, findings
    inspection, vrate, prate = _checkpoint_rates(scenario, flow)
    groups = {g.name: g for g in scenario.groups}
    out_by_group = state.out_by_group if state is not None else ()
    problem = ConvoyProblem(
        flow=flow,
        type_ids=tuple(fleet.type_ids),
        type_seats=np.asarray(fleet.seats, dtype=np.int64),
        type_stretchers=np.asarray(fleet.stretchers, dtype=np.int64),
        type_speed=np.asarray(fleet.speed, dtype=np.float64),
        load_steps=np.asarray(fleet.load, dtype=np.int64),
        unload_steps=np.asarray(fleet.unload, dtype=np.int64),
        vehicle_ids=tuple(fleet.vehicle_ids),
        vehicle_type=np.asarray(fleet.vehicle_type, dtype=np.int64),
        vehicle_node=np.asarray(fleet.vehicle_node, dtype=np.int64),
        vehicle_ready=np.asarray(ready, dtype=np.int64),
        vehicle_on_board=tuple(board),
        group_stretcher=np.asarray([groups[g].stretcher for g in flow.group_names], dtype=bool),
        checkpoint_inspection=inspection,
        checkpoint_vehicle_rate=vrate,
        checkpoint_people_rate=prate,
        out_already=sum(n for _, n in out_by_group),
        out_already_by_group=tuple(out_by_group),
    )
    return problem, findings


__all__ = ["UNLIMITED", "ConvoyProblem", "LiveState", "VehicleState", "compile_convoy"]
