"""A textbook MIP of the convoy problem, solved by HiGHS: the peer of the exact method.

The formulation is the time-expanded one of the Bus Evacuation Problem (Bish 2011; Goerigk, Grün and
Heßler 2013), extended to what :mod:`corridor.plan.convoy_verify` checks. Each vehicle is one unit of
flow in its own copy of a network whose nodes are (state, step):

- ``E(place, t)``: empty at its start, at a gathering point or at a reception point (after unloading);
- ``B(g, t)``: boarded at gathering point ``g``, ready to leave;
- ``Q(c, t)`` / ``O(c, t)``: loaded at checkpoint ``c``, waiting for / done with its inspection.

Arcs (binary): waiting, approach drives, boarding (with people per source), loaded drives around every
checkpoint straight to a reception point, to a checkpoint, inspections (one per length of inspection,
the length depending on the people on board) and from a checkpoint to a reception point. Drive arcs
use the earliest arrival for the departure step (:class:`~corridor.solve.convoy.legs.Legs`). People
on board ride as a second flow on the loaded arcs (no more than the vehicle's places where the vehicle
drives). At each checkpoint and step at most one inspection runs, and none while it is closed.

The lexicographic objective is solved as a sequence of MIPs, each fixing the previous optimum. This
model is here to check the exact method on small instances and to compare with it in the benchmark;
it returns the objective, not a plan.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import highspy
import numpy as np

from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import UNLIMITED
from corridor.solve.convoy.legs import Legs


@dataclass
class MipResult:
    """The objective found: people out per priority level (most urgent first), completion, trips."""

    levels: list[int]
    completion: int
    trips: int
    status: str  # "optimal" when every solve of the sequence was proved, else "feasible" / "none"
    bound: int | None  # a proved bound on people out (one priority level only)
    columns: int = 0
    rows: int = 0
    seconds: float = 0.0
    solves: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, ...]:
        """The same key as :func:`~corridor.solve.convoy.schedule.objective_key`."""
        return (*(-n for n in self.levels), self.completion, self.trips)

    @property
    def evacuated(self) -> int:
        return sum(self.levels)


class _Builder:
    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows_lo: list[float] = []
        self.rows_hi: list[float] = []
        self.entries: list[tuple[int, int, float]] = []

    def var(self, upper: float, integer: bool) -> int:
        self.cost.append(0.0)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, terms: dict[int, float] | list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(self.rows_lo)
        items = terms.items() if isinstance(terms, dict) else terms
        for col, val in items:
            if val:
                self.entries.append((r, col, val))
        self.rows_lo.append(lo)
        self.rows_hi.append(hi)

    def highs(self) -> highspy.Highs:
        lp = highspy.HighsLp()
        n = len(self.cost)
        lp.num_col_ = n
        lp.num_row_ = len(self.rows_lo)
        lp.col_cost_ = np.asarray(self.cost)
        lp.col_lower_ = np.asarray(self.lower)
        lp.col_upper_ = np.asarray(self.upper)
        lp.row_lower_ = np.asarray(self.rows_lo)
        lp.row_upper_ = np.asarray(self.rows_hi)
        by_col: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for r, c, v in self.entries:
            by_col[c].append((r, v))
        start = [0]
        index: list[int] = []
        value: list[float] = []
        for col in by_col:
            for r, v in col:
                index.append(r)
                value.append(v)
            start.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.asarray(start, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(value)
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in self.integer
        ]
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        return h


class _Mip:
    """The time-expanded model (see the module's documentation)."""

    def __init__(self, problem: ConvoyProblem, legs: Legs) -> None:
        if any(problem.vehicle_on_board):
            raise ValueError("the MIP peer does not model vehicles with people on board at the start")
        self.p, self.legs, self.b = problem, legs, _Builder()
        flow = problem.flow
        self.H = problem.horizon
        self.cp_nodes = [int(v) for v in flow.checkpoint_node.tolist()]
        self.cp_set = frozenset(self.cp_nodes)
        self.dests = [int(v) for v in flow.dest_node.tolist()]
        self.gathering = [int(v) for v in problem.gathering_nodes.tolist()]
        self.sources = [s for s, n in enumerate(flow.source_people.tolist()) if n > 0]
        levels = sorted(set(flow.group_priority.tolist()))
        self.level_of = [levels.index(int(flow.group_priority[int(g)])) for g in flow.source_group.tolist()]
        self.level_terms: list[dict[int, float]] = [defaultdict(float) for _ in levels]
        self.trip_terms: dict[int, float] = {}
        self.taken: dict[int, list[int]] = defaultdict(list)  # source -> x columns
        self.received: dict[int, list[int]] = defaultdict(list)  # reception -> people columns
        self.arrivals: list[tuple[int, int]] = []  # (arc column, arrival step)
        self.busy: dict[tuple[int, int], list[int]] = defaultdict(list)  # (checkpoint, step) -> arcs
        self.closed = [self._closed_steps(node) for node in self.cp_nodes]
        for v in range(problem.n_vehicles):
            self._vehicle(v)
        self._shared()

    def _closed_steps(self, node: int) -> set[int]:
        nc = self.p.flow.node_closed
        out: set[int] = set()
        for it, a, b in zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True):
            if it == node:
                out.update(range(int(a), int(b)))
        return out

    def _arrival(self, kind: int, u: int, w: int, t: int, avoid: frozenset[int]) -> int | None:
        path = self.legs.drive(kind, u, w, t, avoid)
        return None if path is None or path.arrival > self.H else int(path.arrival)

    def _vehicle(self, v: int) -> None:
        net = _VehicleNet(self, v)
        net.empty()
        net.boarding()
        net.hauls()
        net.checkpoints()
        net.close()

    def _shared(self) -> None:
        p, b = self.p, self.b
        for s, cols in self.taken.items():
            b.row([(x, 1.0) for x in cols], -np.inf, float(p.flow.source_people[s]))
        for r, cap in enumerate(p.flow.dest_cap.tolist()):
            if cap != UNLIMITED and self.received[r]:
                b.row([(y, 1.0) for y in self.received[r]], -np.inf, float(cap))
        for cols in self.busy.values():
            if len(cols) > 1:
                b.row([(x, 1.0) for x in cols], -np.inf, 1.0)
        self.completion = b.var(self.H, False)  # the completion, at least every arrival
        for col, when in self.arrivals:
            b.row([(self.completion, 1.0), (col, -float(when))], 0.0, np.inf)


