"""Check a convoy plan against its problem without trusting the method that made it.

Every trip: a known vehicle, gathering node, reception point and sources at that node; drives that
follow roads of the network, each road taking the vehicle's full travel time, never used while closed
(nor a closed node left or entered; where parallel roads join two nodes, a drive is timed against the
fastest of them open when it is driven: faster is refused, slower is waiting); an approach from where
the vehicle was, no earlier than it was free; boarding and unloading no shorter than the vehicle's
times; seats and stretcher places never exceeded; an inspection at every checkpoint the haul passes,
no shorter than the checkpoint allows and not while it is closed, and at each checkpoint one vehicle
at a time; arrival by the deadline. Totals:
no source gives more people than it has, no reception point takes more than its capacity, people on
board at the start are delivered, and the plan's figures agree with its trips.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import numpy as np

from corridor.plan.convoy import ConvoyPlan, Drive, Trip
from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import UNLIMITED

_MAX_REPORTED = 200


class _Closures:
    """The closed windows of each road and node, looked up per item (a plan of 800 trips on a network
    with hundreds of closures checks each road it drives against them: scanning every window for
    each road took minutes)."""

    def __init__(self, problem: ConvoyProblem) -> None:
        flow = problem.flow
        self.arcs = self._by_item(flow.arc_closed.item, flow.arc_closed.begin, flow.arc_closed.end)
        self.nodes = self._by_item(flow.node_closed.item, flow.node_closed.begin, flow.node_closed.end)
        self.tail = flow.network.tail.tolist()
        self.head = flow.network.head.tolist()

    @staticmethod
    def _by_item(item: np.ndarray, begin: np.ndarray, end: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        out: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for it, a, b in zip(item.tolist(), begin.tolist(), end.tolist(), strict=True):
            out[int(it)].append((int(a), int(b)))
        return dict(out)

    @staticmethod
    def _inside(windows: list[tuple[int, int]] | None, step: int) -> bool:
        return windows is not None and any(a <= step < b for a, b in windows)

    def arc(self, arc: int, dep: int, arrive: int) -> bool:
        """Is road ``arc`` closed when left at ``dep``, or its tail then, or its head at ``arrive``?"""
        return (
            self._inside(self.arcs.get(arc), dep)
            or self._inside(self.nodes.get(self.tail[arc]), dep)
            or self._inside(self.nodes.get(self.head[arc]), arrive)
        )


def _arcs_between(problem: ConvoyProblem) -> dict[tuple[int, int], list[int]]:
    net = problem.network
    out: dict[tuple[int, int], list[int]] = defaultdict(list)
    for a, (u, v) in enumerate(zip(net.tail.tolist(), net.head.tolist(), strict=True)):
        out[(u, v)].append(a)
    return out


class _Checker:
    def __init__(self, plan: ConvoyPlan, problem: ConvoyProblem) -> None:
        self.plan = plan
        self.problem = problem
        self.out: list[str] = []
        self.arcs = _arcs_between(problem)
        self.node_index = problem.network.index
        self.vehicle_index = {v: i for i, v in enumerate(problem.vehicle_ids)}
        self.source_index = {s: i for i, s in enumerate(problem.flow.source_ids)}
        self.dest_index = {d: i for i, d in enumerate(problem.flow.dest_ids)}
        self.checkpoint_index = {c: i for i, c in enumerate(problem.flow.checkpoint_ids)}
        self.inspections: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        self.closures = _Closures(problem)

    def add(self, text: str) -> None:
        self.out.append(text)

    def drive(self, where: str, drive: Drive, vehicle: int, ready: int) -> list[int] | None:
        """Check a drive; the step the vehicle reaches each of its nodes, or ``None`` if broken."""
        problem = self.problem
        if len(drive.departures) != max(0, len(drive.nodes) - 1) or not drive.nodes:
            self.add(f"{where}: {len(drive.nodes)} nodes but {len(drive.departures)} departures")
            return None
        nodes = [self.node_index.get(n, -1) for n in drive.nodes]
        if min(nodes) < 0:
            bad = drive.nodes[nodes.index(-1)]
            self.add(f"{where}: node {bad!r} is not in the network")
            return None
        steps = problem.arc_steps[int(problem.vehicle_type[vehicle])]
        reach = [drive.arrival if not drive.departures else ready]
        if not drive.departures and drive.arrival < ready:
            self.add(f"{where}: ready at step {drive.arrival}, before the vehicle is free ({ready})")
        at = ready
        for k, dep in enumerate(drive.departures):
            u, v = nodes[k], nodes[k + 1]
            candidates = self.arcs.get((u, v))
            if not candidates:
                self.add(f"{where}: no road from {drive.nodes[k]} to {drive.nodes[k + 1]}")
                return None
            if dep < at:
                self.add(f"{where}: leaves {drive.nodes[k]} at step {dep}, before it is there ({at})")
            if dep < 0 or dep > problem.horizon:
                self.add(f"{where}: leaves {drive.nodes[k]} at step {dep}, outside the window")
            # parallel roads: the drive may take any of them that is open when driven; the fastest
            # open one gives the earliest it can be at the next node (a slower one is waiting)
            open_arcs = [a for a in candidates if not self.closures.arc(a, dep, dep + int(steps[a]))]
            if not open_arcs:
                self.add(
                    f"{where}: road {drive.nodes[k]}->{drive.nodes[k + 1]} used at step {dep} while closed"
                )
            arc = min(open_arcs or candidates, key=lambda a: int(steps[a]))
            at = dep + int(steps[arc])
            reach.append(at)
        if drive.departures and drive.arrival < at:
            self.add(
                f"{where}: arrival {drive.arrival} but the roads give {at}"
                f" (faster than the fastest open road from {drive.nodes[-2]} to {drive.nodes[-1]})"
            )
        elif drive.departures:
            reach[-1] = drive.arrival  # a later arrival waits on the way (or drove a slower road)
        return reach

    def trip(self, trip: Trip, free_at: int, free_node: int) -> tuple[int, int] | None:
        problem = self.problem
        where = f"{trip.vehicle} trip {trip.number}"
        v = self.vehicle_index[trip.vehicle]
        k = int(problem.vehicle_type[v])
        gathering = self.node_index.get(trip.gathering, -1)
        if trip.reception not in self.dest_index:
            self.add(f"{where}: unknown reception point {trip.reception!r}")
            return None
        if gathering < 0:
            self.add(f"{where}: gathering point {trip.gathering!r} is not a node of the network")
            return None
        dest_node = int(problem.flow.dest_node[self.dest_index[trip.reception]])
        if self.node_index.get(trip.approach.nodes[0] if trip.approach.nodes else "", -2) != free_node:
            self.add(f"{where}: starts at {trip.approach.nodes[:1]}, not where the vehicle is")
        if trip.approach.nodes and self.node_index.get(trip.approach.nodes[-1]) != gathering:
            self.add(f"{where}: approach ends at {trip.approach.nodes[-1]}, not at {trip.gathering}")
        self.drive(f"{where} approach", trip.approach, v, free_at)
        if trip.board_start < trip.approach.arrival:
            self.add(f"{where}: boards at step {trip.board_start}, before arriving ({trip.approach.arrival})")
        on_board = problem.vehicle_on_board[v] if trip.number == 1 else ()
        carried = bool(on_board) and trip.board_end == trip.board_start
        if on_board and trip.approach.departures:
            self.add(f"{where}: drives with people on board before its haul (their drive must be the haul)")
        if not carried and trip.board_end - trip.board_start < int(problem.load_steps[k]):
            self.add(
                f"{where}: boards in {trip.board_end - trip.board_start} steps,"
                f" less than {int(problem.load_steps[k])}"
            )
        self.load(where, trip, v, gathering, carried)
        if not trip.haul.nodes or self.node_index.get(trip.haul.nodes[0]) != gathering:
            self.add(f"{where}: the haul does not start at {trip.gathering}")
        elif self.node_index.get(trip.haul.nodes[-1]) != dest_node:
            self.add(f"{where}: the haul ends at {trip.haul.nodes[-1]}, not at {trip.reception}")
        reach = self.drive(f"{where} haul", trip.haul, v, trip.board_end)
        if reach is not None:
            self.checkpoints(where, trip, reach)
        if trip.haul.arrival > problem.horizon:
            self.add(f"{where}: arrives at step {trip.haul.arrival}, after the deadline {problem.horizon}")
        if trip.unload_end - trip.haul.arrival < int(problem.unload_steps[k]):
            self.add(f"{where}: unloads in {trip.unload_end - trip.haul.arrival} steps, less than needed")
        return trip.unload_end, dest_node

    def load(self, where: str, trip: Trip, v: int, gathering: int, carried: bool) -> None:
        problem = self.problem
        seats, stretchers = problem.capacity(v)
        seated = lying = 0
        for sid, n in trip.load:
            s = self.source_index.get(sid)
            if s is None:
                self.add(f"{where}: unknown source {sid!r}")
                continue
            if n <= 0:
                self.add(f"{where}: boards {n} people of {sid}")
            if not carried and int(problem.flow.source_node[s]) != gathering:
                self.add(f"{where}: boards people of {sid}, who wait elsewhere")
            if problem.source_stretcher[s]:
                lying += n
            else:
                seated += n
        if seated > seats:
            self.add(f"{where}: {seated} seated people > {seats} seats")
        if lying > stretchers:
            self.add(f"{where}: {lying} people on stretchers > {stretchers} stretcher places")
        if trip.people <= 0:
            self.add(f"{where}: carries nobody")

    def checkpoints(self, where: str, trip: Trip, reach: list[int]) -> None:
        problem = self.problem
        flow = problem.flow
        expected: list[tuple[int, int, int]] = []  # (checkpoint, arrival step, leave step)
        nodes = [self.node_index[n] for n in trip.haul.nodes]
        for pos, node in enumerate(nodes):
            c = problem.checkpoint_of_node.get(node)
            if c is None:
                continue
            leave = trip.haul.departures[pos] if pos < len(trip.haul.departures) else trip.unload_end
            expected.append((c, reach[pos], leave))
        if len(expected) > 1:
            names = ", ".join(flow.checkpoint_ids[c] for c, _, _ in expected)
            self.add(
                f"{where}: the haul passes {len(expected)} checkpoints ({names}); a haul passes one at most"
            )
            return
        if len(expected) != len(trip.inspections):
            self.add(
                f"{where}: passes {len(expected)} checkpoints but has {len(trip.inspections)} inspections"
            )
            return
        for (c, arrive, leave), insp in zip(expected, trip.inspections, strict=True):
            cid = flow.checkpoint_ids[c]
            if insp.checkpoint != cid:
                self.add(f"{where}: inspection at {insp.checkpoint!r} where the haul passes {cid}")
                continue
            need = problem.inspection_steps(c, trip.people)
            if insp.start < arrive:
                self.add(f"{where}: inspected at {cid} from step {insp.start}, before arriving ({arrive})")
            if insp.end - insp.start < need:
                self.add(f"{where}: inspection at {cid} takes {insp.end - insp.start} steps, needs {need}")
            if leave < insp.end:
                self.add(f"{where}: leaves {cid} at step {leave}, before its inspection ends ({insp.end})")
            if self._closed_during(int(flow.checkpoint_node[c]), insp.start, insp.end):
                self.add(f"{where}: inspected at {cid} during [{insp.start}, {insp.end}) while it is closed")
            self.inspections[c].append((insp.start, insp.end, where))

    def _closed_during(self, node: int, start: int, end: int) -> bool:
        """Does a closure of ``node`` cover a step of ``[start, end)``? (window overlap, any length)"""
        closed = self.problem.flow.node_closed
        hit = (closed.item == node) & (closed.begin < end) & (closed.end > start)
        return bool(hit.any())

    def queues(self) -> None:
        flow = self.problem.flow
        for c, items in self.inspections.items():
            items.sort()
            for (_s0, e0, w0), (s1, _, w1) in itertools.pairwise(items):
                if s1 < e0:
                    self.add(
                        f"checkpoint {flow.checkpoint_ids[c]}: {w1} inspected from step {s1}"
                        f" while {w0} is, until {e0}"
                    )


def _vehicle_trips(check: _Checker) -> dict[str, list[Trip]]:
    by_vehicle: dict[str, list[Trip]] = defaultdict(list)
    for trip in check.plan.trips:
        if trip.vehicle not in check.vehicle_index:
            check.add(f"trip {trip.number} of {trip.vehicle!r}: no such vehicle in the fleet")
            continue
        by_vehicle[trip.vehicle].append(trip)
    for vehicle, trips in by_vehicle.items():
        trips.sort(key=lambda t: t.number)
        numbers = [t.number for t in trips]
        if numbers != list(range(1, len(trips) + 1)):
            check.add(f"{vehicle}: trips numbered {numbers}, not 1..{len(trips)}")
    return by_vehicle


def _totals(check: _Checker) -> None:
    plan, problem = check.plan, check.problem
    flow = problem.flow
    taken = Counter[str]()
    received = Counter[str]()
    by_group = Counter[str]()
    evacuated = 0
    for trip in plan.trips:
        received[trip.reception] += trip.people
        evacuated += trip.people
        for sid, n in trip.load:
            s = check.source_index.get(sid)
            if s is None:
                continue
            by_group[flow.group_names[int(flow.source_group[s])]] += n
            is_carried = (
                trip.number == 1
                and trip.board_end == trip.board_start
                and bool(problem.vehicle_on_board[check.vehicle_index.get(trip.vehicle, 0)])
            )
            if not is_carried:
                taken[sid] += n
    for sid, people in zip(flow.source_ids, flow.source_people.tolist(), strict=True):
        if taken[sid] > people:
            check.add(f"source {sid}: {taken[sid]} people board but {people} wait there")
    for did, cap in zip(flow.dest_ids, flow.dest_cap.tolist(), strict=True):
        if cap != UNLIMITED and received[did] > cap:
            check.add(f"reception point {did}: receives {received[did]} > capacity {cap}")
    if evacuated != plan.evacuated:
        check.add(f"plan says {plan.evacuated} out but its trips carry {evacuated}")
    if {g: n for g, n in plan.by_group if n} != {g: n for g, n in by_group.items() if n}:
        check.add(f"plan's people out by group {dict(plan.by_group)} differ from its trips' {dict(by_group)}")
    if plan.evacuated > plan.bound:
        check.add(f"plan brings out {plan.evacuated}, more than its bound {plan.bound}")
    if plan.evacuees != problem.people:
        check.add(f"plan counts {plan.evacuees} people to move, the problem {problem.people}")
    if set(plan.vehicles) != set(problem.vehicle_ids):
        check.add("plan's vehicles differ from the fleet")


def _on_board(check: _Checker, by_vehicle: dict[str, list[Trip]]) -> None:
    problem = check.problem
    names = problem.flow.source_ids
    for v, loads in enumerate(problem.vehicle_on_board):
        if not loads:
            continue
        vid = problem.vehicle_ids[v]
        first = by_vehicle.get(vid, [None])[0]
        want = sorted((names[s], n) for s, n in loads)
        if first is None or sorted(first.load) != want or first.board_end != first.board_start:
            check.add(f"{vid}: the people on board at the start ({want}) are not delivered by its first trip")


def verify_convoy(plan: ConvoyPlan, problem: ConvoyProblem) -> list[str]:
    """Every violation found (an empty list means the plan is feasible for the problem)."""
    check = _Checker(plan, problem)
    if plan.horizon != problem.horizon or plan.dt != problem.dt:
        check.add(f"plan horizon {plan.horizon} x {plan.dt} min differs from the problem's")
    by_vehicle = _vehicle_trips(check)
    for vehicle, trips in by_vehicle.items():
        v = check.vehicle_index[vehicle]
        free_at, free_node = int(problem.vehicle_ready[v]), int(problem.vehicle_node[v])
        for trip in trips:
            if not trip.approach.nodes:
                check.add(f"{vehicle} trip {trip.number}: an approach with no node")
                break
            result = check.trip(trip, free_at, free_node)
            if result is None:
                break
            free_at, free_node = result
    _on_board(check, by_vehicle)
    check.queues()
    _totals(check)
    if len(check.out) > _MAX_REPORTED:
        more = len(check.out) - _MAX_REPORTED
        return [*check.out[:_MAX_REPORTED], f"... and {more} more violations"]
    return check.out


__all__ = ["verify_convoy"]
