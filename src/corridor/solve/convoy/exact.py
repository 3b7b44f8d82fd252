"""The exact convoy method: a CP-SAT model of every trip of every vehicle, solved objective by objective.

Each vehicle has ``K`` trip slots (``K`` = the most loaded arrivals it can make by the deadline, from
:func:`~corridor.solve.convoy.bounds.trips_possible`); slot ``k`` is used only if slot ``k - 1`` is.
A used slot chooses a gathering point, a reception point and a route: around every checkpoint, or
through one checkpoint ``c`` where the loaded vehicle is inspected, one vehicle at a time and never
while the checkpoint is closed. Its times follow the verifier's rules: each drive arrives no earlier
than the fastest drive around the closures for its departure step (from
:class:`~corridor.solve.convoy.legs.Legs`: a constant where no closure matters, else the table of
arrivals per departure step, cut in pieces where the arrival is the departure plus a constant or a
constant); boarding and unloading take their steps; an inspection lasts at least what the people on
board need. Later times than the earliest are allowed (the vehicle waits): the plan is rebuilt from
the solution's choices and inspection starts with every other time at its earliest, which is never
later than the solution's (a drive's arrival does not decrease with its departure), so the rebuilt
plan keeps the solution's inspections apart and is at least as good.

The objective is lexicographic (see :mod:`corridor.plan.convoy`), solved as two CP-SAT solves with
exact weights: the people out, each priority level weighing more than everyone of the levels after
it; then, with that fixed, the completion weighing more than every possible trip count. The plan is
``optimal`` only when both solves are proved optimal. The dispatcher's plan is the starting solution;
where it brings everyone out, the first solve is proved without CP-SAT and left out, and the plan made
of the completion floor's own solution (:func:`.cuts.floor_plan`) starts instead where it is better.

Besides the constraints that define a plan, redundant ones help the linear relaxation: an unused slot
chooses nothing (no gathering point, reception point nor route) and keeps the previous slot's loaded
arrival, each loaded arrival is at least the previous one plus the least a trip from the chosen
gathering point can take (drives at their fastest with no closure), so that the completion is at
least each vehicle's last slot's arrival, a linear bound; and identical vehicles make their trips in
non-increasing numbers and, as many each, in the order of their first loaded arrivals.

The first solve gets a ceiling on the people out proved on a small integer programme over whole trips
per vehicle and gathering point (:func:`.cuts.people_ceiling`: a point of 35 people costs a 30-seat bus
two trips, which no bound of :mod:`.bounds` sees). The second solve gets a floor: a lower bound on
completion and trips (with the people out fixed) proved first on a small integer programme over whole
trips per vehicle and gathering point (:func:`.cuts.completion_floor`), which the big model's
relaxation (fractions of trips spread over vehicles) does not reach by itself. Where the dispatcher
brings everyone out, each gathering point also gets the trips its people need
(:func:`.cuts.trips_needed`), the completion is capped at the dispatcher's and each vehicle gets only
the slots it can use by then.

Every CP-SAT solve (also those of :mod:`.cuts`) runs in a worker process
(:mod:`corridor.solve.cpsat_process`): where the solver aborts, the method goes on without that
solve's result and says so (``ExactResult.skipped``), instead of ending the process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from corridor.plan.convoy import Drive, Inspection, Trip
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import UNLIMITED
from corridor.solve import cpsat_process
from corridor.solve.convoy.bounds import Bounds, trips_possible
from corridor.solve.convoy.ceiling_choice import solve_within
from corridor.solve.convoy.cuts import completion_floor, floor_plan, people_ceiling, trips_needed
from corridor.solve.convoy.legs import NEVER, Legs, Path, node_ids
from corridor.solve.convoy.schedule import Schedule, Timed, greedy, objective_key
from corridor.solve.convoy.walk_columns import (
    completion_floor_walks,
    level_weights,
    people_ceiling_walks,
    people_plans,
    walk_columns,
    weighted_out,
)
from corridor.solve.convoy.walks import Walk, WalkSolution, walk_plan, walk_programme
from corridor.solve.cpsat_process import Solved, SolverCrashError

Progress = Callable[[int, int], None]
_log = logging.getLogger(__name__)
Fn = tuple[int, tuple[int, ...]]  # (constant offset, ()) or (-1, arrival per ready step 0..H+1)


def _pieces(table: Sequence[int]) -> list[tuple[int, int, bool, int]]:
    """``table`` (arrival per departure step) as pieces ``(lo, hi, shift, value)``: over ``[lo, hi]``
    the arrival is ``step + value`` if ``shift``, else ``value``."""
    out: list[tuple[int, int, bool, int]] = []
    t, last = 0, len(table) - 1
    while t <= last:
        shift_hi = flat_hi = t
        while shift_hi < last and table[shift_hi + 1] - (shift_hi + 1) == table[t] - t:
            shift_hi += 1
        while flat_hi < last and table[flat_hi + 1] == table[t]:
            flat_hi += 1
        if shift_hi >= flat_hi:
            out.append((t, shift_hi, True, table[t] - t))
            t = shift_hi + 1
        else:
            out.append((t, flat_hi, False, table[t]))
            t = flat_hi + 1
    return out


@dataclass
class ExactResult:
    """The schedule found, its status, and a proved bound on people out (``None`` if none better).

    ``skipped`` names the phases left out because the time limit was spent (``"model"``: the model
    was not finished and the dispatcher's plan is returned; ``"hint"``: the dispatcher's plan was
    hinted by its decisions only; ``"ceiling"``/``"floor"``: the first/second solve had no bound from
    :mod:`.cuts`; ``"walks"``: no walk programme, :mod:`.walks`; ``"solve"``: a solve was not started). A
    phase whose CP-SAT solve crashed (the solver runs in a worker process,
    :mod:`corridor.solve.cpsat_process`) is named ``"<phase>:crashed"`` (``"floor-plan"``, ``"walks"``,
    ``"hint"``, ``"ceiling"``, ``"floor"``, ``"solve"``) and the crash is told in ``levels``
    (``"<phase>:CRASHED:<how the worker ended>"``); the plan is then the best found before it, at least
    the dispatcher's, and ``feasible``. ``seconds`` is the method's own wall time."""

    schedule: Schedule
    status: str
    bound: int | None
    levels: list[str] = field(default_factory=list)  # CP-SAT status of each solve of the sequence
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


class _OutOfTimeError(Exception):
    """The time limit ran out while the model was being built."""


@dataclass
class _Slot:
    act: cp_model.IntVar
    gnodes: list[int]
    gsel: list[cp_model.IntVar]
    rsel: list[cp_model.IntVar]
    osel: list[cp_model.IntVar]  # [direct, via checkpoint 0, via checkpoint 1, ...]
    x: dict[int, cp_model.IntVar]  # source -> people boarded
    people: cp_model.IntVar
    t0: cp_model.IntVar
    a: cp_model.IntVar
    b: cp_model.IntVar
    q: cp_model.IntVar | None
    s: cp_model.IntVar | None
    e: cp_model.IntVar | None
    h: cp_model.IntVar
    u: cp_model.IntVar
    carried: tuple[tuple[int, int], ...] = ()


class _Model:
    """The CP-SAT model of a convoy problem (see the module's documentation)."""

    def __init__(
        self, problem: ConvoyProblem, legs: Legs, slots: Sequence[int], deadline: float = math.inf
    ) -> None:
        self.deadline = deadline  # time.perf_counter() past which building raises _OutOfTimeError
        self.p = problem
        self.legs = legs
        self.m = cp_model.CpModel()
        flow = problem.flow
        self.H = problem.horizon
        self.LATE = self.H + 1
        self.cp_nodes = [int(v) for v in flow.checkpoint_node.tolist()]
        self.cp_set = frozenset(self.cp_nodes)
        self.C = len(self.cp_nodes)
        self.dest_nodes = [int(v) for v in flow.dest_node.tolist()]
        self.R = len(self.dest_nodes)
        self.gathering = [int(v) for v in problem.gathering_nodes.tolist()]
        self.sources = [s for s, n in enumerate(flow.source_people.tolist()) if n > 0]
        self.timed = bool(len(flow.arc_closed.item) or len(flow.node_closed.item))
        self.max_cap = int((problem.type_seats + problem.type_stretchers).max(initial=0))
        max_fixed = int(problem.load_steps.max(initial=0) + problem.unload_steps.max(initial=0))
        max_insp = max((problem.inspection_steps(c, self.max_cap) for c in range(self.C)), default=0)
        self.T = 12 * (self.H + 2) + 2 * (max_fixed + max_insp)
        self._fn_cache: dict[tuple[int, int, int, frozenset[int]], Fn] = {}
        self._insp: list[list[cp_model.IntervalVar]] = [[] for _ in range(self.C)]
        self._least_cache: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
        self.slots: list[list[_Slot]] = []
        for v in range(problem.n_vehicles):
            self.slots.append(self._vehicle(v, slots[v]))
        self._totals()
        self._checkpoints()
        self._symmetry()
        self._objective_terms()
        self.tick()

    def tick(self) -> None:
        """Raise :class:`_OutOfTimeError` once the deadline has passed (checked all through building)."""
        if time.perf_counter() > self.deadline:
            raise _OutOfTimeError

    # -- drive tables ---------------------------------------------------------------------------
    def fn(self, kind: int, u: int, w: int, avoid: frozenset[int]) -> Fn:
        """Arrival at ``w`` leaving ``u`` when ready at each step (clamped to LATE)."""
        avoid = avoid - {u, w}
        key = (kind, u, w, avoid)
        hit = self._fn_cache.get(key)
        if hit is not None:
            return hit
        static = self.legs.static_steps(kind, u, w, avoid)
        out: Fn
        if static >= NEVER:
            out = (self.LATE + 1, ())
        elif not self.timed:
            out = (static, ())
        else:
            arrivals = []
            constant = True
            for t in range(self.H + 1):
                if t % 16 == 0:
                    self.tick()
                path = self.legs.drive(kind, u, w, t, avoid)
                arr = self.LATE if path is None else min(path.arrival, self.LATE)
                arrivals.append(arr)
                if arr != min(t + static, self.LATE):
                    constant = False
            out = (static, ()) if constant else (-1, (*arrivals, self.LATE))
        self._fn_cache[key] = out
        return out

    def at_least(
        self, target: cp_model.IntVar, ready: cp_model.IntVar, fn: Fn, lits: list[cp_model.IntVar]
    ) -> None:
        """``target >= fn(ready)`` when every literal of ``lits`` holds."""
        m = self.m
        offset, table = fn
        if offset > self.LATE:  # no such drive
            m.add_bool_or([~lit for lit in lits])
            return
        if not table:
            m.add(target >= ready + offset).only_enforce_if(lits)
            return
        pieces = []
        for lo, hi, shift, value in _pieces(table):
            if not shift and value > self.H:
                continue  # too late whatever the departure: not a piece anyone may choose
            piece = m.new_bool_var("")
            pieces.append(piece)
            m.add(ready >= lo).only_enforce_if(piece)
            m.add(ready <= hi).only_enforce_if(piece)
            if shift:
                m.add(target >= ready + value).only_enforce_if(piece)
            else:
                m.add(target >= value).only_enforce_if(piece)
        m.add_bool_or([*(~lit for lit in lits), *pieces])

    # -- one vehicle ------------------------------------------------------------------------------
    def _vehicle(self, v: int, count: int) -> list[_Slot]:
        p, m = self.p, self.m
        kind = int(p.vehicle_type[v])
        carried = p.vehicle_on_board[v]
        out: list[_Slot] = []
        count = max(count, 1 if carried else 0)
        for k in range(count):
            self.tick()
            name = f"v{v}k{k}"
            is_carried = bool(carried) and k == 0
            gnodes = [int(p.vehicle_node[v])] if is_carried else self.gathering
            act = m.new_bool_var(f"{name}_act")
            if is_carried:
                m.add(act == 1)
            if k > 0:
                m.add_implication(act, out[k - 1].act)
            gsel = [m.new_bool_var(f"{name}_g{j}") for j in range(len(gnodes))]
            rsel = [m.new_bool_var(f"{name}_r{j}") for j in range(self.R)]
            osel = [m.new_bool_var(f"{name}_o{j}") for j in range(self.C + 1)]
            for sel in (gsel, rsel, osel):
                m.add(sum(sel) == act)  # an unused slot chooses nothing (no symmetric choices)
            self._inspected_at_ends(act, gnodes, gsel, rsel, osel)
            x, people = self._load(name, v, gnodes, gsel, act, carried if is_carried else ())
            t0, a, b = self._approach(name, v, k, act, gnodes, gsel, out[k - 1] if k else None, is_carried)
            h = m.new_int_var(0, self.T, f"{name}_h")
            for gi, g in enumerate(gnodes):
                for r, d in enumerate(self.dest_nodes):
                    self.at_least(h, b, self.fn(kind, g, d, self.cp_set), [act, osel[0], gsel[gi], rsel[r]])
            q = s_var = e = None
            inspected_on_arrival: list[list[cp_model.IntVar]] = []
            if self.C:
                q, s_var, e, inspected_on_arrival = self._inspection(
                    name, v, act, gnodes, gsel, rsel, osel, people, b, h
                )
            m.add(h <= self.H).only_enforce_if(act)
            self._chain(v, k, act, gnodes, gsel, h, out[k - 1].h if k else None, is_carried)
            u = m.new_int_var(0, self.T, f"{name}_u")
            if inspected_on_arrival:
                # at a reception point that is a checkpoint the vehicle unloads while inspected
                m.add(u >= h + int(p.unload_steps[kind]))
                for lits in inspected_on_arrival:
                    m.add(u >= e).only_enforce_if(lits)
            else:
                m.add(u == h + int(p.unload_steps[kind]))
            out.append(
                _Slot(
                    act,
                    gnodes,
                    gsel,
                    rsel,
                    osel,
                    x,
                    people,
                    t0,
                    a,
                    b,
                    q,
                    s_var,
                    e,
                    h,
                    u,
                    carried if is_carried else (),
                )
            )
        return out

    def _least(self, kind: int) -> tuple[dict[int, int], dict[int, int]]:
        """For each gathering node: the fastest loaded drive on to any reception point (the shortest
        inspection on the way, no closure) and the fastest drive to it from any reception point."""
        hit = self._least_cache.get(kind)
        if hit is None:
            legs = self.legs
            haul = {
                g: min((legs.static_haul_steps(kind, g, d) for d in self.dest_nodes), default=NEVER)
                for g in self.gathering
            }
            back = {
                g: min((legs.static_steps(kind, d, g) for d in self.dest_nodes), default=NEVER)
                for g in self.gathering
            }
            hit = self._least_cache[kind] = (haul, back)
        return hit

    def _chain(
        self,
        v: int,
        k: int,
        act: cp_model.IntVar,
        gnodes: list[int],
        gsel: list[cp_model.IntVar],
        h: cp_model.IntVar,
        prev_h: cp_model.IntVar | None,
        is_carried: bool,
    ) -> None:
        """Redundant linear constraints on the loaded arrivals ``h`` of one vehicle's slots (they give
        the linear relaxation the time each trip needs, which the enforced drive constraints hide):
        slot ``k``'s arrival is at least the previous one's, unloading, the fastest drive from any
        reception point to the chosen gathering point, boarding and the fastest haul on (closures only
        delay); an unused slot keeps the previous arrival (0 for the first), so that the completion is
        at least the last slot's arrival, a linear bound."""
        p, m = self.p, self.m
        kind = int(p.vehicle_type[v])
        load, unload = int(p.load_steps[kind]), int(p.unload_steps[kind])
        haul, back = self._least(kind)
        chosen: list[cp_model.IntVar] = [act]
        steps: list[int] = [0 if is_carried or prev_h is None else unload]
        for gi, g in enumerate(gnodes):
            least_haul = haul.get(g)
            if least_haul is None:  # a vehicle with people on board, off the gathering points
                least_haul = min(
                    (self.legs.static_haul_steps(kind, g, d) for d in self.dest_nodes), default=NEVER
                )
            if is_carried:
                step = least_haul
            elif prev_h is None:
                step = self.legs.static_steps(kind, int(p.vehicle_node[v]), g) + load + least_haul
            else:
                step = back[g] + load + least_haul
            if step >= NEVER or step > self.T:
                continue  # such slots are cut by the drive constraints already
            chosen.append(gsel[gi])
            steps.append(step)
        if prev_h is None:
            steps[0] += int(p.vehicle_ready[v])
            m.add(h >= cp_model.LinearExpr.weighted_sum(chosen, steps))
            m.add(h == 0).only_enforce_if(~act)
        else:
            m.add(h >= prev_h + cp_model.LinearExpr.weighted_sum(chosen, steps))
            m.add(h == prev_h).only_enforce_if(~act)

    def _inspected_at_ends(
        self,
        act: cp_model.IntVar,
        gnodes: list[int],
        gsel: list[cp_model.IntVar],
        rsel: list[cp_model.IntVar],
        osel: list[cp_model.IntVar],
    ) -> None:
        """A haul that boards or unloads at a checkpoint passes it: it is inspected there, and there
        only (a haul passes one checkpoint at most)."""
        at = self.p.checkpoint_of_node
        ends = [(gsel[j], g) for j, g in enumerate(gnodes)] + list(zip(rsel, self.dest_nodes, strict=True))
        for lit, node in ends:
            c = at.get(node)
            if c is not None:
                self.m.add(osel[c + 1] == 1).only_enforce_if([act, lit])

    def _load(
        self,
        name: str,
        v: int,
        gnodes: list[int],
        gsel: list[cp_model.IntVar],
        act: cp_model.IntVar,
        carried: tuple[tuple[int, int], ...],
    ) -> tuple[dict[int, cp_model.IntVar], cp_model.IntVar]:
        """People boarded per source at the chosen gathering point, and in all."""
        p, m = self.p, self.m
        seats, stretchers = p.capacity(v)
        x: dict[int, cp_model.IntVar] = {}
        if carried:
            return x, m.new_constant(sum(n for _, n in carried))
        seated: list[cp_model.IntVar] = []
        lying: list[cp_model.IntVar] = []
        for s in self.sources:
            node = int(p.flow.source_node[s])
            if node not in gnodes:
                continue
            lie = bool(p.source_stretcher[s])
            cap = min(stretchers if lie else seats, int(p.flow.source_people[s]))
            if cap <= 0:
                continue
            xv = m.new_int_var(0, cap, f"{name}_x{s}")
            m.add(xv <= cap * gsel[gnodes.index(node)])
            x[s] = xv
            (lying if lie else seated).append(xv)
        m.add(sum(seated) <= seats)
        m.add(sum(lying) <= stretchers)
        people = m.new_int_var(0, seats + stretchers, f"{name}_n")
        m.add(people == sum(x.values()))
        m.add(people >= 1).only_enforce_if(act)
        m.add(people == 0).only_enforce_if(~act)
        return x, people

    def _approach(
        self,
        name: str,
        v: int,
        k: int,
        act: cp_model.IntVar,
        gnodes: list[int],
        gsel: list[cp_model.IntVar],
        prev: _Slot | None,
        is_carried: bool,
    ) -> tuple[cp_model.IntVar, cp_model.IntVar, cp_model.IntVar]:
        """When the vehicle is free, reaches the gathering point and has boarded."""
        p, m = self.p, self.m
        kind = int(p.vehicle_type[v])
        if prev is None:
            t0 = m.new_constant(int(p.vehicle_ready[v]))
            origins = [(int(p.vehicle_node[v]), [act])]
        else:
            t0 = m.new_int_var(0, self.LATE, f"{name}_t0")
            m.add(t0 >= prev.u).only_enforce_if(act)
            origins = [(d, [act, prev.rsel[r]]) for r, d in enumerate(self.dest_nodes)]
        if is_carried:
            return t0, t0, t0
        a = m.new_int_var(0, self.T, f"{name}_a")
        for origin, lits in origins:
            for gi, g in enumerate(gnodes):
                self.at_least(a, t0, self.fn(kind, origin, g, frozenset()), [*lits, gsel[gi]])
        b = m.new_int_var(0, self.T, f"{name}_b")
        m.add(b == a + int(p.load_steps[kind]))
        return t0, a, b

    def _inspection(
        self,
        name: str,
        v: int,
        act: cp_model.IntVar,
        gnodes: list[int],
        gsel: list[cp_model.IntVar],
        rsel: list[cp_model.IntVar],
        osel: list[cp_model.IntVar],
        people: cp_model.IntVar,
        b: cp_model.IntVar,
        h: cp_model.IntVar,
    ) -> tuple[cp_model.IntVar, cp_model.IntVar, cp_model.IntVar, list[list[cp_model.IntVar]]]:
        """A haul through checkpoint ``c``: reach it, wait, be inspected, drive on; or, where the
        reception point is the checkpoint, be inspected from arrival on (the literals under which the
        inspection must end before the unloading does are returned)."""
        p, m = self.p, self.m
        kind = int(p.vehicle_type[v])
        seats, stretchers = p.capacity(v)
        q = m.new_int_var(0, self.T, f"{name}_q")
        s_var = m.new_int_var(0, self.T, f"{name}_s")
        dur = m.new_int_var(0, self.T, f"{name}_d")
        e = m.new_int_var(0, self.T, f"{name}_e")
        m.add(s_var >= q)
        m.add(e == s_var + dur)
        on_arrival: list[list[cp_model.IntVar]] = []
        for c, node in enumerate(self.cp_nodes):
            via = [act, osel[c + 1]]
            others = self.cp_set - {node}
            for gi, g in enumerate(gnodes):
                self.at_least(q, b, self.fn(kind, g, node, others), [*via, gsel[gi]])
            for r, d in enumerate(self.dest_nodes):
                if d == node:
                    m.add(h >= q).only_enforce_if([*via, rsel[r]])
                    on_arrival.append([*via, rsel[r]])
                else:
                    self.at_least(h, e, self.fn(kind, node, d, others), [*via, rsel[r]])
            # the inspection's length grows with the people on board
            first_at: dict[int, int] = {}
            for n in range(seats + stretchers, 0, -1):
                first_at[p.inspection_steps(c, n)] = n
            for steps, n in first_at.items():
                if n <= 1:
                    m.add(dur >= steps).only_enforce_if(via)
                    continue
                more = m.new_bool_var("")
                m.add(people <= n - 1).only_enforce_if(~more)
                m.add(dur >= steps).only_enforce_if([*via, more])
            present = m.new_bool_var(f"{name}_p{c}")
            m.add_bool_and(via).only_enforce_if(present)
            m.add_bool_or([~lit for lit in via]).only_enforce_if(~present)
            self._insp[c].append(m.new_optional_interval_var(s_var, dur, e, present, f"{name}_i{c}"))
        return q, s_var, e, on_arrival

    # -- shared constraints ---------------------------------------------------------------------------
    def _totals(self) -> None:
        p, m = self.p, self.m
        for s in self.sources:
            terms = [sl.x[s] for slots in self.slots for sl in slots if s in sl.x]
            if terms:
                m.add(sum(terms) <= int(p.flow.source_people[s]))
        caps = p.flow.dest_cap.tolist()
        if all(cap == UNLIMITED for cap in caps):
            return
        received: list[list[cp_model.IntVar]] = [[] for _ in caps]
        for v, slots in enumerate(self.slots):
            self.tick()
            most = sum(p.capacity(v))
            for k, sl in enumerate(slots):
                ys = []
                for r in range(self.R):
                    y = m.new_int_var(0, most, f"v{v}k{k}_y{r}")
                    m.add(y <= most * sl.rsel[r])
                    m.add(y == sl.people).only_enforce_if(sl.rsel[r])
                    ys.append(y)
                    received[r].append(y)
                m.add(sum(ys) == sl.people)
        for r, cap in enumerate(caps):
            if cap != UNLIMITED:
                m.add(sum(received[r]) <= int(cap))

    def _checkpoints(self) -> None:
        nc = self.p.flow.node_closed
        for c, node in enumerate(self.cp_nodes):
            items = list(self._insp[c])
            for it, a, b in zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True):
                if it == node and b > a:
                    items.append(self.m.new_fixed_size_interval_var(int(a), int(b - a), f"closed{c}_{a}"))
            if len(items) > 1:
                self.m.add_no_overlap(items)

    def _same(self, v: int, w: int) -> bool:
        """Vehicles ``v`` and ``w`` are interchangeable (same type, place and time, nobody on board)."""
        p = self.p
        return (
            int(p.vehicle_type[v]) == int(p.vehicle_type[w])
            and int(p.vehicle_node[v]) == int(p.vehicle_node[w])
            and int(p.vehicle_ready[v]) == int(p.vehicle_ready[w])
            and not p.vehicle_on_board[v]
            and not p.vehicle_on_board[w]
        )

    def _symmetry(self) -> None:
        p = self.p
        for v in range(1, p.n_vehicles):
            w = v - 1
            if not self._same(v, w):
                continue
            for k, slot in enumerate(self.slots[v]):
                if k < len(self.slots[w]):
                    self.m.add_implication(slot.act, self.slots[w][k].act)
                else:
                    self.m.add(slot.act == 0)
            # and, as many trips each, the first loaded arrival of ``w`` comes no later
            if self.slots[v] and self.slots[w]:
                count_v = sum(sl.act for sl in self.slots[v])
                count_w = sum(sl.act for sl in self.slots[w])
                tie = self.m.new_bool_var(f"tie{v}")
                self.m.add(count_v <= count_w - 1).only_enforce_if(~tie)
                self.m.add(self.slots[w][0].h <= self.slots[v][0].h).only_enforce_if(tie)

    def _objective_terms(self) -> None:
        p, m = self.p, self.m
        flow = p.flow
        self.levels = sorted(set(flow.group_priority.tolist()))
        level_of = [self.levels.index(int(flow.group_priority[int(g)])) for g in flow.source_group.tolist()]
        self.level_sum: list[cp_model.LinearExprT] = []
        self.level_most: list[int] = []
        for li in range(len(self.levels)):
            terms: list[cp_model.LinearExprT] = []
            const = 0
            for slots in self.slots:
                for sl in slots:
                    for s, xv in sl.x.items():
                        if level_of[s] == li:
                            terms.append(xv)
                    for s, n in sl.carried:
                        if level_of[s] == li:
                            const += n
            self.level_sum.append(sum(terms) + const)
            self.level_most.append(
                const + sum(int(p.flow.source_people[s]) for s in self.sources if level_of[s] == li)
            )
        self.completion = m.new_int_var(0, self.H, "completion")
        for slots in self.slots:
            for sl in slots:
                m.add(self.completion >= sl.h).only_enforce_if(sl.act)
            if slots:
                m.add(self.completion >= slots[-1].h)  # see _chain: the last arrival, linear
        self.trips = sum(sl.act for slots in self.slots for sl in slots)

    def everyone_out(self, completion: int) -> None:
        """Redundant constraints where everyone is brought out by a plan completing at ``completion``:
        each gathering point gets the trips its people need (see :func:`.cuts.trips_needed`) and an
        optimum completes no later."""
        m = self.m
        for node, need in trips_needed(self.p).items():
            there = [
                sl.gsel[sl.gnodes.index(node)]
                for slots in self.slots
                for sl in slots
                if not sl.carried and node in sl.gnodes
            ]
            m.add(sum(there) >= need)
        m.add(self.completion <= completion)

    # -- hints --------------------------------------------------------------------------------------
    def decisions(self, schedule: Schedule) -> list[tuple[cp_model.IntVar, int]]:
        """The values of the decision variables that make the trips of ``schedule``."""
        p = self.p
        by_vehicle: dict[int, list[Trip]] = {}
        vindex = {vid: i for i, vid in enumerate(p.vehicle_ids)}
        nindex = p.network.index
        dindex = {d: i for i, d in enumerate(p.flow.dest_ids)}
        cindex = {c: i for i, c in enumerate(p.flow.checkpoint_ids)}
        sindex = {s: i for i, s in enumerate(p.flow.source_ids)}
        for t in schedule.trips:
            by_vehicle.setdefault(vindex[t.vehicle], []).append(t)
        # identical vehicles make their trips in non-increasing numbers, ties by first loaded arrival (see
        # _symmetry): swap them so
        lists = [sorted(by_vehicle.get(v, []), key=lambda t: t.number) for v in range(p.n_vehicles)]
        run = [0]
        for v in range(1, p.n_vehicles + 1):
            if v < p.n_vehicles and self._same(v, v - 1):
                run.append(v)
                continue
            ordered = sorted(
                (lists[w] for w in run), key=lambda ts: (-len(ts), ts[0].haul.arrival if ts else 0)
            )
            for w, trips_w in zip(run, ordered, strict=True):
                lists[w] = trips_w
            run = [v]
        out: list[tuple[cp_model.IntVar, int]] = []
        for v, slots in enumerate(self.slots):
            trips = lists[v]
            for k, sl in enumerate(slots):
                trip = trips[k] if k < len(trips) else None
                out.append((sl.act, int(trip is not None)))
                if trip is None:
                    out += [(xv, 0) for xv in sl.x.values()]
                    continue
                g = nindex[trip.gathering]
                out += [(lit, int(sl.gnodes[j] == g)) for j, lit in enumerate(sl.gsel)]
                out += [(lit, int(j == dindex[trip.reception])) for j, lit in enumerate(sl.rsel)]
                via = cindex[trip.inspections[0].checkpoint] + 1 if trip.inspections else 0
                out += [(lit, int(j == via)) for j, lit in enumerate(sl.osel)]
                load = {sindex[s]: n for s, n in trip.load}
                out += [(xv, load.get(s, 0)) for s, xv in sl.x.items()]
        return out