State = tuple[str, int, int]


class _VehicleNet:
    """One vehicle's copy of the time-expanded network."""

    def __init__(self, mip: _Mip, v: int) -> None:
        p = mip.p
        self.mip, self.b, self.p, self.H = mip, mip.b, p, mip.H
        self.kind = int(p.vehicle_type[v])
        self.seats, self.stretchers = p.capacity(v)
        self.cap = self.seats + self.stretchers
        self.load, self.unload = int(p.load_steps[self.kind]), int(p.unload_steps[self.kind])
        self.end = self.H + 1
        self.balance: dict[State, list[tuple[int, float]]] = defaultdict(list)
        self.people: dict[State, list[tuple[int, float]]] = defaultdict(list)
        self.places = [(-1, int(p.vehicle_node[v]))]
        self.places += list(enumerate(mip.gathering))
        self.places += [(len(mip.gathering) + r, d) for r, d in enumerate(mip.dests)]
        start = self.arc(None, ("E", -1, int(p.vehicle_ready[v])))
        self.b.row([(start, 1.0)], 1.0, 1.0)

    def arc(self, tail: State | None, head: State | None) -> int:
        col = self.b.var(1, True)
        if tail is not None:
            self.balance[tail].append((col, -1.0))
        if head is not None:
            self.balance[head].append((col, 1.0))
        return col

    def loaded(self, col: int, tail: State | None, head: State | None, most: int) -> int:
        """People riding on arc ``col`` (no more than ``most``, none unless the vehicle drives it)."""
        y = self.b.var(most, False)
        self.b.row([(y, 1.0), (col, -float(most))], -np.inf, 0.0)
        if tail is not None:
            self.people[tail].append((y, -1.0))
        if head is not None:
            self.people[head].append((y, 1.0))
        return y

    def unloaded(self, r: int, when: int) -> State:
        return ("E", len(self.mip.gathering) + r, min(when + self.unload, self.end))

    def empty(self) -> None:
        """Waiting and empty drives to gathering points."""
        mip = self.mip
        for pi, node in self.places:
            for t in range(self.end + 1):
                state = ("E", pi, t)
                self.arc(state, ("E", pi, t + 1) if t < self.end else None)
                if t > self.H:
                    continue
                for gi, g in enumerate(mip.gathering):
                    when = None if gi == pi else mip._arrival(self.kind, node, g, t, frozenset())
                    if when is not None:
                        self.arc(state, ("E", gi, when))

    def boarding(self) -> None:
        mip, p = self.mip, self.p
        for gi, g in enumerate(mip.gathering):
            here = [s for s in mip.sources if int(p.flow.source_node[s]) == g]
            for t in range(self.H + 1 - self.load):
                col = self.arc(("E", gi, t), ("B", gi, t + self.load))
                mip.trip_terms[col] = 1.0
                y = self.loaded(col, None, ("B", gi, t + self.load), self.cap)
                xs: list[tuple[int, float]] = [(y, -1.0)]
                seated: list[tuple[int, float]] = [(col, -float(self.seats))]
                lying: list[tuple[int, float]] = [(col, -float(self.stretchers))]
                for s in here:
                    lie = bool(p.source_stretcher[s])
                    most = min(self.stretchers if lie else self.seats, int(p.flow.source_people[s]))
                    if most <= 0:
                        continue
                    x = self.b.var(most, True)
                    xs.append((x, 1.0))
                    (lying if lie else seated).append((x, 1.0))
                    mip.taken[s].append(x)
                    mip.level_terms[mip.level_of[s]][x] += 1.0
                self.b.row(xs, 0.0, 0.0)
                self.b.row(seated, -np.inf, 0.0)
                self.b.row(lying, -np.inf, 0.0)
                self.b.row([(y, 1.0), (col, -1.0)], 0.0, np.inf)  # a trip carries someone

    def hauls(self) -> None:
        """Loaded drives from gathering points: around every checkpoint, or to one."""
        mip = self.mip
        for gi, g in enumerate(mip.gathering):
            for t in range(self.H + 1):
                tail = ("B", gi, t)
                for r, d in enumerate(mip.dests):
                    when = mip._arrival(self.kind, g, d, t, mip.cp_set)
                    if when is not None:
                        col = self.arc(tail, self.unloaded(r, when))
                        mip.received[r].append(self.loaded(col, tail, None, self.cap))
                        mip.arrivals.append((col, when))
                for c, cnode in enumerate(mip.cp_nodes):
                    when = mip._arrival(self.kind, g, cnode, t, mip.cp_set - {cnode})
                    if when is not None:
                        col = self.arc(tail, ("Q", c, when))
                        self.loaded(col, tail, ("Q", c, when), self.cap)

    def checkpoints(self) -> None:
        """Queueing, inspections (one arc per length) and loaded drives on to reception points."""
        mip, p = self.mip, self.p
        for c, cnode in enumerate(mip.cp_nodes):
            durations: dict[int, int] = {}
            for n in range(1, self.cap + 1):
                durations[p.inspection_steps(c, n)] = n  # the most people for each length
            for t in range(self.H + 1):
                tail = ("Q", c, t)
                if t < self.H:
                    col = self.arc(tail, ("Q", c, t + 1))
                    self.loaded(col, tail, ("Q", c, t + 1), self.cap)
                for dur, most in durations.items():
                    if t + dur > self.H or any(s in mip.closed[c] for s in range(t, t + dur)):
                        continue
                    col = self.arc(tail, ("O", c, t + dur))
                    self.loaded(col, tail, ("O", c, t + dur), most)
                    for s in range(t, t + dur):
                        mip.busy[(c, s)].append(col)
                out = ("O", c, t)
                for r, d in enumerate(mip.dests):
                    when = mip._arrival(self.kind, cnode, d, t, mip.cp_set - {cnode})
                    if when is not None:
                        col = self.arc(out, self.unloaded(r, when))
                        mip.received[r].append(self.loaded(col, out, None, self.cap))
                        mip.arrivals.append((col, when))

    def close(self) -> None:
        for terms in self.balance.values():
            self.b.row(terms, 0.0, 0.0)
        for terms in self.people.values():
            self.b.row(terms, 0.0, 0.0)


