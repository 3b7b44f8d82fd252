"""Turn decisions (which vehicle goes where, with whom) into timed trips, and the greedy dispatcher.

A :class:`Schedule` holds the state of an evacuation being planned: where each vehicle is and from
when it is free, who still waits where, how much each reception point can still take, and the
inspections booked at each checkpoint. :meth:`Schedule.trip` times one trip at the earliest (fastest
drives around closures, boarding, the haul by the route that arrives first: around every checkpoint or
through one, with an inspection at the first free slot of that checkpoint, outside its closures);
:meth:`Schedule.commit` books it. Every method (greedy, local search, exact) builds its plan through
this one place, so every plan has the same timing rules; the verifier checks them independently.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from corridor.plan.convoy import ConvoyPlan, Drive, Inspection, Trip
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import UNLIMITED, IntArray
from corridor.solve.convoy.legs import NEVER, Legs, Path, node_ids

Load = tuple[tuple[int, int], ...]  # (source index, people)


@dataclass(frozen=True)
class Intent:
    """A decision: vehicle ``vehicle`` boards at node ``gathering`` for reception point ``reception``.

    ``load`` empty means "as many as fit, most urgent first" at the time of boarding.
    """

    vehicle: int
    gathering: int
    reception: int
    load: Load = ()


@dataclass(frozen=True)
class Timed:
    """A timed trip before it is booked: the plan's :class:`Trip` and what it books."""

    trip: Trip
    vehicle: int
    gathering: int
    reception: int
    load: Load
    bookings: tuple[tuple[int, int, int], ...]  # (checkpoint, start, end)
    free_node: int
    free_at: int


def _first_gap(booked: list[tuple[int, int]], closed: list[tuple[int, int]], earliest: int, need: int) -> int:
    """First start ``s >= earliest`` with ``[s, s + need)`` clear of ``booked`` and ``closed``."""
    s = earliest
    moved = True
    while moved:
        moved = False
        for a, b in closed:
            if s < b and a < s + need:
                s, moved = b, True
        i = bisect.bisect_left(booked, (s + need, -1))
        # intervals starting before s + need that end after s overlap
        for a, b in booked[max(0, i - 64) : i]:
            if b > s and a < s + need:
                s, moved = b, True
        if s >= NEVER // 2:
            return int(NEVER)
    return s


class _Waiting(list[int]):
    """People waiting per source; remembers which sources were written since the last :meth:`drain`
    (callers may write to it directly, and the schedule's caches per gathering point follow)."""

    def __init__(self, values: Iterable[int]) -> None:
        super().__init__(values)
        self.dirty: set[int] = set(range(len(self)))

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        if isinstance(index, int):
            self.dirty.add(index)
        else:
            self.dirty.update(range(len(self)))

    def drain(self) -> set[int]:
        out, self.dirty = self.dirty, set()
        return out