PARAMETERS: dict[str, object] = {}  # extra CP-SAT parameters (benchmarks)
BUILD_SHARE = 0.6  # of the time limit: a model not built by then is given up for the dispatcher's plan
WALK_SHARE = (
    0.35  # of the time limit: the walk relaxation (.walk_columns) where the start brings everyone out
)
PEOPLE_SHARE = 0.2  # of the time limit: the walk ceiling's choices booked where people are left behind
CHOICE_SHARE = 0.5  # of the time limit, at most: the model within the walk ceiling's choice
LEAST_SOLVE = 0.05  # seconds: no solve (nor bound of .cuts) is started with less time than this


def _solve(m: cp_model.CpModel, time_limit: float, workers: int) -> Solved:
    """Solve ``m`` in CP-SAT's worker process (see :mod:`corridor.solve.cpsat_process`; raises its
    :class:`SolverCrashError` where the solver dies)."""
    parameters = cp_model.CpSolver().parameters
    parameters.max_time_in_seconds = max(0.05, time_limit)
    parameters.num_workers = workers
    for key, value in PARAMETERS.items():
        setattr(parameters, key, value)
    return cpsat_process.solve(m, parameters)


def _attempt(
    model: _Model, time_limit: float, workers: int, statuses: list[str], skipped: list[str]
) -> Solved | None:
    """One solve of the sequence (its status told in ``statuses``), or None where it found no
    solution or CP-SAT crashed (then named in ``statuses`` and ``skipped``)."""
    try:
        attempt = _solve(model.m, time_limit, workers)
    except SolverCrashError as error:
        _crashed("solve", error, statuses, skipped)
        return None
    statuses.append(f"{attempt.status_name()}:{attempt.wall_time:.1f}s")
    return attempt if attempt.status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _crashed(phase: str, error: SolverCrashError, statuses: list[str], skipped: list[str]) -> None:
    """Name a phase whose CP-SAT solve crashed (its result is then left out)."""
    statuses.append(f"{phase}:CRASHED:{error.note}")
    skipped.append(f"{phase}:crashed")