def _objective_of(model: _Mip, x: np.ndarray) -> tuple[list[int], int, int]:
    levels = [round(sum(x[c] * w for c, w in terms.items())) for terms in model.level_terms]
    completion = max((when for col, when in model.arrivals if x[col] > 0.5), default=0)
    trips = round(sum(x[c] for c in model.trip_terms))
    return levels, completion, trips


def solve_mip(problem: ConvoyProblem, legs: Legs, *, time_limit: float = 60.0) -> MipResult:
    """The lexicographic optimum by the textbook MIP (or the best found within ``time_limit``)."""
    began = time.perf_counter()
    model = _Mip(problem, legs)
    b = model.b
    h = b.highs()
    n = len(b.cost)
    goals: list[tuple[dict[int, float], bool]] = [(dict(t), True) for t in model.level_terms]
    goals += [({model.completion: 1.0}, False), (model.trip_terms, False)]
    values: list[int] = []
    solves: list[str] = []
    proved = True
    bound: int | None = None
    found: tuple[list[int], int, int] | None = None
    for i, (terms, maximise) in enumerate(goals):
        left = time_limit - (time.perf_counter() - began)
        if left <= 0:
            proved = False
            break
        h.setOptionValue("time_limit", float(left))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        cols = np.asarray(list(terms), dtype=np.int32)
        coefs = np.asarray([terms[c] for c in cols.tolist()], dtype=np.float64)
        h.changeColsCost(len(cols), cols, coefs)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        solves.append(f"{h.modelStatusToString(status)}:{time.perf_counter() - began:.1f}s")
        if info.primal_solution_status != 2:  # no feasible solution
            proved = False
            break
        found = _objective_of(model, np.asarray(h.getSolution().col_value))
        value = round(info.objective_function_value)
        if i == 0 and len(model.level_terms) == 1:
            bound = int(np.floor(info.mip_dual_bound + 1e-6))
        values.append(value)
        if status != highspy.HighsModelStatus.kOptimal:
            proved = False
            break
        if cols.size:
            lo, hi = (value - 0.5, np.inf) if maximise else (-np.inf, value + 0.5)
            h.addRow(lo, hi, len(cols), cols, coefs)
    levels, completion, trips = found if found is not None else ([0] * len(model.level_terms), 0, 0)
    done = proved and len(values) == len(goals)
    return MipResult(
        levels=levels,
        completion=completion,
        trips=trips,
        status="optimal" if done else ("feasible" if found is not None else "none"),
        bound=bound,
        columns=n,
        rows=len(b.rows_lo),
        seconds=time.perf_counter() - began,
        solves=solves,
    )


__all__ = ["MipResult", "solve_mip"]