@dataclass
class Schedule:
    """The state of a convoy plan being built (see the module's documentation)."""

    problem: ConvoyProblem
    legs: Legs
    free_node: list[int] = field(init=False)
    free_at: list[int] = field(init=False)
    number: list[int] = field(init=False)
    waiting: list[int] = field(init=False)
    room: list[int] = field(init=False)
    pending: int = field(init=False)  # people on board at the start not yet delivered
    booked: list[list[tuple[int, int]]] = field(init=False)
    trips: list[Trip] = field(init=False)
    timed: list[Timed] = field(init=False)
    _closed: list[list[tuple[int, int]]] = field(init=False)
    _cp_nodes: frozenset[int] = field(init=False)
    _node_sources: dict[int, list[int]] = field(init=False)
    _source_node: list[int] = field(init=False)
    _node_waiting: dict[int, int] = field(init=False)
    _fills: dict[tuple[int, int], Load] = field(init=False)  # (type, node): a full load, room not binding
    _kind: list[int] = field(init=False)
    _places: list[tuple[int, int]] = field(init=False)  # (seats, stretcher places) per vehicle type
    _lying: list[bool] = field(init=False)  # per source: needs a stretcher place

    def __post_init__(self) -> None:
        p = self.problem
        self.free_node = p.vehicle_node.tolist()
        self.free_at = p.vehicle_ready.tolist()
        self.number = [0] * p.n_vehicles
        self.waiting = _Waiting(p.flow.source_people.tolist())
        self._source_node = [int(n) for n in p.flow.source_node.tolist()]
        self._node_waiting = {}
        self._fills = {}
        self._kind = [int(k) for k in p.vehicle_type.tolist()]
        self._lying = [bool(x) for x in p.source_stretcher.tolist()]
        self._places = [
            (int(a), int(b)) for a, b in zip(p.type_seats.tolist(), p.type_stretchers.tolist(), strict=True)
        ]
        big = 2**62
        self.room = [big if c == UNLIMITED else int(c) for c in p.flow.dest_cap.tolist()]
        self.pending = sum(n for loads in p.vehicle_on_board for _, n in loads)
        self.booked = [[] for _ in p.flow.checkpoint_ids]
        self.trips = []
        self.timed = []
        flow = p.flow
        self._node_sources = {}
        for _, s in sorted(
            (int(flow.group_priority[int(g)]), s) for s, g in enumerate(flow.source_group.tolist())
        ):
            self._node_sources.setdefault(int(flow.source_node[s]), []).append(s)
        nc = p.flow.node_closed
        self._closed = [
            [
                (int(a), int(b))
                for it, a, b in zip(nc.item.tolist(), nc.begin.tolist(), nc.end.tolist(), strict=True)
                if it == int(node)
            ]
            for node in p.flow.checkpoint_node.tolist()
        ]
        self._cp_nodes = frozenset(int(v) for v in p.flow.checkpoint_node.tolist())

    # -- loads ------------------------------------------------------------------------------------
    def spare(self, reception: int) -> int:
        """Room at ``reception`` for people boarding now: the room left, less what the people still on
        board from the start need beyond the room of the other reception points (kept back for them)."""
        return min(self.room[reception], sum(self.room) - self.pending)

    def _sync(self) -> None:
        """Bring the waiting people per gathering node and the cached loads up to date with ``waiting``."""
        if not isinstance(self.waiting, _Waiting):  # replaced wholesale by a caller
            self.waiting = _Waiting(self.waiting)
        dirty = self.waiting.drain()
        if not dirty:
            return
        nodes = {self._source_node[s] for s in dirty}
        for node in nodes:
            self._node_waiting[node] = sum(self.waiting[s] for s in self._node_sources.get(node, ()))
        for key in [k for k in self._fills if k[1] in nodes]:
            del self._fills[key]

    def room_left(self) -> int:
        """Room at all reception points for people boarding now (less the people on board at the start)."""
        return sum(self.room) - self.pending

    def fill(self, vehicle: int, gathering: int, reception: int) -> Load:
        """As many as fit from the sources at ``gathering``, the most urgent groups first
        (``reception`` -1: within the room of all reception points)."""
        kind = self._kind[vehicle]
        seats, stretchers = self._places[kind]
        room = self.spare(reception) if reception >= 0 else self.room_left()
        cached = room >= seats + stretchers
        if cached:
            self._sync()
            hit = self._fills.get((kind, gathering))
            if hit is not None:
                return hit
        out: list[tuple[int, int]] = []
        lying_of = self._lying
        for s in self._node_sources.get(gathering, ()):
            if room <= 0:
                break
            if self.waiting[s] <= 0:
                continue
            lying = lying_of[s]
            free = stretchers if lying else seats
            n = min(free, self.waiting[s], room)
            if n <= 0:
                continue
            out.append((s, n))
            room -= n
            if lying:
                stretchers -= n
            else:
                seats -= n
        load = tuple(out)
        if cached:
            self._fills[(kind, gathering)] = load
        return load

    def full_loads(self, vehicle: int, nodes: Iterable[int]) -> list[Load]:
        """:meth:`fill` at each of ``nodes`` within the room of all reception points."""
        kind = self._kind[vehicle]
        seats, stretchers = self._places[kind]
        if self.room_left() < seats + stretchers:
            return [self.fill(vehicle, g, -1) for g in nodes]
        self._sync()
        get = self._fills.get
        return [get((kind, g)) or self.fill(vehicle, g, -1) for g in nodes]

    def waiting_at(self) -> dict[int, int]:
        """People waiting per gathering node."""
        self._sync()
        return dict(self._node_waiting)

    def on_board(self, vehicle: int) -> Load:
        return self.problem.vehicle_on_board[vehicle] if self.number[vehicle] == 0 else ()

    # -- timing -----------------------------------------------------------------------------------
    def _haul(
        self, kind: int, gathering: int, dest: int, ready: int, people: int
    ) -> tuple[Path, tuple[tuple[int, int, int], ...]] | None:
        """The fastest loaded drive: around every checkpoint, or through one (inspected there)."""
        best: tuple[Path, tuple[tuple[int, int, int], ...]] | None = None
        # A checkpoint at either end is passed too: then the haul goes through that one only.
        ends = {gathering, dest} & self._cp_nodes
        if not ends:
            direct = self.legs.drive(kind, gathering, dest, ready, avoid=self._cp_nodes)
            if direct is not None:
                best = (direct, ())
        elif len(ends) > 1:
            return None
        for c, node in enumerate(self.problem.flow.checkpoint_node.tolist()):
            if ends and node not in ends:
                continue
            others = self._cp_nodes - {node}
            first = self.legs.drive(kind, gathering, node, ready, avoid=others)
            if first is None or (best is not None and first.arrival >= best[0].arrival):
                continue
            need = self.problem.inspection_steps(c, people)
            start = _first_gap(self.booked[c], self._closed[c], first.arrival, need)
            if start >= NEVER // 2:
                continue
            if node == dest:
                # inspected on arrival at the reception point, before the vehicle leaves it
                best = (first, ((c, start, start + need),))
                continue
            second = self.legs.drive(kind, node, dest, start + need, avoid=others)
            if second is None or (best is not None and second.arrival >= best[0].arrival):
                continue
            joined = Path(
                first.nodes + second.nodes[1:], first.departures + second.departures, second.arrival
            )
            best = (joined, ((c, start, start + need),))
        return best

    def trip(self, intent: Intent) -> Timed | None:
        """The trip ``intent`` timed at the earliest from the vehicle's state, or None if it cannot be made
        by the deadline (or carries nobody)."""
        p = self.problem
        v = intent.vehicle
        kind = int(p.vehicle_type[v])
        carried = self.on_board(v)
        approach = self.legs.drive(kind, self.free_node[v], intent.gathering, self.free_at[v])
        if carried:
            if intent.gathering != self.free_node[v]:
                return None
            load = carried
            board_start = board_end = self.free_at[v]
        else:
            if approach is None or approach.arrival > p.horizon:
                return None
            load = intent.load or self.fill(v, intent.gathering, intent.reception)
            board_start = approach.arrival
            board_end = board_start + int(p.load_steps[kind])
        people = sum(n for _, n in load)
        if people <= 0 or approach is None:
            return None
        if not carried and any(self.waiting[s] < n for s, n in load):
            return None
        if people > (self.room[intent.reception] if carried else self.spare(intent.reception)):
            return None
        dest = int(p.flow.dest_node[intent.reception])
        haul = self._haul(kind, intent.gathering, dest, board_end, people)
        if haul is None or haul[0].arrival > p.horizon:
            return None
        path, bookings = haul
        ids = p.flow
        trip = Trip(
            vehicle=p.vehicle_ids[v],
            number=self.number[v] + 1,
            gathering=p.network.node_ids[intent.gathering],
            reception=ids.dest_ids[intent.reception],
            load=tuple((ids.source_ids[s], n) for s, n in load),
            approach=Drive(node_ids(p, approach.nodes), approach.departures, approach.arrival),
            board_start=board_start,
            board_end=board_end,
            haul=Drive(node_ids(p, path.nodes), path.departures, path.arrival),
            inspections=tuple(Inspection(ids.checkpoint_ids[c], s, e) for c, s, e in bookings),
            unload_end=max(
                path.arrival + int(p.unload_steps[kind]), max((e for _, _, e in bookings), default=0)
            ),
        )
        return Timed(trip, v, intent.gathering, intent.reception, load, bookings, dest, trip.unload_end)

    def commit(self, timed: Timed) -> None:
        v = timed.vehicle
        if self.number[v] > 0 or not self.problem.vehicle_on_board[v]:
            for s, n in timed.load:
                self.waiting[s] -= n
        else:
            self.pending -= timed.trip.people
        self.room[timed.reception] -= timed.trip.people
        for c, s, e in timed.bookings:
            bisect.insort(self.booked[c], (s, e))
        self.number[v] += 1
        self.free_node[v] = timed.free_node
        self.free_at[v] = timed.free_at
        self.trips.append(timed.trip)
        self.timed.append(timed)

    def rebuilt(self, keep: Iterable[Timed]) -> Schedule:
        """A fresh schedule with the timed trips ``keep`` booked (each vehicle's trips a prefix of its
        trips here, in order): removing trips only frees people, room and inspection slots, so the kept
        trips stay feasible as they are."""
        out = Schedule(self.problem, self.legs)
        for timed in keep:
            out.commit(timed)
        return out

    # -- results ----------------------------------------------------------------------------------
    def waiting_people(self) -> int:
        return int(sum(self.waiting))

    def plan(
        self, *, method: str, status: str, bound: int, bound_kind: str, stats: dict[str, float]
    ) -> ConvoyPlan:
        p = self.problem
        flow = p.flow
        source_index = {s: i for i, s in enumerate(flow.source_ids)}
        by_group = dict.fromkeys(flow.group_names, 0)
        for t in self.trips:
            for sid, n in t.load:
                by_group[flow.group_names[int(flow.source_group[source_index[sid]])]] += n
        evacuated = sum(t.people for t in self.trips)
        return ConvoyPlan(
            scenario=flow.name,
            network=flow.network.name,
            method=method,
            status="optimal" if status == "optimal" else "feasible",
            start=flow.axis.start,
            dt=flow.axis.dt,
            horizon=flow.horizon,
            evacuees=p.people,
            evacuated=evacuated,
            bound=bound,
            bound_kind=bound_kind,
            vehicles=p.vehicle_ids,
            trips=tuple(sorted(self.trips, key=lambda t: (t.vehicle, t.number))),
            by_group=tuple((g, n) for g, n in by_group.items() if n),
            stats=stats,
        )