def _hint_all(model: _Model, values: Sequence[int]) -> None:
    """Hint every variable (a complete solution: the next solve starts from it)."""
    model.m.clear_hints()  # type: ignore[no-untyped-call]
    hint = model.m.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def _complete_hint(model: _Model, start: Schedule, time_limit: float, workers: int) -> bool:
    """Hint the whole solution made of the decisions of ``start`` (found by a solve with them fixed)."""
    clone = model.m.clone()
    for var, value in model.decisions(start):
        clone.add(clone.get_int_var_from_proto_index(var.index) == value)
    solver = _solve(clone, time_limit, workers)
    code = solver.status
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for var, value in model.decisions(start):
            model.m.add_hint(var, value)
        return False
    _hint_all(model, list(solver.response_proto.solution))
    return True


def _timed_trips(model: _Model, solver: Solved, schedule: Schedule) -> None:
    """Book the trips of the solution into ``schedule`` (paths from Legs at the solution's times)."""
    p, legs = model.p, model.legs
    flow = p.flow
    for v, slots in enumerate(model.slots):
        kind = int(p.vehicle_type[v])
        for sl in slots:
            if not solver.boolean_value(sl.act):
                break
            g = sl.gnodes[next(j for j, lit in enumerate(sl.gsel) if solver.boolean_value(lit))]
            r = next(j for j, lit in enumerate(sl.rsel) if solver.boolean_value(lit))
            o = next(j for j, lit in enumerate(sl.osel) if solver.boolean_value(lit))
            dest = model.dest_nodes[r]
            # at the earliest, given the decisions and the inspections' starts of the solution (every
            # time is then no later than the solution's, so its inspections stay clear of each other)
            t0 = schedule.free_at[v]
            origin = schedule.free_node[v]
            if sl.carried:
                approach: Path | None = Path((origin,), (), t0)
                load = sl.carried
            else:
                approach = legs.drive(kind, origin, g, t0)
                load = tuple((s, int(solver.value(xv))) for s, xv in sl.x.items() if solver.value(xv) > 0)
            assert approach is not None
            board_start = int(approach.arrival)
            board_end = board_start + (0 if sl.carried else int(p.load_steps[kind]))
            assert board_end <= solver.value(sl.b)
            people = sum(n for _, n in load)
            bookings: tuple[tuple[int, int, int], ...] = ()
            if o == 0:
                haul = legs.drive(kind, g, dest, board_end, avoid=model.cp_set)
                assert haul is not None
            else:
                c = o - 1
                node = model.cp_nodes[c]
                others = model.cp_set - {node}
                first = legs.drive(kind, g, node, board_end, avoid=others)
                assert first is not None and sl.s is not None
                start = int(solver.value(sl.s))
                assert start >= first.arrival
                end = start + p.inspection_steps(c, people)
                if node == dest:
                    haul = first  # inspected on arrival, while it unloads
                else:
                    second = legs.drive(kind, node, dest, end, avoid=others)
                    assert second is not None
                    haul = Path(
                        first.nodes + second.nodes[1:], first.departures + second.departures, second.arrival
                    )
                bookings = ((c, start, end),)
            assert haul.arrival <= int(solver.value(sl.h)), (haul.arrival, solver.value(sl.h))
            unload_end = max([haul.arrival + int(p.unload_steps[kind]), *(e0 for _, _, e0 in bookings)])
            trip = Trip(
                vehicle=p.vehicle_ids[v],
                number=schedule.number[v] + 1,
                gathering=p.network.node_ids[g],
                reception=flow.dest_ids[r],
                load=tuple((flow.source_ids[s], n) for s, n in load),
                approach=Drive(node_ids(p, approach.nodes), approach.departures, approach.arrival),
                board_start=board_start,
                board_end=board_end,
                haul=Drive(node_ids(p, haul.nodes), haul.departures, haul.arrival),
                inspections=tuple(Inspection(flow.checkpoint_ids[c], s0, e0) for c, s0, e0 in bookings),
                unload_end=unload_end,
            )
            schedule.commit(Timed(trip, v, g, r, load, bookings, dest, unload_end))


