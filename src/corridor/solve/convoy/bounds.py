"""Proved upper bounds on the people a fleet can bring out by the deadline.

- **flow**: the maximum flow over time of the same network and window (people move as a fluid, with
  the checkpoints' throughput and the closures), roads without their capacity (vehicles are not
  limited by it) and at the vehicles' own travel times. It bounds the convoys only where the fluid
  can do all that the vehicles do (:func:`flow_relaxation` says when, and otherwise why not): every
  checkpoint's rate per step must admit the people of an inspection spread over its steps, the
  vehicles' travel times must be the fluid's where closures hold, and no closure may touch a road
  leaving a checkpoint (a vehicle may wait there after its inspection; the fluid may not).
- **fleet**: each vehicle's most round trips by the deadline with every drive at its fastest (closures
  only delay) and every inspection at its shortest, times its places; seats and stretcher places
  counted apart against the people who need them.
- **time**: a linear programme over trips per vehicle class (type, start, ready step) and gathering
  point: each trip from gathering point ``g`` takes at least the fastest drive to ``g`` from a
  reception point or the start, boarding, the fastest haul to a reception point and unloading; a
  class's trips fit in its vehicles' time to the deadline (plus one unloading: the last need not
  unload by then); people out from ``g`` are no more than wait there nor than the trips' seats and
  stretcher places; reception points' capacities, and the inspection count where every haul passes a
  checkpoint. It sees that far gathering points cost time and that near ones run out of people.
- **route**: a linear programme over the vehicles' walks (:func:`_route_bound`): loaded trips from
  a gathering point to a particular reception point, empty drives from a reception point to a
  gathering point, first drives from the start, each at its fastest; each trip is reached by a first
  or an empty drive and each empty drive follows an arrival; people per (gathering, reception) pair
  within the trips' places and the reception point's capacity; where a haul can only pass one
  checkpoint, the inspections fit in its open time. Aggregated, the class's walks fit in its time to
  the deadline; timed (``convoy_bounds(..., timed_route=True)``), the vehicles are a flow over time
  in buckets of steps, so that each vehicle's last trip must end by the deadline (the deadline cut),
  each move timed by its departure, around the closures in force then (:mod:`.drive_tables`).
  It sees which reception point a trip can reach, where the vehicle goes on from there, and that a
  walk does not divide at the deadline.
- **checkpoint**: where every loaded drive must pass a checkpoint, the inspections that fit in its open
  time before the last useful moment, times the largest vehicle.

Every drive is counted at its fastest with no closure but those covering the whole window (see
:mod:`.legs`): closures only delay; the timed route programme alone counts each drive as it is when it
leaves (a later departure never arrives earlier).

The bound reported is the smallest of these (and of the people to move).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import UNLIMITED, Problem
from corridor.solve.convoy.drive_tables import DriveTables
from corridor.solve.convoy.legs import NEVER, Legs
from corridor.solve.quickest import people_out


@dataclass(frozen=True)
class Bounds:
    people: int
    flow: int | None
    fleet: int
    checkpoint: int | None
    trips_per_vehicle: tuple[int, ...]
    time: int | None = None  # the vehicles' time by gathering point (an LP), see the module
    route: int | None = None  # the vehicles' walks between the points (an LP), see the module

    @property
    def best(self) -> tuple[int, str]:
        """The tightest bound and its kind."""
        options = [(self.people, "people"), (self.fleet, "fleet")]
        if self.time is not None:
            options.append((self.time, "time"))
        if self.route is not None:
            options.append((self.route, "route"))
        if self.flow is not None:
            options.append((self.flow, "flow"))
        if self.checkpoint is not None:
            options.append((self.checkpoint, "checkpoint"))
        return min(options)


def _haul_steps(problem: ConvoyProblem, legs: Legs, kind: int, g: int, dest: int) -> int:
    """The fastest loaded drive from ``g`` to ``dest`` with the shortest inspection on the way."""
    del problem
    return legs.static_haul_steps(kind, g, dest)


class _Held:
    """Earliest loaded arrivals at each reception point when inspections must fall in the open time of
    their checkpoint (its holds): drives at their fastest with no closure, the shortest inspection at
    the first open moment. Closures and queues only delay, so this stays a relaxation."""

    def __init__(self, problem: ConvoyProblem, legs: Legs, kind: int, gathering: list[int], dests: list[int]):
        flow = problem.flow
        cps = [int(v) for v in flow.checkpoint_node.tolist()]
        every = frozenset(cps)
        self.direct = np.asarray(
            [[legs.static_steps(kind, g, d, avoid=every) for d in dests] for g in gathering], dtype=np.int64
        ).reshape(len(gathering), len(dests))
        self.to_c = np.asarray(
            [[legs.static_steps(kind, g, c, every - {c}) for c in cps] for g in gathering], dtype=np.int64
        ).reshape(len(gathering), len(cps))
        self.from_c = np.asarray(
            [[legs.static_steps(kind, c, d, every - {c}) for d in dests] for c in cps], dtype=np.int64
        ).reshape(len(cps), len(dests))
        self.need = [problem.inspection_steps(c, 1) for c in range(len(cps))]
        nc = flow.node_closed
        self.closed = [
            sorted(
                (int(a), int(b))
                for it, a, b in zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True)
                if it == c
            )
            for c in cps
        ]

    def _open(self, c: int, t: int) -> int:
        need = self.need[c]
        moved = True
        while moved and t < NEVER:
            moved = False
            for a, b in self.closed[c]:
                if t < b and a < t + need:
                    t, moved = b, True
        return t

    def arrive(self, leave: np.ndarray) -> np.ndarray:
        """Earliest arrival at each reception point, leaving gathering node ``i`` at ``leave[i]``."""
        best = (leave[:, None] + self.direct).min(axis=0)
        for c in range(self.to_c.shape[1]):
            at = np.minimum(leave + self.to_c[:, c], NEVER)
            start = np.asarray([self._open(c, int(t)) if t < NEVER else NEVER for t in at], dtype=np.int64)
            done = np.minimum(start + self.need[c], NEVER)
            best = np.minimum(best, (done[:, None] + self.from_c[c][None, :]).min(axis=0))
        return np.asarray(np.minimum(best, NEVER), dtype=np.int64)


def _held_trips(
    problem: ConvoyProblem, legs: Legs, v: int, held: _Held, gathering: list[int], dests: list[int]
) -> int:
    kind = int(problem.vehicle_type[v])
    start, ready = int(problem.vehicle_node[v]), int(problem.vehicle_ready[v])
    load, unload = int(problem.load_steps[kind]), int(problem.unload_steps[kind])
    back = np.asarray(
        [[legs.static_steps(kind, d, g) for g in gathering] for d in dests], dtype=np.int64
    ).reshape(len(dests), len(gathering))
    if problem.vehicle_on_board[v]:
        arrive = np.asarray([ready + legs.static_steps(kind, start, d) for d in dests], dtype=np.int64)
    else:
        to_g = np.asarray([legs.static_steps(kind, start, g) for g in gathering], dtype=np.int64)
        arrive = held.arrive(np.minimum(ready + to_g + load, NEVER))
    n = 0
    while len(arrive) and arrive.min() <= problem.horizon:
        n += 1
        if n > problem.people:
            break
        leave = np.minimum((arrive[:, None] + unload + back).min(axis=0) + load, NEVER)
        arrive = held.arrive(leave)
    return n


def trips_possible(problem: ConvoyProblem, legs: Legs) -> list[int]:
    """For each vehicle, the most loaded arrivals it can make by the deadline (a relaxation): drives at
    their fastest with no closure and inspections at their shortest, but, where a checkpoint has holds,
    each inspection in its open time."""
    flow = problem.flow
    gathering = problem.gathering_nodes.tolist()
    dests = [int(d) for d in flow.dest_node.tolist()]
    out: list[int] = []
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    holds = any(int(it) in set(flow.checkpoint_node.tolist()) for it in flow.node_closed.item.tolist())
    helds: dict[int, _Held] = {}
    seen: dict[tuple[int, int, int, bool], int] = {}
    for v in range(problem.n_vehicles):
        kind = int(problem.vehicle_type[v])
        if holds and len(gathering) and len(dests):
            key = (
                kind,
                int(problem.vehicle_node[v]),
                int(problem.vehicle_ready[v]),
                bool(problem.vehicle_on_board[v]),
            )
            if key not in seen:
                if kind not in helds:
                    helds[kind] = _Held(problem, legs, kind, gathering, dests)
                seen[key] = _held_trips(problem, legs, v, helds[kind], gathering, dests)
            out.append(seen[key])
            continue
        if kind not in cache:
            haul = np.asarray(
                [[_haul_steps(problem, legs, kind, g, d) for d in dests] for g in gathering], dtype=np.int64
            ).reshape(len(gathering), len(dests))
            back = np.asarray(
                [[legs.static_steps(kind, d, g) for g in gathering] for d in dests], dtype=np.int64
            ).reshape(len(dests), len(gathering))
            load, unload = int(problem.load_steps[kind]), int(problem.unload_steps[kind])
            # cycle[r, r2]: from arrival at r to arrival at r2, one more trip
            via = back[:, :, None] + load + haul[None, :, :]
            cycle = unload + via.min(axis=1) if len(gathering) else np.full((len(dests), len(dests)), NEVER)
            cache[kind] = (haul, np.minimum(cycle, NEVER))
        haul, cycle = cache[kind]
        start = int(problem.vehicle_node[v])
        ready = int(problem.vehicle_ready[v])
        if problem.vehicle_on_board[v]:
            first = np.asarray([ready + legs.static_steps(kind, start, d) for d in dests], dtype=np.int64)
        else:
            to_g = np.asarray([legs.static_steps(kind, start, g) for g in gathering], dtype=np.int64)
            load = int(problem.load_steps[kind])
            first = (
                (ready + to_g[:, None] + load + haul).min(axis=0)
                if len(gathering)
                else np.full(len(dests), NEVER, dtype=np.int64)
            )
        arrive = np.minimum(first, NEVER)
        n = 0
        while len(arrive) and arrive.min() <= problem.horizon:
            n += 1
            if n > problem.people:  # trips of no time (e.g. people waiting at a reception point)
                break
            arrive = np.minimum((arrive[:, None] + cycle).min(axis=0), NEVER)
        out.append(n)
    return out


def _fleet_bound(problem: ConvoyProblem, trips: list[int]) -> int:
    flow = problem.flow
    lying = int(flow.source_people[problem.source_stretcher].sum())
    seated = int(flow.source_people[~problem.source_stretcher].sum())
    seats = stretchers = 0
    for v, n in enumerate(trips):
        s, t = problem.capacity(v)
        seats += n * s
        stretchers += n * t
    board = sum(p for loads in problem.vehicle_on_board for _, p in loads)
    return min(seated, seats) + min(lying, stretchers) + board


def _checkpoint_bound(problem: ConvoyProblem, legs: Legs) -> int | None:
    """Inspections that fit at the checkpoints when no loaded drive can avoid them; None otherwise."""
    flow = problem.flow
    cps = frozenset(int(v) for v in flow.checkpoint_node.tolist())
    if not cps:
        return None
    gathering = problem.gathering_nodes.tolist()
    dests = [int(d) for d in flow.dest_node.tolist()]
    kinds = range(len(problem.type_ids))
    for g in gathering:
        for d in dests:
            if any(legs.static_steps(k, g, d, avoid=cps) < NEVER for k in kinds):
                return None
    largest = int((problem.type_seats + problem.type_stretchers).max(initial=0))
    total = 0
    for c, node in enumerate(flow.checkpoint_node.tolist()):
        others = cps - {node}
        early = min(
            (
                int(problem.vehicle_ready[v])
                + min(
                    (
                        legs.static_steps(int(problem.vehicle_type[v]), int(problem.vehicle_node[v]), g)
                        for g in gathering
                    ),
                    default=NEVER,
                )
                for v in range(problem.n_vehicles)
            ),
            default=NEVER,
        )
        early += int(problem.load_steps.min(initial=0))
        early += min((legs.static_steps(k, g, node, others) for k in kinds for g in gathering), default=NEVER)
        late = problem.horizon - min(
            (legs.static_steps(k, node, d, others) for k in kinds for d in dests), default=NEVER
        )
        if late <= early:
            continue
        need = problem.inspection_steps(c, 1)
        # inspections lie wholly in open steps of [early, late), one at a time
        open_steps = np.ones(late - early, dtype=bool)
        nc = flow.node_closed
        for item, a, b in zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True):
            if item == node:
                open_steps[max(0, a - early) : max(0, min(b, late) - early)] = False
        runs = np.diff(np.concatenate(([0], open_steps.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)
        total += sum(int(e - s) // need for s, e in zip(starts, ends, strict=True))
    board = sum(p for loads in problem.vehicle_on_board for _, p in loads)
    return total * largest + board


def flow_relaxation(problem: ConvoyProblem) -> tuple[Problem | None, str]:
    """The flow problem whose optimum bounds the convoys, or ``None`` and the reason it would not."""
    flow = problem.flow
    net = flow.network
    steps = problem.arc_steps
    if not len(problem.type_ids):
        return None, "no vehicles"
    tau = steps.min(axis=0)
    closures = len(flow.arc_closed) + len(flow.node_closed) > 0
    if closures and bool((steps != tau[None, :]).any()):
        return None, "vehicle types drive at different speeds while closures hold"
    largest = int((problem.type_seats + problem.type_stretchers).max(initial=0))
    for c, node in enumerate(flow.checkpoint_node.tolist()):
        cap = int(flow.node_cap[node])
        spread = max(
            (math.ceil(n / problem.inspection_steps(c, n)) for n in range(1, largest + 1)), default=0
        )
        if cap != UNLIMITED and spread > cap:
            return None, (
                f"a vehicle of {largest} places passes checkpoint {flow.checkpoint_ids[c]} faster"
                f" ({spread} people a step) than its rate in the flow model ({cap})"
            )
        leaving = np.flatnonzero(net.tail == node)
        touched = (
            np.isin(flow.arc_closed.item, leaving).any()
            or np.isin(flow.node_closed.item, net.head[leaving]).any()
        )
        if touched:
            return None, f"a closure touches a road leaving checkpoint {flow.checkpoint_ids[c]}"
    room = max(1, flow.people)
    return replace(flow, tau=tau.astype(np.int64), arc_cap=np.full(net.n_arcs, room, dtype=np.int64)), ""


def _time_bound(problem: ConvoyProblem, legs: Legs, checkpoint: int | None) -> int | None:
    """The LP of the module's **time** bound (None when it cannot be solved)."""
    from scipy.optimize import linprog

    flow = problem.flow
    gathering = problem.gathering_nodes.tolist()
    if not gathering or problem.n_vehicles == 0:
        return None
    dests = [int(d) for d in flow.dest_node.tolist()]
    classes: dict[tuple[int, int, int], int] = {}
    for v in range(problem.n_vehicles):
        key = (int(problem.vehicle_type[v]), int(problem.vehicle_node[v]), int(problem.vehicle_ready[v]))
        classes[key] = classes.get(key, 0) + 1
    keys = sorted(classes)
    n_g, n_k = len(gathering), len(keys)
    n_x = n_k * n_g  # trips of class k from gathering point g
    # variables: x[k, g], then seated out y[g], then lying out z[g]
    n_var = n_x + 2 * n_g
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    for i, (kind, start, ready) in enumerate(keys):
        load, unload = int(problem.load_steps[kind]), int(problem.unload_steps[kind])
        row = np.zeros(n_var)
        for j, g in enumerate(gathering):
            back = min([legs.static_steps(kind, d, g) for d in dests] + [legs.static_steps(kind, start, g)])
            haul = min(legs.static_haul_steps(kind, g, d) for d in dests)
            if back >= NEVER or haul >= NEVER:
                row[i * n_g + j] = 0.0
                rows.append(_unit(n_var, i * n_g + j))
                rhs.append(0.0)
                continue
            row[i * n_g + j] = back + load + haul + unload
        rows.append(row)
        rhs.append(float(classes[keys[i]] * max(0, problem.horizon - ready + unload)))
    seated_at, lying_at = _waiting_by_point(problem, gathering)
    for j in range(n_g):
        for col, places in ((n_x + j, problem.type_seats), (n_x + n_g + j, problem.type_stretchers)):
            row = np.zeros(n_var)
            row[col] = 1.0
            for i, (kind, _, _) in enumerate(keys):
                row[i * n_g + j] = -float(places[kind])
            rows.append(row)
            rhs.append(0.0)
    largest = int((problem.type_seats + problem.type_stretchers).max(initial=0))
    if checkpoint is not None and largest > 0:
        board = sum(p for loads in problem.vehicle_on_board for _, p in loads)
        row = np.zeros(n_var)
        row[:n_x] = 1.0
        rows.append(row)
        rhs.append(float((checkpoint - board) // largest))  # the inspections that fit
    if (flow.dest_cap != UNLIMITED).all():
        row = np.zeros(n_var)
        row[n_x:] = 1.0
        rows.append(row)
        rhs.append(float(flow.dest_cap.sum()))
    bounds = [(0.0, None)] * n_x + [(0.0, float(x)) for x in seated_at] + [(0.0, float(x)) for x in lying_at]
    cost = np.zeros(n_var)
    cost[n_x:] = -1.0
    result = linprog(cost, A_ub=np.vstack(rows), b_ub=np.asarray(rhs), bounds=bounds, method="highs")
    if result.status != 0:
        return None
    board = sum(p for loads in problem.vehicle_on_board for _, p in loads)
    return math.floor(-float(result.fun) + 1e-6) + board


class _RouteLP:
    """The linear programme of the **route** bound (see :func:`_route_bound`), column by column."""

    def __init__(
        self, problem: ConvoyProblem, legs: Legs, gathering: list[int], dests: list[int], *, timed: bool
    ) -> None:
        self.problem, self.legs, self.timed = problem, legs, timed
        self.q = 1  # steps per bucket of the timed programme (see _timed_class)
        self.tables: DriveTables | None = None  # the timed programme's drives by departure step
        self.untimed: set[int] = set()  # classes kept aggregated over time in the timed programme
        self.gathering, self.dests = gathering, dests
        classes: dict[tuple[int, int, int], int] = {}
        for v in range(problem.n_vehicles):
            key = (int(problem.vehicle_type[v]), int(problem.vehicle_node[v]), int(problem.vehicle_ready[v]))
            classes[key] = classes.get(key, 0) + 1
        self.classes = classes
        self.keys = sorted(classes)
        self.n_g, self.n_r = len(gathering), len(dests)
        self.upper: list[float] = []
        self.gain: list[float] = []  # people out per unit of the column (the objective)
        self.trips: dict[tuple[int, int, int], list[int]] = {}  # (class, g, r) -> trip columns
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rhs: list[float] = []
        # timed: column -> (class, from (place, bucket) or None at the start, to (place, bucket))
        self.arcs: dict[int, tuple[int, tuple[int, int] | None, tuple[int, int] | None]] = {}
        self.solution: np.ndarray | None = None

    def col(self, upper: float = np.inf, gain: float = 0.0) -> int:
        self.upper.append(upper)
        self.gain.append(gain)
        return len(self.upper) - 1

    def row(self, entries: list[tuple[int, float]], bound: float) -> None:
        r_ = len(self.rhs)
        for c, val in entries:
            self.rows.append(r_)
            self.cols.append(c)
            self.vals.append(val)
        self.rhs.append(bound)

    def vehicle_class(self, i: int) -> None:
        """The walks of class ``i``: aggregated over time (one time budget), or step by step."""
        problem, legs = self.problem, self.legs
        kind, start, ready = self.keys[i]
        count = self.classes[self.keys[i]]
        load, unload = int(problem.load_steps[kind]), int(problem.unload_steps[kind])
        if self.timed and i not in self.untimed:
            self._timed_class(i, count, ready, load, unload)
            return
        first = [legs.static_steps(kind, start, g) for g in self.gathering]
        haul = [[legs.static_haul_steps(kind, g, d) for d in self.dests] for g in self.gathering]
        back = [[legs.static_steps(kind, d, g) for g in self.gathering] for d in self.dests]
        fcols = [self.col(0.0 if first[g] >= NEVER else np.inf) for g in range(self.n_g)]
        xcols = [
            [self.col(0.0 if haul[g][r] >= NEVER else np.inf) for r in range(self.n_r)]
            for g in range(self.n_g)
        ]
        ecols = [
            [self.col(0.0 if back[r][g] >= NEVER else np.inf) for g in range(self.n_g)]
            for r in range(self.n_r)
        ]
        time_row: list[tuple[int, float]] = []
        for g in range(self.n_g):
            if first[g] < NEVER:
                time_row.append((fcols[g], float(first[g])))
            for r in range(self.n_r):
                self.trips[(i, g, r)] = [xcols[g][r]]
                if haul[g][r] < NEVER:
                    time_row.append((xcols[g][r], float(load + haul[g][r] + unload)))
                if back[r][g] < NEVER:
                    time_row.append((ecols[r][g], float(back[r][g])))
        self.row(time_row, float(count * max(0, problem.horizon - ready + unload)))
        self.row([(c, 1.0) for c in fcols], float(count))
        for g in range(self.n_g):  # trips from g: each reached by a first or an empty drive
            self.row(
                [(xcols[g][r], 1.0) for r in range(self.n_r)]
                + [(ecols[r][g], -1.0) for r in range(self.n_r)]
                + [(fcols[g], -1.0)],
                0.0,
            )
        for r in range(self.n_r):  # empty drives from r: each after a loaded arrival there
            self.row(
                [(ecols[r][g], 1.0) for g in range(self.n_g)]
                + [(xcols[g][r], -1.0) for g in range(self.n_g)],
                0.0,
            )

    def _timed_class(self, i: int, count: int, ready: int, load: int, unload: int) -> None:
        """Vehicles as a flow over time between the gathering and reception points, in buckets of
        ``q`` steps (step ``t`` in bucket ``t // q``), each move timed by its departure
        (:class:`~corridor.solve.convoy.drive_tables.DriveTables`, the closures in force then): a trip
        boarding at ``g`` in bucket ``t`` leaves at step ``t q + load`` at the earliest and is at
        ``r`` in the bucket of the earliest arrival of that departure (a later departure never
        arrives earlier), provided that arrival is by the deadline; an empty drive from ``r`` in
        bucket ``t`` leaves at ``t q + unload`` at the earliest and is at ``g`` in the bucket of its
        earliest arrival, kept only when a trip can still leave ``g`` from then on; vehicles wait
        anywhere and may stop; ``count`` of them reach ``g`` in the bucket of the earliest arrival
        from the start at ``ready``. At each point and bucket no more leave than have come. The
        class's time budget (as in the aggregated programme) holds too, each move costing the
        shortest drive of a departure in its bucket: drives shorter than a bucket would otherwise be
        free."""
        q = self.q
        horizon = self.problem.horizon
        last = horizon // q
        kind, start, _ = self.keys[i]
        tables = self.tables
        assert tables is not None
        steps = np.arange(tables.last + 1, dtype=np.int64)
        # balance[(place, bucket)]: the row "leaving - arriving <= 0" at place (g, or n_g + r)
        balance: dict[tuple[int, int], list[tuple[int, float]]] = {}
        budget: list[tuple[int, float]] = []

        def flow(col: int, frm: tuple[int, int] | None, to: tuple[int, int] | None, cost: int) -> None:
            self.arcs[col] = (i, frm, to)
            if frm is not None:
                balance.setdefault(frm, []).append((col, 1.0))
            if to is not None:
                balance.setdefault(to, []).append((col, -1.0))
            if cost:
                budget.append((col, float(cost)))

        latest = [-1] * self.n_g  # the last bucket in which a trip can board at g
        for g, gnode in enumerate(self.gathering):
            for r, dnode in enumerate(self.dests):
                arrive, leave = tables.haul(kind, gnode, dnode, unload)
                took = arrive - steps  # drive steps per departure (huge where there is none)
                cols: list[int] = []
                for t in range(last + 1):
                    b = t * q + load
                    if arrive[b] > horizon:
                        break  # later departures arrive no earlier
                    cols.append(self.col())
                    to = (self.n_g + r, min(int(leave[b]) // q, last + 1))  # after the last: stops
                    flow(cols[-1], (g, t), to, load + int(took[b : b + q].min()) + unload)
                    latest[g] = max(latest[g], t)
                self.trips[(i, g, r)] = cols
        starts: list[tuple[int, float]] = []
        for g, gnode in enumerate(self.gathering):
            path = self.legs.drive(kind, start, gnode, ready)
            if path is not None and path.arrival // q <= latest[g]:
                c = self.col()
                starts.append((c, 1.0))
                flow(c, None, (g, path.arrival // q), path.arrival - ready)
        self._empty_and_waiting(i, unload, latest, flow)
        self.row(starts, float(count))
        ready_left = max(0, horizon - ready + unload)
        self.row(budget, float(count * ready_left))
        for entries in balance.values():
            self.row(entries, 0.0)

    def _empty_and_waiting(
        self,
        i: int,
        unload: int,
        latest: list[int],
        flow: Callable[[int, tuple[int, int] | None, tuple[int, int] | None, int], None],
    ) -> None:
        """Empty drives of the timed programme (those after which a trip can still board, in bucket
        ``latest[g]`` at the latest), and waiting from each bucket to the next."""
        q = self.q
        last = self.problem.horizon // q
        kind = self.keys[i][0]
        tables = self.tables
        assert tables is not None
        steps = np.arange(tables.last + 1, dtype=np.int64)
        for r, dnode in enumerate(self.dests):
            for g, gnode in enumerate(self.gathering):
                arrive = tables.drive(kind, dnode, gnode)
                took = arrive - steps
                for t in range(last + 1):
                    d = t * q + unload
                    bucket = int(arrive[d]) // q
                    if bucket > latest[g]:
                        break  # later departures arrive no earlier
                    flow(self.col(), (self.n_g + r, t), (g, bucket), int(took[d : d + q].min()))
        for place in range(self.n_g + self.n_r):
            for t in range(last):
                flow(self.col(), (place, t), (place, t + 1), 0)

    def people(self, checkpoint: int | None, board: int) -> None:
        problem = self.problem
        seats, lying = problem.type_seats, problem.type_stretchers
        kinds = [k for k, _, _ in self.keys]
        seated_at, lying_at = _waiting_by_point(problem, self.gathering)
        self.carried: dict[tuple[int, int], int] = {}
        for g in range(self.n_g):
            parts = []
            for r in range(self.n_r):  # people from g to r fit in those trips' places
                p = self.col()
                self.carried[(g, r)] = p
                parts.append(p)
                places = [
                    (c, -float(seats[k] + lying[k]))
                    for i, k in enumerate(kinds)
                    for c in self.trips.get((i, g, r), [])
                ]
                self.row([(p, 1.0), *places], 0.0)
            y = self.col(float(seated_at[g]), 1.0)
            z = self.col(float(lying_at[g]), 1.0)
            self.row([(y, 1.0), (z, 1.0)] + [(p, -1.0) for p in parts], 0.0)
            for col, places_of in ((y, seats), (z, lying)):
                trips = [
                    (c, -float(places_of[k]))
                    for i, k in enumerate(kinds)
                    for r in range(self.n_r)
                    for c in self.trips.get((i, g, r), [])
                ]
                self.row([(col, 1.0), *trips], 0.0)
        for r, cap in enumerate(problem.flow.dest_cap.tolist()):
            if cap != UNLIMITED:
                self.row([(self.carried[(g, r)], 1.0) for g in range(self.n_g)], float(cap))
        largest = int((seats + lying).max(initial=0))
        if checkpoint is not None and largest > 0:  # every haul is inspected: as many as fit
            every = [(c, 1.0) for cols in self.trips.values() for c in cols]
            self.row(every, float((checkpoint - board) // largest))

    def checkpoints(self) -> None:
        """Hauls that can only pass checkpoint ``c`` share its open time, one inspection at a time:
        each lasts at least the checkpoint's time for one vehicle and at least its people at the
        checkpoint's rate (both lower bounds on the inspections' total)."""
        problem, legs = self.problem, self.legs
        flow = problem.flow
        cps = [int(c) for c in flow.checkpoint_node.tolist()]
        every = frozenset(cps)
        forced: list[set[tuple[int, int, int]]] = [set() for _ in cps]  # (class, g, r) through c only
        for i, (kind, _, _) in enumerate(self.keys):
            for g, gnode in enumerate(self.gathering):
                for r, dnode in enumerate(self.dests):
                    if gnode in every or dnode in every:
                        continue  # inspected where it boards or unloads (possibly after the deadline)
                    if legs.static_steps(kind, gnode, dnode, avoid=every) < NEVER:
                        continue
                    via = [
                        c
                        for c, cnode in enumerate(cps)
                        if legs.static_steps(kind, gnode, cnode, every - {cnode}) < NEVER
                        and legs.static_steps(kind, cnode, dnode, every - {cnode}) < NEVER
                    ]
                    if len(via) == 1:
                        forced[via[0]].add((i, g, r))
        nc = flow.node_closed
        for c, cnode in enumerate(cps):
            if not forced[c]:
                continue
            open_steps = np.ones(problem.horizon, dtype=bool)
            for item, a, b in zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True):
                if item == cnode:
                    open_steps[max(0, a) : max(0, min(b, problem.horizon))] = False
            room = float(open_steps.sum())
            need = float(problem.inspection_steps(c, 1))
            self.row([(col, need) for key in sorted(forced[c]) for col in self.trips.get(key, [])], room)
            rate = float(problem.checkpoint_people_rate[c])
            if rate > 0:
                per_person = 60.0 / rate / problem.dt  # steps an inspection lasts per person on board
                # pairs forced through c for every class (people p[g, r] are not told apart by class)
                pairs = [
                    (g, r)
                    for g in range(self.n_g)
                    for r in range(self.n_r)
                    if all((i, g, r) in forced[c] for i in range(len(self.keys)))
                ]
                self.row([(self.carried[pair], per_person) for pair in pairs], room)

    def solve(self) -> float | None:
        from scipy.optimize import linprog
        from scipy.sparse import coo_matrix

        n = len(self.upper)
        matrix = coo_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.rhs), n)).tocsr()
        bounds = [(0.0, None if np.isinf(u) else float(u)) for u in self.upper]
        cost = -np.asarray(self.gain)
        result = linprog(cost, A_ub=matrix, b_ub=np.asarray(self.rhs), bounds=bounds, method="highs")
        if result.status != 0:
            return None
        self.solution = np.asarray(result.x, dtype=float)
        return -float(result.fun)


ROUTE_COLUMNS = 30_000  # the timed route programme's buckets are chosen to keep about this many columns


def _route_bound(
    problem: ConvoyProblem,
    legs: Legs,
    checkpoint: int | None,
    *,
    timed: bool,
    columns: int = ROUTE_COLUMNS,
) -> int | None:
    """The optimum of the module's **route** LP (None when it cannot be solved or does not apply).

    Per vehicle class (type, start, ready step): loaded trips from gathering point ``g`` to reception
    point ``r``, empty drives from ``r`` to ``g`` and first drives from the start, boarding, the
    shortest inspection and unloading counted. **Timed** (``timed=True``): the vehicles are a flow
    over time between the points, in buckets of ``q`` steps (``q`` keeps about ``columns`` columns;
    see :meth:`_RouteLP._timed_class`), each move timed by the earliest arrival of a departure at the
    start of its bucket around the closures in force then (:class:`.drive_tables.DriveTables`; a
    later departure never arrives earlier): a trip boarding at ``g`` in bucket ``t`` is at ``r`` in
    the bucket of that arrival (a trip only where it is by the deadline; where ``r`` is a
    checkpoint, when its inspection lets the vehicle leave), an empty drive from ``r`` is at ``g``
    in the bucket of its arrival; at each point and bucket no more vehicles leave than have come.
    This sees the deadline cut each vehicle's last trip, and the closures that last part of the
    window. Classes with a small share of the fleet's places (:func:`_minor_classes`) stay
    aggregated only, so that the others get finer buckets. **Aggregated**: each drive at its fastest
    with no closure (but those of the whole window); the class's first drives, trips and empty
    drives fit in ``n (H - ready + unload)`` steps (a timed class too, each move at the shortest
    drive of a departure in its bucket); trips from ``g`` are reached by first or empty drives, empty
    drives from ``r`` follow arrivals there. Both: people
    ``p[g, r]`` fit in those trips' places and ``r``'s capacity, seats and stretcher places apart per
    gathering point; the checkpoint's inspections as in the time bound, and, where a haul can only
    pass checkpoint ``c``, its inspections fit in ``c``'s open time. Each vehicle's day is such a walk
    (a vehicle with people on board drives no faster to its first gathering point through a reception
    point than straight; a real drive waits where the relaxation arrives early), so the optimum
    bounds the people out.
    """
    solved = solved_route_lp(problem, legs, checkpoint, timed=timed, columns=columns)
    if solved is None:
        return None
    board = sum(p for loads in problem.vehicle_on_board for _, p in loads)
    return math.floor(solved[1] + 1e-6) + board


def solved_route_lp(
    problem: ConvoyProblem, legs: Legs, checkpoint: int | None, *, timed: bool, columns: int = ROUTE_COLUMNS
) -> tuple[_RouteLP, float] | None:
    """The programme of :func:`_route_bound`, solved: the programme (with ``timed``, its vehicles'
    moves in ``arcs``; its ``solution``) and its optimum (people out, less those on board at the
    start); None when it does not apply or cannot be solved."""
    flow = problem.flow
    gathering = [int(g) for g in problem.gathering_nodes.tolist()]
    dests = [int(d) for d in flow.dest_node.tolist()]
    if not gathering or not dests or problem.n_vehicles == 0:
        return None
    lp = _RouteLP(problem, legs, gathering, dests, timed=timed)
    if timed:
        lp.untimed = _minor_classes(problem, lp)
        per_bucket = (len(lp.keys) - len(lp.untimed)) * (
            2 * len(gathering) * len(dests) + len(gathering) + len(dests)
        )
        lp.q = max(1, math.ceil(per_bucket * (problem.horizon + 1) / columns))
        slack = int(max(problem.load_steps.max(initial=0), problem.unload_steps.max(initial=0)))
        lp.tables = DriveTables(problem, legs, problem.horizon + lp.q + slack)
    for i in range(len(lp.keys)):
        lp.vehicle_class(i)
    board = sum(p for loads in problem.vehicle_on_board for _, p in loads)
    lp.people(checkpoint, board)
    lp.checkpoints()
    value = lp.solve()
    return None if value is None else (lp, value)


MINOR_CLASS = 0.05  # a class with less than this share of the fleet's places stays aggregated


def _minor_classes(problem: ConvoyProblem, lp: _RouteLP) -> set[int]:
    """The classes that the timed route programme keeps aggregated over time (one time budget): those
    with less than ``MINOR_CLASS`` of the fleet's places (vehicles times seats and stretcher places),
    so that the columns go to finer buckets for the others. Each class's walks are relaxed on their
    own (classes share only the people, the reception points' room and the inspections), so every
    mix of timed and aggregated classes bounds the people out."""
    places = problem.type_seats + problem.type_stretchers
    share = {i: lp.classes[key] * int(places[key[0]]) for i, key in enumerate(lp.keys)}
    total = sum(share.values())
    return {i for i, n in share.items() if n < MINOR_CLASS * total}


def _waiting_by_point(problem: ConvoyProblem, gathering: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """People waiting at each gathering node: (needing a seat, needing a stretcher place)."""
    flow = problem.flow
    index = {g: j for j, g in enumerate(gathering)}
    seated, lying = np.zeros(len(gathering)), np.zeros(len(gathering))
    for s, (node, people) in enumerate(
        zip(flow.source_node.tolist(), flow.source_people.tolist(), strict=True)
    ):
        j = index.get(int(node))
        if j is not None:
            (lying if problem.source_stretcher[s] else seated)[j] += people
    return seated, lying


def _unit(n: int, i: int) -> np.ndarray:
    row = np.zeros(n)
    row[i] = 1.0
    return row


def convoy_bounds(
    problem: ConvoyProblem,
    legs: Legs,
    *,
    flow: bool = True,
    timed_route: bool = False,
    route_columns: int = ROUTE_COLUMNS,
) -> Bounds:
    """Every bound of the module; ``flow=False`` skips the max flow (large networks, quick answers);
    ``timed_route=True`` solves the route programme over time too (seconds more; see the module), in
    buckets of steps that keep about ``route_columns`` columns (more: finer buckets, usually a tighter
    bound and a longer solve; every size gives a valid bound)."""
    if route_columns < 1:
        raise ValueError(
            f"route_columns must be at least 1 (got {route_columns}): it sizes the timed route programme"
        )
    trips = trips_possible(problem, legs)
    board = sum(p for loads in problem.vehicle_on_board for _, p in loads)
    relaxed, _ = flow_relaxation(problem) if flow else (None, "")
    flow_bound = people_out(relaxed, problem.horizon) + board if relaxed is not None else None
    checkpoint = _checkpoint_bound(problem, legs)
    route = _route_bound(problem, legs, checkpoint, timed=False)
    if timed_route:
        timed = _route_bound(problem, legs, checkpoint, timed=True, columns=route_columns)
        route = timed if route is None or (timed is not None and timed < route) else route
    return Bounds(
        route=route,
        time=_time_bound(problem, legs, checkpoint),
        people=problem.people,
        flow=flow_bound,
        fleet=_fleet_bound(problem, trips),
        checkpoint=checkpoint,
        trips_per_vehicle=tuple(trips),
    )


__all__ = ["Bounds", "convoy_bounds", "flow_relaxation", "trips_possible"]