def objective_key(problem: ConvoyProblem, trips: Iterable[Trip]) -> tuple[int, ...]:
    """The plan objective as a key to minimise: minus people out per priority level (most urgent
    first), then the completion step, then the number of trips."""
    flow = problem.flow
    levels = sorted(set(flow.group_priority.tolist()))
    source_level = {
        sid: levels.index(int(flow.group_priority[int(g)]))
        for sid, g in zip(flow.source_ids, flow.source_group.tolist(), strict=True)
    }
    out = [0] * len(levels)
    completion = 0
    count = 0
    for t in trips:
        count += 1
        completion = max(completion, t.arrival)
        for sid, n in t.load:
            out[source_level[sid]] -= n
    return (*out, completion, count)


def timed_of(problem: ConvoyProblem, trip: Trip) -> Timed:
    """A trip of a plan as a :class:`Timed` to book in a schedule of ``problem`` (ids must exist)."""
    flow = problem.flow
    v = problem.vehicle_ids.index(trip.vehicle)
    r = flow.dest_ids.index(trip.reception)
    sindex = {sid: i for i, sid in enumerate(flow.source_ids)}
    cindex = {cid: i for i, cid in enumerate(flow.checkpoint_ids)}
    load = tuple((sindex[sid], n) for sid, n in trip.load)
    bookings = tuple((cindex[i.checkpoint], i.start, i.end) for i in trip.inspections)
    dest = int(flow.dest_node[r])
    return Timed(trip, v, problem.network.index[trip.gathering], r, load, bookings, dest, trip.unload_end)