def _level_weights(model: _Model) -> list[int]:
    """The weight of each priority level's people: more than everyone of the levels after it."""
    weights: list[int] = []
    weight = 1
    for most in reversed(model.level_most):
        weights.insert(0, weight)
        weight *= most + 1
    return weights


def _most(model: _Model) -> int:
    """The people-out objective with everyone out."""
    return sum(w * most for w, most in zip(_level_weights(model), model.level_most, strict=True))


@dataclass(frozen=True)
class _WalkFloor:
    """The walk relaxation's floors (:mod:`.walk_columns`, :mod:`.walks`) on every plan bringing
    everyone out: its completion, and at that completion its trips (None where not proved)."""

    completion: int = 0
    trips: int | None = None

    def proves(self, problem: ConvoyProblem, plan: Schedule) -> bool:
        """Whether ``plan`` (bringing everyone out) completes by the floor with the fewest trips."""
        return self.trips is not None and objective_key(problem, plan.trips)[-2:] == (
            self.completion,
            self.trips,
        )

    def bound(self, model: _Model) -> None:
        """The floors in ``model`` (with the people out fixed at everyone): the completion, and the
        second objective (completion weighing more than every trip count) at least the floor's."""
        model.m.add(model.completion >= self.completion)
        if self.trips is not None:
            n_slots = sum(len(sl) for sl in model.slots)
            least = self.completion * (n_slots + 1) + min(self.trips, n_slots)
            model.m.add(model.completion * (n_slots + 1) + model.trips >= least)