def replay(problem: ConvoyProblem, legs: Legs, intents: Iterable[Intent]) -> Schedule:
    """A schedule made of ``intents`` in order (those that cannot be made are skipped)."""
    schedule = Schedule(problem, legs)
    for intent in intents:
        timed = schedule.trip(intent)
        if timed is not None:
            schedule.commit(timed)
    return schedule


Candidates = Callable[[Schedule, int], Iterable[tuple[int, int]]]


def _all_candidates(schedule: Schedule, vehicle: int) -> Iterable[tuple[int, int]]:
    p = schedule.problem
    flow = p.flow
    rooms = [r for r in range(len(flow.dest_ids)) if schedule.room[r] > 0]
    if schedule.on_board(vehicle):
        node = schedule.free_node[vehicle]
        return [(node, r) for r in rooms]
    gathering = sorted({int(flow.source_node[s]) for s, n in enumerate(schedule.waiting) if n > 0})
    return [(g, r) for g in gathering for r in rooms]


@dataclass
class Chooser:
    """How a vehicle picks its next trip: the most urgent people first, then the most people per step,
    then the earliest arrival.

    People per step count from the moment the vehicle is free to the arrival or, with ``cycle``, to the
    moment it could be back at the nearest gathering point (by the fastest drive around the closures in
    force then, and no later than the deadline): a trip that leaves the vehicle behind a closure counts
    the wait. ``noise`` (0 = none) multiplies each candidate's people per step by
    ``exp(noise * N(0, 1))`` drawn from ``rng``: randomised greedy for local search. Candidates are
    tried in the order of their optimistic score (static drive times, no queue at checkpoints), and the
    choice stops as soon as no untried candidate can beat the best timed one.
    """

    problem: ConvoyProblem
    noise: float = 0.0
    rng: random.Random | None = None
    candidates: Candidates = _all_candidates
    cycle: bool = True
    _level: list[int] = field(init=False)
    _levels: int = field(init=False)
    _home: dict[tuple[int, int], tuple[int, int]] = field(init=False)
    _hauls: dict[int, IntArray] = field(init=False)
    _homes: dict[int, IntArray] = field(init=False)
    _counts: dict[Load, tuple[int, tuple[int, ...]]] = field(init=False)
    _gathering: list[int] = field(init=False)
    _soonest_from: dict[tuple[int, int], int] = field(init=False)

    def __post_init__(self) -> None:
        flow = self.problem.flow
        self._soonest_from = {}
        self._counts = {}
        self._gathering = [int(g) for g in self.problem.gathering_nodes.tolist()]
        levels = sorted(set(flow.group_priority.tolist()))
        self._levels = len(levels)
        self._level = [levels.index(int(flow.group_priority[int(g)])) for g in flow.source_group.tolist()]
        self._home = {}
        self._hauls = {}
        self._homes = {}

    def _count(self, load: Load) -> tuple[int, tuple[int, ...]]:
        """(people, minus people per priority level) of ``load``."""
        hit = self._counts.get(load)
        if hit is None:
            hit = self._counts[load] = (sum(n for _, n in load), tuple(self._carried(load)))
        return hit

    def _carried(self, load: Load) -> list[int]:
        out = [0] * self._levels
        for s, n in load:
            out[self._level[s]] -= n
        return out

    def home(self, legs: Legs, kind: int, node: int) -> tuple[int, int]:
        """(nearest gathering node from ``node``, static steps to it) for vehicle type ``kind``."""
        key = (kind, node)
        hit = self._home.get(key)
        if hit is None:
            options = [(legs.static_steps(kind, node, int(g)), int(g)) for g in self.problem.gathering_nodes]
            steps, g = min(options, default=(int(NEVER), node))
            hit = self._home[key] = (g, steps)
        return hit

    def _end(self, legs: Legs, kind: int, dest: int, unload_end: int, exact: bool) -> int:
        """When the cycle of a trip unloading at ``dest`` until ``unload_end`` ends (see the class)."""
        horizon = self.problem.horizon
        if not self.cycle or unload_end >= horizon:
            return min(unload_end, horizon)
        g, steps = self.home(legs, kind, dest)
        if steps >= NEVER:
            return horizon
        if not exact:
            return min(horizon, unload_end + steps)
        back = legs.drive(kind, dest, g, unload_end)
        return horizon if back is None else min(horizon, back.arrival)

    def _haul_matrix(self, legs: Legs, kind: int) -> IntArray:
        """Static haul steps (a lower bound) from each gathering node to each reception point."""
        hit = self._hauls.get(kind)
        if hit is None:
            flow = self.problem.flow
            hit = np.asarray(
                [
                    [legs.static_haul_steps(kind, int(g), int(d)) for d in flow.dest_node.tolist()]
                    for g in self.problem.gathering_nodes.tolist()
                ],
                dtype=np.int64,
            ).reshape(len(self.problem.gathering_nodes), len(flow.dest_ids))
            self._hauls[kind] = hit
        return hit

    def _home_steps(self, legs: Legs, kind: int) -> IntArray:
        hit = self._homes.get(kind)
        if hit is None:
            dests = self.problem.flow.dest_node.tolist()
            hit = np.asarray([self.home(legs, kind, int(d))[1] for d in dests], dtype=np.int64)
            self._homes[kind] = hit
        return hit

    def best(self, schedule: Schedule, v: int) -> Timed | None:
        """The best trip for vehicle ``v`` from its state in ``schedule`` (None if none can be made)."""
        if self.candidates is _all_candidates and not schedule.on_board(v):
            return self._best_all(schedule, v)
        p = self.problem
        legs = schedule.legs
        kind = int(p.vehicle_type[v])
        free_at, free_node = schedule.free_at[v], schedule.free_node[v]
        carried = schedule.on_board(v)
        load_steps = int(p.load_steps[kind])
        unload_steps = int(p.unload_steps[kind])
        dest_node = p.flow.dest_node
        options: list[tuple[tuple[float, ...], int, int, Load, float]] = []
        for g, r in self.candidates(schedule, v):
            if carried:
                if g != free_node:
                    continue
                load, lead = carried, 0
            else:
                load = schedule.fill(v, g, r)
                lead = legs.static_steps(kind, free_node, g) + load_steps
            people = sum(n for _, n in load)
            if people <= 0:
                continue
            dest = int(dest_node[r])
            low = free_at + lead + legs.static_haul_steps(kind, g, dest)
            if low > p.horizon:
                continue
            factor = 1.0
            if self.noise > 0 and self.rng is not None:
                factor = math.exp(self.noise * self.rng.gauss(0.0, 1.0))
            end = self._end(legs, kind, dest, low + unload_steps, exact=False)
            key = (*self._carried(load), -people * factor / max(1, end - free_at), low)
            options.append((key, g, r, load, factor))
        options.sort(key=lambda o: (o[0], o[1], o[2]))
        best: Timed | None = None
        best_key: tuple[float, ...] | None = None
        for key, g, r, load, factor in options:
            if best_key is not None and key >= best_key:
                break
            timed = schedule.trip(Intent(v, g, r, () if carried else load))
            if timed is None:
                continue
            exact = self._key(legs, timed, free_at, factor, key[: self._levels])
            if best_key is None or exact < best_key:
                best, best_key = timed, exact
        return best

    def _best_all(self, schedule: Schedule, v: int) -> Timed | None:
        """:meth:`best` over every gathering node with people and reception point with room, with the
        optimistic scores computed for all of them at once."""
        p = self.problem
        legs = schedule.legs
        kind = int(p.vehicle_type[v])
        free_at, free_node = schedule.free_at[v], schedule.free_node[v]
        if free_at + self._soonest(legs, kind, free_node) > p.horizon:
            return None  # no trip from here arrives by the deadline, whoever waits
        gathering = p.gathering_nodes
        waiting = schedule.waiting_at()
        gi = [i for i, g in enumerate(self._gathering) if waiting.get(g, 0) > 0]
        total = schedule.room_left()
        ri = [r for r, room in enumerate(schedule.room) if min(room, total) > 0]
        if not gi or not ri:
            return None
        loads = schedule.full_loads(v, [self._gathering[i] for i in gi])
        counted = [self._count(load) for load in loads]
        people = np.asarray([c[0] for c in counted], dtype=np.int64)
        room = np.asarray([min(schedule.room[r], total, 2**62) for r in ri], dtype=np.int64)
        lead = self._lead(legs, kind, free_node, gathering[gi])
        low = free_at + lead[:, None] + self._haul_matrix(legs, kind)[np.ix_(gi, ri)]
        carried = np.minimum(people[:, None], room[None, :])
        unload = int(p.unload_steps[kind])
        if self.cycle:
            end = np.minimum(p.horizon, low + unload + self._home_steps(legs, kind)[ri][None, :])
        else:
            end = np.minimum(p.horizon, low + unload)
        factor = np.ones(low.shape)
        if self.noise > 0 and self.rng is not None:
            noise = np.random.default_rng(self.rng.getrandbits(32)).standard_normal(low.shape)
            factor = np.exp(self.noise * noise)
        rate = carried * factor / np.maximum(1, end - free_at)
        by_row = np.asarray([c[1] for c in counted], dtype=np.int64).reshape(len(gi), self._levels)
        levels = [np.broadcast_to(by_row[:, lv][:, None], low.shape) for lv in range(self._levels)]
        short = carried < people[:, None]  # room-limited pairs: filled again below
        ok = (low <= p.horizon) & (carried > 0)
        flat = np.flatnonzero(ok.ravel())
        if not len(flat):
            return None
        keys = [low.ravel()[flat], -rate.ravel()[flat]] + [lv.ravel()[flat] for lv in reversed(levels)]
        order = flat[np.lexsort(keys)]
        best: Timed | None = None
        best_key: tuple[float, ...] | None = None
        n_r = len(ri)
        for cell in order.tolist():
            row, col = divmod(cell, n_r)
            g, r = int(gathering[gi[row]]), ri[col]
            if short[row, col]:
                load = schedule.fill(v, g, r)
                lv: tuple[float, ...] = tuple(self._carried(load))
            else:
                load = loads[row]
                lv = tuple(float(x) for x in counted[row][1])
            key = (*lv, -float(rate[row, col]), float(low[row, col]))
            if best_key is not None and key >= best_key:
                if not short[row, col]:
                    break
                continue
            timed = schedule.trip(Intent(v, g, r, load))
            if timed is None:
                continue
            exact = self._key(legs, timed, free_at, float(factor[row, col]), lv)
            if best_key is None or exact < best_key:
                best, best_key = timed, exact
        return best

    def _soonest(self, legs: Legs, kind: int, node: int) -> int:
        """The least steps from ``node`` to any arrival at a reception point with people boarded at a
        gathering point (static drives: no trip from ``node`` arrives sooner)."""
        hit = self._soonest_from.get((kind, node))
        if hit is None:
            lead = self._lead(legs, kind, node, self.problem.gathering_nodes)
            hauls = self._haul_matrix(legs, kind)
            hit = int((lead + hauls.min(axis=1, initial=int(NEVER))).min(initial=int(NEVER)))
            self._soonest_from[(kind, node)] = hit
        return hit

    def _lead(self, legs: Legs, kind: int, free_node: int, nodes: IntArray) -> IntArray:
        steps = legs.static_from(kind, free_node)[nodes]
        return np.asarray(steps + int(self.problem.load_steps[kind]), dtype=np.int64)

    def _key(
        self, legs: Legs, timed: Timed, free_at: int, factor: float, carried: tuple[float, ...]
    ) -> tuple[float, ...]:
        kind = int(self.problem.vehicle_type[timed.vehicle])
        end = self._end(legs, kind, timed.free_node, timed.free_at, exact=True)
        return (*carried, -timed.trip.people * factor / max(1, end - free_at), timed.trip.arrival)

    def key(self, legs: Legs, timed: Timed, free_at: int) -> tuple[float, ...]:
        """The (noise-free) preference of trip ``timed`` of a vehicle free at ``free_at``."""
        return self._key(legs, timed, free_at, 1.0, tuple(self._carried(timed.load)))