def _objectives(
    model: _Model, start: Schedule, walk_floor: _WalkFloor | None = None
) -> tuple[list[tuple[cp_model.LinearExprT, bool]], bool]:
    """The solves in order (expression, maximise?): the people out with exact weights (each level
    counts more than everyone of the levels after it), then the completion and the trips. Where the
    starting plan brings everyone out, every level is at its most (proved): the first solve is left
    out and the people out fixed (whether it was is the second value), and the completion and trips
    are at least ``walk_floor``'s (the walk relaxation's bounds)."""
    weights = _level_weights(model)
    people_goal = cp_model.LinearExpr.weighted_sum(model.level_sum, weights)
    n_slots = sum(len(sl) for sl in model.slots)
    objectives: list[tuple[cp_model.LinearExprT, bool]] = [
        (people_goal, True),
        (model.completion * (n_slots + 1) + model.trips, False),
    ]
    if sum(t.people for t in start.trips) < sum(model.level_most):
        return objectives, False
    model.m.add(people_goal >= _most(model))
    model.everyone_out(objective_key(model.p, start.trips)[-2])
    if walk_floor is not None:  # the walk relaxation: of every plan bringing everyone out
        walk_floor.bound(model)
    return objectives[1:], True


def _floor(
    model: _Model,
    expr: cp_model.LinearExprT,
    people: int,
    time_limit: float,
    workers: int,
    by_deadline: dict[int, int] | None = None,
) -> str:
    """With the people out fixed at ``people`` (weighted as in the first solve), bound the second
    objective ``expr`` from below by the completion floor (:func:`.cuts.completion_floor`) and, where
    people are left behind, the walk ceiling's by each deadline (``by_deadline``,
    :func:`.walk_columns.completion_floor_walks`); their values for the solve's log."""
    weight = sum(len(sl) for sl in model.slots) + 1
    counts = [len(sl) for sl in model.slots]
    least = None if people >= _most(model) else (_level_weights(model), people)
    walks = None
    if least is not None and by_deadline:
        walks = completion_floor_walks(by_deadline, people)
        if walks is not None:
            model.m.add(expr >= walks * weight)
            model.m.add(model.completion >= walks)
    floor = completion_floor(model.p, model.legs, counts, weight, time_limit, workers, least)
    note = "" if walks is None else f":walks:{walks}"
    if floor is None:
        return f"floor:none{note}"
    model.m.add(expr >= floor)
    model.m.add(model.completion >= floor // weight)
    return f"floor:{floor // weight}+{floor % weight}{note}"


def _ceiling(
    model: _Model, expr: cp_model.LinearExprT, time_limit: float, workers: int, known: int | None = None
) -> str:
    """Bound the people-out objective ``expr`` from above by the least of :func:`.cuts.people_ceiling`
    (whole trips per vehicle and gathering point) and :func:`.walk_columns.people_ceiling_walks`
    (each vehicle's trips by the deadline a walk done by then), each given half of ``time_limit``;
    their values for the solve's log. Where ``known`` (the walk ceiling proved by HiGHS for the walk
    ceiling's choice, :func:`.walk_columns.people_plans`), it is the walk ceiling, not solved again."""
    counts = [len(sl) for sl in model.slots]
    weights = _level_weights(model)
    began = time.perf_counter()
    walks = known
    if walks is None:
        walks = people_ceiling_walks(model.p, model.legs, counts, weights, time_limit / 2, workers)
    left = max(LEAST_SOLVE, time_limit - (time.perf_counter() - began))
    ceiling = people_ceiling(model.p, model.legs, counts, weights, left, workers)
    found = [c for c in (ceiling, walks) if c is not None]
    if not found:
        return "ceiling:none"
    model.m.add(expr <= min(found))
    return f"ceiling:{min(found)}:trips:{ceiling}:walks:{walks}"


def _slots_within(problem: ConvoyProblem, legs: Legs, start: Schedule, slots: Sequence[int]) -> list[int]:
    """Where ``start`` brings everyone out, an optimum completes no later than it does: each vehicle
    needs no more slots than the loaded arrivals it can make by then (:func:`trips_possible` with that
    deadline), fewer than by the deadline where ``start`` finishes early."""
    if not _everyone(problem, start):
        return list(slots)
    completion = objective_key(problem, start.trips)[-2]
    flow = problem.flow
    sooner = replace(problem, flow=replace(flow, axis=replace(flow.axis, horizon=completion)))
    return [min(a, b) for a, b in zip(slots, trips_possible(sooner, legs), strict=True)]


def _set_goal(
    model: _Model,
    expr: cp_model.LinearExprT,
    maximise: bool,
    people: int,
    floor_time: float,
    workers: int,
    skipped: list[str],
    choice: _Choice | None = None,
) -> list[str]:
    """Make ``expr`` the objective, first bounded by the people ceiling (people out) or, with the
    people out fixed at ``people``, the completion floor (completion and trips), with the walk
    ceiling's ``choice`` where known (its ceiling and values by each deadline), given ``floor_time``
    seconds (none below :data:`LEAST_SOLVE`: the bound is then left out and named in ``skipped``).
    Returns notes for the solve's log."""
    if maximise:
        model.m.maximize(expr)
    else:
        model.m.minimize(expr)
    if floor_time < LEAST_SOLVE:
        skipped.append("ceiling" if maximise else "floor")
        return []
    try:
        if maximise:
            known = None if choice is None else choice.ceiling
            return [_ceiling(model, expr, floor_time, workers, known)]
        by_deadline = None if choice is None else choice.by_deadline
        return [_floor(model, expr, people, floor_time, workers, by_deadline)]
    except SolverCrashError as error:  # no bound: the solve goes on without it
        notes: list[str] = []
        _crashed("ceiling" if maximise else "floor", error, notes, skipped)
        return notes


def _everyone(problem: ConvoyProblem, start: Schedule) -> bool:
    carried = sum(n for load in problem.vehicle_on_board for _, n in load)
    return sum(t.people for t in start.trips) >= int(problem.flow.source_people.sum()) + carried


def _start(
    problem: ConvoyProblem,
    legs: Legs,
    dispatched: Schedule,
    slots: Sequence[int],
    seconds: float,
    workers: int,
    statuses: list[str],
    skipped: list[str],
) -> Schedule:
    """The starting plan: the dispatcher's, or where it brings everyone out, the plan made of the
    completion floor's solution (:func:`.cuts.floor_plan`, given ``seconds``) if that is better."""
    if not _everyone(problem, dispatched):
        return dispatched
    if seconds < LEAST_SOLVE:
        skipped.append("floor-plan")
        return dispatched
    try:
        other = floor_plan(problem, legs, slots, seconds, workers)
    except SolverCrashError as error:
        _crashed("floor-plan", error, statuses, skipped)
        return dispatched
    if other is None or objective_key(problem, other.trips) >= objective_key(problem, dispatched.trips):
        return dispatched
    statuses.append(f"start:floor-plan:{objective_key(problem, other.trips)[-2]}")
    return other


def _walk_start(
    problem: ConvoyProblem,
    legs: Legs,
    start: Schedule,
    slots: Sequence[int],
    seconds: float,
    workers: int,
    statuses: list[str],
    skipped: list[str],
) -> tuple[Schedule, _WalkFloor]:
    """Where ``start`` brings everyone out: the plan made of the walk relaxation's solution, solved
    exactly by columns (:mod:`.walk_columns`, given ``seconds``, no walk later than ``start``; the
    walk programme of :mod:`.walks` where the columns were not made in time), if better, and the
    relaxation's proved floors on every plan bringing everyone out (none if none)."""
    if not _everyone(problem, start):
        return start, _WalkFloor()
    if seconds < LEAST_SOLVE:
        skipped.append("walks")
        return start, _WalkFloor()
    began = time.perf_counter()
    ceiling = objective_key(problem, start.trips)[-2]
    try:
        # 0.15 of the time is kept for booking the walks (about 0.2 s on SiouxFalls 10/10/6)
        columns = walk_columns(problem, legs, slots, 0.85 * seconds, ceiling, workers)
        solution: WalkSolution | None
        others: list[WalkSolution] = []
        if columns is not None:
            statuses.append(columns.note())
            solution, others = columns.walks, columns.others
            floor = _WalkFloor(columns.floor, columns.trips_floor)
        else:
            left = 0.85 * seconds - (time.perf_counter() - began)
            solution = walk_programme(problem, legs, slots, left, workers, hint=start)
            floor = _WalkFloor()
            if solution is not None:
                floor = _WalkFloor(solution.floor, solution.trips if solution.proved else None)
    except SolverCrashError as error:
        _crashed("walks", error, statuses, skipped)
        return start, _WalkFloor()
    if solution is None:
        return start, floor
    statuses.append(f"walks:{solution.completion}+{solution.trips}:floor:{floor.completion}")
    other = _book_best(problem, legs, [solution, *others], began + seconds)
    if other is None:
        statuses.append("walk-plan:none")  # out of time, or people left behind by the real times
    if other is None or objective_key(problem, other.trips) >= objective_key(problem, start.trips):
        return start, floor
    statuses.append(f"start:walks:{objective_key(problem, other.trips)[-2]}")
    return other, floor


def _everyone_by_walks(
    problem: ConvoyProblem,
    legs: Legs,
    start: Schedule,
    slots: Sequence[int],
    seconds: float,
    workers: int,
    statuses: list[str],
    skipped: list[str],
) -> Schedule:
    """Where ``start`` leaves people behind: the plan made of the walk relaxation's walks by the
    deadline (:mod:`.walk_columns`, given ``seconds``) where it books with everyone out, else
    ``start``."""
    if seconds < LEAST_SOLVE or _everyone(problem, start):
        return start
    began = time.perf_counter()
    try:
        columns = walk_columns(problem, legs, slots, 0.85 * seconds, None, workers)
    except SolverCrashError as error:
        _crashed("walks", error, statuses, skipped)
        return start
    if columns is None or columns.walks is None:  # not everyone can get out, or out of time
        return start
    other = _book_best(problem, legs, [columns.walks, *columns.others], began + seconds)
    if other is None or not _everyone(problem, other):
        statuses.append("columns:everyone:not-booked")  # the real times leave people behind
        return start
    statuses.append(f"start:columns:{objective_key(problem, other.trips)[-2]}")
    return other


def _people_start(
    problem: ConvoyProblem,
    legs: Legs,
    start: Schedule,
    slots: Sequence[int],
    seconds: float,
    statuses: list[str],
) -> tuple[Schedule, _Choice | None]:
    """Where ``start`` leaves people behind: the best plan made of the walk ceiling's choices
    (:func:`.walk_columns.people_plans`, given ``seconds``) if better, else ``start``; and the
    ceiling's choice with its value (weighted people out) where proved and not reached."""
    if seconds < LEAST_SOLVE or _everyone(problem, start):
        return start, None
    weights = level_weights(problem)
    found = people_plans(problem, legs, slots, weights, seconds)
    plans = found.plans
    choice = None
    if found.ceiling is not None:
        choice = _Choice(found.valued, found.ceiling, found.by_deadline, found.reached)
    if not plans or objective_key(problem, plans[0].trips) >= objective_key(problem, start.trips):
        return start, choice
    reached = ":at-ceiling" if found.reached else ""  # no plan brings out more: the search stopped
    statuses.append(f"start:people-walks:{sum(t.people for t in plans[0].trips)}:of:{len(plans)}{reached}")
    return plans[0], choice


@dataclass
class _Choice:
    """The walk ceiling's choices (each vehicle's walk by the deadline and by steps before it) with
    their weighted people out, the ceiling (the first's), the values by each deadline, and whether a
    plan booked of them reached the ceiling."""

    valued: list[tuple[dict[int, Walk], int]]
    ceiling: int
    by_deadline: dict[int, int]  # deadline -> the choice's value by then (proved)
    reached: bool  # a plan of the walks brings out the ceiling


def _within_choice(
    model: _Model,
    start: Schedule,
    choice: _Choice,
    seconds: float,
    workers: int,
    statuses: list[str],
    skipped: list[str],
) -> Schedule:
    """Where ``start`` brings out fewer (weighted) than the walk ceiling: the model solved with each
    class's trips to each gathering point those of one of ``choice``'s choices (:mod:`.ceiling_choice`),
    the most valued first, each above the best plan so far and up to its own value (a choice that
    cannot beat it is proved so at once), till the ceiling is reached or ``seconds`` are spent; the
    best plan, if better than ``start``, is hinted and returned (else ``start``)."""
    p = model.p
    weights = _level_weights(model)
    out = weighted_out(p, start, weights)
    goal = cp_model.LinearExpr.weighted_sum(model.level_sum, weights)
    points = [[(sl.gnodes, sl.gsel) for sl in slots] for slots in model.slots]
    stop = time.perf_counter() + seconds
    best, notes = start, []
    for walks, value in sorted(choice.valued, key=lambda c: -c[1]):
        left = stop - time.perf_counter()
        if out >= choice.ceiling or left < LEAST_SOLVE:
            break
        if value <= out:
            continue
        try:
            solved = solve_within(p, model.m, points, walks, goal, out + 1, value, left, workers)
        except SolverCrashError as error:
            _crashed("choice", error, statuses, skipped)
            break
        if solved is None:
            notes.append(f"{value}:none")
            continue
        plan = Schedule(p, model.legs)
        _timed_trips(model, solved, plan)
        notes.append(f"{value}:{round(solved.objective_value)}:{solved.wall_time:.1f}s")
        if objective_key(p, plan.trips) < objective_key(p, best.trips):
            best = plan
            out = weighted_out(p, plan, weights)
            _hint_all(model, list(solved.response_proto.solution))
    if notes:
        better = "start:" if best is not start else ""
        statuses.append(f"{better}choices:{seconds:.1f}s:{','.join(notes)}")
    return best


def _book_best(
    problem: ConvoyProblem, legs: Legs, solutions: Sequence[WalkSolution], stop: float
) -> Schedule | None:
    """The best plan made of the walks of ``solutions`` (booked in order, the first given at least
    :data:`LEAST_SOLVE` seconds, the others while ``stop``, a perf_counter time, has not passed)."""
    best: Schedule | None = None
    for i, solution in enumerate(solutions):
        left = stop - time.perf_counter()
        if i and left < LEAST_SOLVE:
            break
        made = walk_plan(problem, legs, solution, max(LEAST_SOLVE, left))
        if made is not None and (
            best is None or objective_key(problem, made.trips) < objective_key(problem, best.trips)
        ):
            best = made
    return best


def _starts(
    problem: ConvoyProblem,
    legs: Legs,
    slots: Sequence[int],
    time_limit: float,
    workers: int,
    statuses: list[str],
    skipped: list[str],
) -> tuple[Schedule, list[int], _WalkFloor, _Choice | None]:
    """The starting plan (the best of the dispatcher's, :func:`.cuts.floor_plan`'s and the walk
    relaxation's, also where the dispatcher leaves people behind), the slots each vehicle needs to beat
    it, the walk relaxation's floors, and the walk ceiling's choice where people are left behind and
    its plans did not reach it."""
    start = _start(
        problem, legs, greedy(problem, legs), slots, min(5.0, time_limit / 10), workers, statuses, skipped
    )
    start = _everyone_by_walks(
        problem, legs, start, slots, WALK_SHARE * time_limit / 3, workers, statuses, skipped
    )
    start, choice = _people_start(problem, legs, start, slots, PEOPLE_SHARE * time_limit, statuses)
    slots = _slots_within(problem, legs, start, slots)
    start, walk_floor = _walk_start(
        problem, legs, start, slots, WALK_SHARE * time_limit, workers, statuses, skipped
    )
    return start, _slots_within(problem, legs, start, slots), walk_floor, choice


def _walks_after(
    model: _Model,
    solved: Solved,
    start: Schedule,
    seconds: float,
    workers: int,
    statuses: list[str],
    skipped: list[str],
) -> Schedule:
    """Where the first solve proved everyone out: the walk relaxation (:mod:`.walk_columns`, given
    ``seconds``, no walk later than the first solve's plan) bounds the completion and trips from below
    in the model, and its plan,
    where better than the first solve's, is hinted and becomes the plan to beat (else ``start``)."""
    p, legs = model.p, model.legs
    first = Schedule(p, legs)
    _timed_trips(model, solved, first)
    slots = [len(sl) for sl in model.slots]
    plan, walk_floor = _walk_start(p, legs, first, slots, seconds, workers, statuses, skipped)
    walk_floor.bound(model)
    if plan is first:
        return start
    model.m.clear_hints()  # type: ignore[no-untyped-call]
    for var, value in model.decisions(plan):
        model.m.add_hint(var, value)
    return plan if objective_key(p, plan.trips) < objective_key(p, start.trips) else start


def _left(stop: float) -> float:
    """Seconds until ``stop`` (a ``time.perf_counter()``)."""
    return stop - time.perf_counter()


def _build(problem: ConvoyProblem, legs: Legs, slots: Sequence[int], deadline: float) -> _Model | None:
    """The model, or None where it could not be built by ``deadline`` (a ``time.perf_counter()``)."""
    try:
        return _Model(problem, legs, slots, deadline=deadline)
    except _OutOfTimeError:
        return None


def _hint_start(
    model: _Model, start: Schedule, seconds: float, workers: int, statuses: list[str]
) -> list[str]:
    """Hint the starting plan: completed into a whole solution given ``seconds``, or by its decisions
    alone where there is no time for that (then ``["hint"]``, the phase skipped, is returned) or where
    the solve completing it crashed (``["hint:crashed"]``, the crash named in ``statuses``)."""
    if seconds >= LEAST_SOLVE:
        try:
            _complete_hint(model, start, seconds, workers)
            return []
        except SolverCrashError as error:  # the decisions alone, as without time
            crash: list[str] = []
            _crashed("hint", error, statuses, crash)
            for var, value in model.decisions(start):
                model.m.add_hint(var, value)
            return crash
    for var, value in model.decisions(start):
        model.m.add_hint(var, value)
    return ["hint"]


def solve_exact(
    problem: ConvoyProblem,
    legs: Legs,
    *,
    time_limit: float = 60.0,
    workers: int = 8,
    progress: Progress | None = None,
    slots: Sequence[int] | None = None,
) -> ExactResult:
    """The lexicographic optimum of ``problem`` (or the best found within ``time_limit`` seconds).

    Every phase keeps to the limit: the model is given up if it is not built within
    :data:`BUILD_SHARE` of it, the dispatcher's plan is completed into a hint and the bounds of
    :mod:`.cuts` are computed only with time to spare, and a twentieth of the limit is kept for
    rebuilding the plan. Whatever is left out (``skipped``), the plan is at least the dispatcher's and
    called ``optimal`` only when proved."""
    began = time.perf_counter()
    cpsat_process.prestart()  # the worker's start (an OR-Tools import) overlaps the model's building

    skipped: list[str] = []
    statuses: list[str] = []
    if slots is None:
        slots = trips_possible(problem, legs)
    start_plan, slots, walk_floor, choice = _starts(
        problem, legs, slots, time_limit, workers, statuses, skipped
    )
    if _everyone(problem, start_plan) and walk_floor.proves(problem, start_plan):
        # everyone out, the completion and trips at the walk relaxation's floors: no solve can do better
        statuses += ["OPTIMAL:everyone", "OPTIMAL:walk-floor"]
        everyone_out = int(problem.flow.source_people.sum())
        return ExactResult(
            start_plan, "optimal", everyone_out, statuses, time.perf_counter() - began, skipped
        )
    return _solve_model(
        problem,
        legs,
        start_plan,
        slots,
        walk_floor,
        time_limit,
        workers,
        progress,
        began,
        statuses,
        skipped,
        choice,
    )


def _solve_model(
    problem: ConvoyProblem,
    legs: Legs,
    start_plan: Schedule,
    slots: Sequence[int],
    walk_floor: _WalkFloor,
    time_limit: float,
    workers: int,
    progress: Progress | None,
    began: float,
    statuses: list[str],
    skipped: list[str],
    choice: _Choice | None = None,
) -> ExactResult:
    """The model of every trip solved objective by objective from ``start_plan`` (see
    :func:`solve_exact`), first within the walk ceiling's ``choice`` where given
    (:func:`_within_choice`)."""
    stop = began + 0.95 * time_limit  # a twentieth is kept for rebuilding the plan and handing it over
    model = _build(problem, legs, slots, began + BUILD_SHARE * time_limit)
    if model is None:
        statuses.append(f"model:out-of-time:{time.perf_counter() - began:.1f}s")
        skipped += ["model", "solve"]
        return ExactResult(start_plan, "feasible", None, statuses, time.perf_counter() - began, skipped)
    objectives, everyone = _objectives(model, start_plan, walk_floor)
    skipped += _hint_start(model, start_plan, min(time_limit / 3, _left(stop) / 3), workers, statuses)
    if choice is not None and not choice.reached and not everyone:
        seconds = min(CHOICE_SHARE * time_limit, 0.75 * _left(stop))
        start_plan = _within_choice(model, start_plan, choice, seconds, workers, statuses, skipped)
    proved = True
    bound: int | None = None
    solver: Solved | None = None
    people = 0  # the people out (weighted) fixed for the second solve
    if everyone:
        statuses.append("OPTIMAL:everyone")
        bound = sum(model.level_most)
        people = _most(model)
    solved = 0  # objectives proved optimal
    for expr, maximise in objectives:
        statuses += _set_goal(
            model, expr, maximise, people, min(5.0, _left(stop) / 10), workers, skipped, choice
        )
        if _left(stop) < LEAST_SOLVE:
            skipped.append("solve")
            proved = False
            break
        attempt = _attempt(model, _left(stop), workers, statuses, skipped)
        if attempt is None:  # no solution, or CP-SAT crashed
            proved = False
            break
        code = attempt.status
        solver = attempt
        value = round(attempt.objective_value)
        if maximise and len(model.levels) == 1:
            bound = int(attempt.best_objective_bound + 1e-6)
        if code != cp_model.OPTIMAL:
            proved = False
        else:
            solved += 1
        _hint_all(model, list(attempt.response_proto.solution))
        model.m.add(expr >= value if maximise else expr <= value)
        people = value if maximise else people
        if progress is not None:
            progress(int(sum(attempt.value(sl.act) for slots_ in model.slots for sl in slots_)), value)
        if code != cp_model.OPTIMAL:
            # the remaining levels only refine an unproved plan: keep the time for nothing else
            break
        if maximise and value >= _most(model):  # everyone out, proved: walks for the completion
            seconds = min(WALK_SHARE * time_limit, _left(stop) / 3)
            start_plan = _walks_after(model, attempt, start_plan, seconds, workers, statuses, skipped)
    schedule = Schedule(problem, legs)
    if solver is None:
        return ExactResult(start_plan, "feasible", None, statuses, time.perf_counter() - began, skipped)
    _timed_trips(model, solver, schedule)
    if objective_key(problem, schedule.trips) > objective_key(problem, start_plan.trips):
        # never worse than the dispatcher (a solve cut short may be)
        return ExactResult(start_plan, "feasible", bound, statuses, time.perf_counter() - began, skipped)
    status = "optimal" if proved and solved == len(objectives) else "feasible"
    return ExactResult(schedule, status, bound, statuses, time.perf_counter() - began, skipped)


def exact(
    problem: ConvoyProblem, legs: Legs, bounds: Bounds, time_limit: float, progress: Progress | None
) -> tuple[Schedule, str]:
    """The ``exact`` convoy method (the shape of ``ConvoyMethod``)."""
    result = solve_exact(
        problem, legs, time_limit=time_limit, progress=progress, slots=bounds.trips_per_vehicle
    )
    for note in result.levels:
        if ":CRASHED:" in note:
            _log.warning("exact convoy method: CP-SAT crashed (%s); the plan is the best found before", note)
    return result.schedule, result.status


__all__ = ["ExactResult", "exact", "solve_exact"]