def dispatch(
    schedule: Schedule,
    chooser: Chooser,
    vehicles: Iterable[int] | None = None,
    *,
    lookahead: int | None = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Schedule:
    """Send vehicles (of ``vehicles``, default all) on trips until none can make one by the deadline;
    ``schedule`` is extended in place.

    Each round looks at the vehicle free first of each type, among those free no later than
    ``lookahead`` steps after the first (``None``: any time), and sends the one whose best trip the
    chooser prefers (the most urgent people first): with a lookahead, an ambulance free a little later
    takes the checkpoint's next slot before a bus free now. ``lookahead=0`` sends the vehicle free
    first."""
    problem = schedule.problem
    kinds = problem.vehicle_type.tolist()
    # per vehicle type, the active vehicles by (free from, index): the first of each is its pool's
    heaps: dict[int, list[tuple[int, int]]] = {}
    for v in sorted(range(problem.n_vehicles) if vehicles is None else set(vehicles)):
        heaps.setdefault(kinds[v], []).append((schedule.free_at[v], v))
    for heap in heaps.values():
        heapq.heapify(heap)
    while heaps:
        tops = sorted(heap[0] for heap in heaps.values())
        first = tops[0][1]
        limit = int(NEVER) if lookahead is None else schedule.free_at[first] + lookahead
        pool = [v for at, v in tops if at <= limit]
        if len(pool) == 1:
            v = first
            timed = chooser.best(schedule, v)
            if timed is None:
                _drop(heaps, kinds[v])
                continue
        else:
            options: list[tuple[tuple[float, ...], int, Timed]] = []
            for v in sorted(pool):
                found = chooser.best(schedule, v)
                if found is None:
                    _drop(heaps, kinds[v])
                    continue
                options.append((chooser.key(schedule.legs, found, schedule.free_at[v]), v, found))
            if not options:
                continue
            _, v, timed = min(options, key=lambda o: (o[0], o[1]))
        schedule.commit(timed)
        heapq.heapreplace(heaps[kinds[v]], (schedule.free_at[v], v))
        if progress is not None:
            progress(len(schedule.trips), problem.people - schedule.waiting_people())
    return schedule


def _drop(heaps: dict[int, list[tuple[int, int]]], kind: int) -> None:
    """Retire the first vehicle of type ``kind`` (it can make no more trips)."""
    heapq.heappop(heaps[kind])
    if not heaps[kind]:
        del heaps[kind]


def greedy(
    problem: ConvoyProblem,
    legs: Legs,
    *,
    candidates: Candidates = _all_candidates,
    lookahead: int | None = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Schedule:
    """Dispatch the vehicle that is free first to the trip that serves the most urgent people and, among
    those, moves the most people per step, until no vehicle can make a trip by the deadline (see
    :func:`dispatch` for ``lookahead``)."""
    chooser = Chooser(problem, candidates=candidates)
    return dispatch(Schedule(problem, legs), chooser, lookahead=lookahead, progress=progress)


__all__ = [
    "Candidates",
    "Chooser",
    "Intent",
    "Load",
    "Schedule",
    "Timed",
    "dispatch",
    "greedy",
    "objective_key",
    "replay",
    "timed_of",
]
