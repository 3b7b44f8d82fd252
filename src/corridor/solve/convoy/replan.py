"""Re-plan a convoy operation from its live state: keep what is under way, change as little as possible.

Input: the previous :class:`~corridor.plan.convoy.ConvoyPlan`, the scenario as it is now (a closure
added, the deadline moved...), the step ``now`` (of the same time axis) and, optionally, the facts of
the operation as a :class:`~corridor.problem.convoy.LiveState` (people no longer waiting per source,
people out per group, vehicles' places and people on board). Without facts, the previous plan is taken
to have gone as planned until ``now``.

How the new problem represents the state (so that the new plan verifies with ``verify_convoy``
against it, kept trips included):

- a trip is **done** when its haul has arrived by ``now``: its people are out (``out_by_group``) and
  no longer wait (``left``); its vehicle is free at its reception point when unloaded;
- a trip is **under way** when its approach began before ``now`` and its haul has not arrived. It is
  **kept** as it is when it still verifies against the new scenario: its vehicle then enters the new
  problem at the trip's first node, free at the trip's start, with its people still counted as
  waiting at their sources; the kept trip is the vehicle's trip 1 in the new plan. Otherwise it is
  **re-timed** (so is a trip the live facts contradict: other people on board): the vehicle enters
  at the place the facts give or else at the next node it reaches (free when the old plan had it leave
  there), with the people it has boarded on board, and the new plan takes them on from there;
- every other vehicle enters where it is at ``now`` (its last reception point or its depot), free
  from ``now`` or when its last trip is unloaded;
- kept trips that together take more people from a source than wait there, or bring more to a
  reception point than it can still take, are re-timed (those arriving last first);
- people already received (the done trips', or ``live.received`` when given) are taken off the
  reception points' capacities; done trips of vehicles no longer in the fleet still count.

The new plan is verified against the new problem before it is returned (if the preferred plan would
not, the other of the replayed and the fresh plan is taken when it verifies): a plan that would not verify
raises :class:`~corridor.core.errors.SolverError` naming the first violations.

Trips in the new plan are numbered from 1 per vehicle; the difference numbers them as the operation
does (after the done trips). The new plan replays the previous plan's intents first (same vehicle,
gathering point and reception point, in the old order, with the old load while those people wait),
then sends vehicles with time left on more trips; a fresh greedy plan from the same state replaces it
only when it brings more people out (by priority level).

Who is left behind, and why (per source), the first that applies: ``deadline`` when no vehicle could
reach the gathering point and then a reception point by the deadline even on empty roads;
``closure`` when the same re-plan without any closure takes more of them out; ``checkpoint`` when it
does with instant inspections; ``fleet`` otherwise (the vehicles are all in use).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from corridor.core.errors import SolverError
from corridor.network.model import Network
from corridor.plan.convoy import ConvoyPlan, Drive, Trip
from corridor.plan.convoy_verify import verify_convoy
from corridor.problem.convoy import ConvoyProblem, LiveState, VehicleState, compile_convoy
from corridor.problem.model import UNLIMITED, Windows
from corridor.scenario.model import Scenario
from corridor.solve.convoy.bounds import convoy_bounds
from corridor.solve.convoy.legs import NEVER, Legs
from corridor.solve.convoy.schedule import Chooser, Intent, Schedule, dispatch, objective_key, timed_of


@dataclass(frozen=True)
class TripChange:
    """One trip that differs: ``number`` counts the vehicle's trips from the start of the operation.

    ``kind``: "changed", "added" (a new trip) or "dropped" (a trip of the previous plan no longer made);
    ``what``: (field, before, after) for gathering, reception, start, arrival and load.
    """

    vehicle: str
    number: int
    kind: str
    what: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class LeftBehind:
    source: str
    group: str
    people: int  # still waiting when the new plan ends
    before: int  # left behind by the previous plan
    reason: str  # "deadline", "closure", "checkpoint", "fleet"


@dataclass(frozen=True)
class Replan:
    """The new plan, the problem it verifies against, and the difference from the previous plan."""

    plan: ConvoyPlan
    problem: ConvoyProblem
    kept: tuple[Trip, ...]  # under-way trips kept as they were (trip 1 of their vehicles in ``plan``)
    retimed: tuple[str, ...]  # vehicles whose under-way trip no longer verified
    done: tuple[Trip, ...]  # trips of the previous plan finished by ``now``
    changes: tuple[TripChange, ...]
    gathering_changed: tuple[tuple[str, int, int], ...]  # (gathering node, people before, after)
    left_behind: tuple[LeftBehind, ...]
    seconds: float
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def out_total(self) -> int:
        """People out by the deadline: out already at ``now`` plus the new plan's."""
        return self.problem.out_already + self.plan.evacuated


def _position(drive: Drive, now: int) -> tuple[str, int]:
    """The node a vehicle on ``drive`` reaches next at ``now`` and when it leaves it (or arrives)."""
    for k, dep in enumerate(drive.departures):
        if dep >= now:
            return drive.nodes[k], dep
    return drive.nodes[-1], drive.arrival


def _begun(trip: Trip, now: int) -> bool:
    return trip.approach.start < now and trip.arrival > now


@dataclass
class _State:
    """The vehicles' states and the people counts of the new problem."""

    vehicles: dict[str, VehicleState]
    left: Counter[str]
    out: Counter[str]
    kept: dict[str, Trip]
    received: Counter[str] = field(default_factory=Counter)


def _base_state(
    previous: ConvoyPlan, base: ConvoyProblem, now: int, live: LiveState | None
) -> tuple[_State, list[Trip], dict[str, Trip]]:
    flow = base.flow
    group_of = dict(zip(flow.source_ids, (flow.group_names[int(g)] for g in flow.source_group), strict=True))
    vehicles: dict[str, VehicleState] = {}
    left: Counter[str] = Counter()
    out: Counter[str] = Counter(dict(base.out_already_by_group))
    done: list[Trip] = []
    under_way: dict[str, Trip] = {}
    received: Counter[str] = Counter()
    present = set(base.vehicle_ids)
    # a vehicle no longer in the fleet: its finished trips still count as out
    done.extend(
        t
        for vid in previous.vehicles
        if vid not in present
        for t in previous.trips_of(vid)
        if t.arrival <= now
    )
    for v, vid in enumerate(base.vehicle_ids):
        node, ready = base.network.node_ids[int(base.vehicle_node[v])], max(now, int(base.vehicle_ready[v]))
        for trip in previous.trips_of(vid):
            if trip.arrival <= now:
                done.append(trip)
                node, ready = trip.haul.nodes[-1], max(now, trip.unload_end)
            elif _begun(trip, now):
                under_way[vid] = trip
                break
            else:
                break
        vehicles[vid] = VehicleState(vid, node, ready)
    for trip in done:
        received[trip.reception] += trip.people
        for sid, n in trip.load:
            left[sid] += n
            out[group_of.get(sid, "")] += n
    if live is not None:
        left = Counter(dict(live.left))
        out = Counter(dict(live.out_by_group))
        if live.received:
            received = Counter(dict(live.received))
        for vs in live.vehicles:
            going = under_way.get(vs.vehicle)
            if going is not None and vs.on_board and sorted(vs.on_board) != sorted(going.load):
                # the facts contradict the trip under way: it goes from where the vehicle is
                del under_way[vs.vehicle]
            if vs.vehicle not in under_way:
                vehicles[vs.vehicle] = vs
    return _State(vehicles, left, out, {}, received), done, under_way


def _retimed(trip: Trip, now: int, live: LiveState | None) -> VehicleState:
    """Where a vehicle whose under-way trip is dropped is, and what it carries."""
    if live is not None:
        for vs in live.vehicles:
            if vs.vehicle == trip.vehicle:
                return vs
    if now < trip.approach.arrival:
        node, ready = _position(trip.approach, now)
        return VehicleState(trip.vehicle, node, ready)
    if now < trip.board_end:
        return VehicleState(trip.vehicle, trip.gathering, trip.board_end, trip.load)
    node, ready = _position(trip.haul, now)
    return VehicleState(trip.vehicle, node, ready, trip.load)


def _compile(
    scenario: Scenario, network: Network, state: _State, now: int, boarded: dict[str, Trip]
) -> ConvoyProblem:
    """The problem for ``state``: kept trips' vehicles at their trips' start, their people waiting."""
    left = Counter(state.left)
    vehicles = dict(state.vehicles)
    for vid, trip in state.kept.items():
        vehicles[vid] = VehicleState(vid, trip.approach.nodes[0], trip.approach.start)
        if vid in boarded:
            for sid, n in trip.load:
                left[sid] -= n
    live = LiveState(
        vehicles=tuple(vehicles.values()),
        left=tuple((s, max(0, n)) for s, n in sorted(left.items())),
        out_by_group=tuple(sorted((g, n) for g, n in state.out.items() if n)),
        received=tuple(sorted((r, n) for r, n in state.received.items() if n)),
    )
    problem, findings = compile_convoy(scenario, network, state=live)
    if problem is None:
        raise SolverError(
            "the live state does not fit the scenario: " + "; ".join(f.render() for f in findings),
            hint="check the vehicles' places and the sources in the live state",
        )
    del now
    return problem


def _failing(problem: ConvoyProblem, kept: dict[str, Trip]) -> set[str]:
    """Vehicles whose kept trip does not verify against ``problem``."""
    if not kept:
        return set()
    trips = tuple(replace(t, number=1) for t in kept.values())
    probe = ConvoyPlan(
        scenario="",
        network="",
        method="replan",
        status="feasible",
        start=problem.flow.axis.start,
        dt=problem.dt,
        horizon=problem.horizon,
        evacuees=problem.people,
        evacuated=sum(t.people for t in trips),
        bound=problem.people,
        bound_kind="people",
        vehicles=problem.vehicle_ids,
        trips=trips,
    )
    bad: set[str] = set()
    for text in verify_convoy(probe, problem):
        for vid in kept:
            if text.startswith(f"{vid} trip ") or f" {vid} trip " in text:
                bad.add(vid)
    return bad | _over_totals(problem, {v: t for v, t in kept.items() if v not in bad})


def _over_totals(problem: ConvoyProblem, kept: dict[str, Trip]) -> set[str]:
    """Vehicles whose kept trip, each valid alone, together with the others takes more people from a
    source than wait there or brings more to a reception point than it can still take: the trips
    arriving last are dropped until the totals hold."""
    flow = problem.flow
    waiting = dict(zip(flow.source_ids, (int(n) for n in flow.source_people.tolist()), strict=True))
    room = {
        d: (None if int(c) == UNLIMITED else int(c))
        for d, c in zip(flow.dest_ids, flow.dest_cap.tolist(), strict=True)
    }
    bad: set[str] = set()
    taken: Counter[str] = Counter()
    received: Counter[str] = Counter()
    for trip in sorted(kept.values(), key=lambda t: (t.arrival, t.vehicle)):
        cap = room.get(trip.reception)
        over_room = cap is not None and received[trip.reception] + trip.people > cap
        if over_room or any(taken[sid] + n > waiting.get(sid, 0) for sid, n in trip.load):
            bad.add(trip.vehicle)
            continue
        received[trip.reception] += trip.people
        for sid, n in trip.load:
            taken[sid] += n
    return bad


def _schedule(
    problem: ConvoyProblem,
    legs: Legs,
    kept: dict[str, Trip],
    intents: list[tuple[Trip, int]],
    *,
    replay_first: bool,
) -> Schedule:
    schedule = Schedule(problem, legs)
    for trip in kept.values():
        schedule.commit(timed_of(problem, replace(trip, number=1)))
    if replay_first:
        vindex = {v: i for i, v in enumerate(problem.vehicle_ids)}
        dindex = {d: i for i, d in enumerate(problem.flow.dest_ids)}
        sindex = {s: i for i, s in enumerate(problem.flow.source_ids)}
        for trip, _ in intents:
            v = vindex.get(trip.vehicle)
            g = problem.network.index.get(trip.gathering)
            r = dindex.get(trip.reception)
            if v is None or g is None or r is None:
                continue
            load = tuple((sindex[s], n) for s, n in trip.load if s in sindex)
            timed = schedule.trip(Intent(v, g, r, load)) or schedule.trip(Intent(v, g, r))
            if timed is not None:
                schedule.commit(timed)
    return dispatch(schedule, Chooser(problem))


def _relaxed(problem: ConvoyProblem, what: str) -> ConvoyProblem:
    """``problem`` without its closures (``what="closure"``) or with instant checkpoints."""
    if what == "closure":
        flow = replace(problem.flow, arc_closed=Windows.empty(), node_closed=Windows.empty())
        return replace(problem, flow=flow)
    n = len(problem.checkpoint_inspection)
    return replace(
        problem,
        checkpoint_inspection=np.ones(n, dtype=np.int64),
        checkpoint_vehicle_rate=np.zeros(n),
        checkpoint_people_rate=np.zeros(n),
    )


def _reasons(problem: ConvoyProblem, legs: Legs, chosen: Schedule, kept: dict[str, Trip]) -> dict[int, str]:
    """Why the people still waiting at each source are left behind (see the module): the first of
    deadline (no vehicle reaches the gathering point and a reception point in time on empty roads),
    closure (without the closures, a plan made the same way takes more of them), checkpoint (likewise
    with instant inspections), fleet."""
    flow = problem.flow
    waiting = [s for s, n in enumerate(chosen.waiting) if n > 0]
    if not waiting:
        return {}
    relaxed: dict[str, list[int]] = {}
    for what in ("closure", "checkpoint"):
        other = _relaxed(problem, what)
        relaxed[what] = _schedule(other, Legs(other), kept, [], replay_first=False).waiting
    out: dict[int, str] = {}
    for s in waiting:
        g = int(flow.source_node[s])
        reach = min(
            (
                int(problem.vehicle_ready[v])
                + legs.static_steps(int(problem.vehicle_type[v]), int(problem.vehicle_node[v]), g)
                + int(problem.load_steps[int(problem.vehicle_type[v])])
                + legs.static_haul_steps(int(problem.vehicle_type[v]), g, int(d))
                for v in range(problem.n_vehicles)
                for d in flow.dest_node.tolist()
            ),
            default=int(NEVER),
        )
        if reach > problem.horizon:
            out[s] = "deadline"
        elif relaxed["closure"][s] < chosen.waiting[s]:
            out[s] = "closure"
        elif relaxed["checkpoint"][s] < chosen.waiting[s]:
            out[s] = "checkpoint"
        else:
            out[s] = "fleet"
    return out


def _changes(
    previous: ConvoyPlan, done: list[Trip], plan: ConvoyPlan
) -> tuple[tuple[TripChange, ...], tuple[tuple[str, int, int], ...]]:
    done_count = Counter(t.vehicle for t in done)
    changes: list[TripChange] = []
    before_g: Counter[str] = Counter()
    after_g: Counter[str] = Counter()
    for vid in plan.vehicles:
        old = [t for t in previous.trips_of(vid) if t.number > done_count[vid]]
        new = list(plan.trips_of(vid))
        for t in old:
            before_g[t.gathering] += t.people
        for t in new:
            after_g[t.gathering] += t.people
        for k in range(max(len(old), len(new))):
            number = done_count[vid] + k + 1
            if k >= len(old):
                changes.append(TripChange(vid, number, "added", _fields(None, new[k])))
            elif k >= len(new):
                changes.append(TripChange(vid, number, "dropped", _fields(old[k], None)))
            else:
                what = _fields(old[k], new[k])
                if what:
                    changes.append(TripChange(vid, number, "changed", what))
    gathering = tuple(
        (g, before_g[g], after_g[g])
        for g in sorted(set(before_g) | set(after_g))
        if before_g[g] != after_g[g]
    )
    return tuple(changes), gathering


def _fields(old: Trip | None, new: Trip | None) -> tuple[tuple[str, str, str], ...]:
    def values(t: Trip | None) -> dict[str, str]:
        if t is None:
            return dict.fromkeys(("gathering", "reception", "start", "arrival", "load"), "")
        load = ", ".join(f"{s}:{n}" for s, n in t.load)
        return {
            "gathering": t.gathering,
            "reception": t.reception,
            "start": str(t.approach.start),
            "arrival": str(t.arrival),
            "load": load,
        }

    a, b = values(old), values(new)
    return tuple((k, a[k], b[k]) for k in a if a[k] != b[k])


def _left_before(previous: ConvoyPlan, base: ConvoyProblem) -> Counter[str]:
    taken = Counter[str]()
    for t in previous.trips:
        for sid, n in t.load:
            taken[sid] += n
    return Counter(
        {
            sid: max(0, int(p) - taken[sid])
            for sid, p in zip(base.flow.source_ids, base.flow.source_people.tolist(), strict=True)
        }
    )


def _settle(
    scenario: Scenario,
    network: Network,
    state: _State,
    now: int,
    boarded: dict[str, Trip],
    live: LiveState | None,
) -> tuple[ConvoyProblem, list[str]]:
    """Drop the kept trips that no longer verify (their vehicles re-timed) until the rest do."""
    retimed: list[str] = []
    problem = _compile(scenario, network, state, now, boarded)
    for _ in range(len(state.kept) + 1):
        bad = _failing(problem, state.kept)
        if not bad:
            break
        for vid in sorted(bad):
            trip = state.kept.pop(vid)
            retimed.append(vid)
            vs = _retimed(trip, now, live)
            state.vehicles[vid] = vs
            if vid in boarded and live is None and not vs.on_board:
                for sid, n in trip.load:
                    state.left[sid] -= n
        problem = _compile(scenario, network, state, now, boarded)
    return problem, retimed


def replan(
    previous: ConvoyPlan,
    scenario: Scenario,
    network: Network,
    now: int,
    *,
    live: LiveState | None = None,
) -> Replan:
    """Re-plan from step ``now`` (see the module's documentation)."""
    began = time.perf_counter()
    base, findings = compile_convoy(scenario, network)
    if base is None:
        raise SolverError(
            "the scenario has errors: " + "; ".join(f.render() for f in findings), hint="fix the scenario"
        )
    if base.dt != previous.dt or base.flow.axis.start != previous.start:
        raise SolverError(
            "the previous plan has another time axis than the scenario",
            hint="re-plan with the scenario the plan was made from (closures and the deadline may change)",
        )
    state, done, under_way = _base_state(previous, base, now, live)
    # people boarded in under-way trips no longer wait (they are in ``left`` with live facts or below)
    boarded = {vid: t for vid, t in under_way.items() if t.board_start < now}
    if live is None:
        for t in boarded.values():
            for sid, n in t.load:
                state.left[sid] += n
    state.kept = dict(under_way)
    problem, retimed = _settle(scenario, network, state, now, boarded, live)
    legs = Legs(problem)
    intents = [
        (t, t.approach.start)
        for vid in previous.vehicles
        for t in previous.trips_of(vid)
        if t.approach.start >= now
    ]
    intents.sort(key=lambda x: (x[1], x[0].vehicle, x[0].number))
    schedule = _schedule(problem, legs, state.kept, intents, replay_first=True)
    stranded = _stranded(problem, schedule)
    lost: Counter[str] = Counter()
    for vid in stranded:
        for sid, n in state.vehicles[vid].on_board:
            lost[sid] += n
    if stranded:
        # people on board whom no trip can deliver by the deadline stay where they are: left behind
        for vid in stranded:
            vs = state.vehicles[vid]
            state.vehicles[vid] = VehicleState(vid, vs.node, vs.ready)
        problem = _compile(scenario, network, state, now, boarded)
        legs = Legs(problem)
        schedule = _schedule(problem, legs, state.kept, intents, replay_first=True)
    fresh = _schedule(problem, legs, state.kept, intents, replay_first=False)
    chosen = schedule
    key, fresh_key = objective_key(problem, schedule.trips), objective_key(problem, fresh.trips)
    levels = len(key) - 2
    if fresh_key[:levels] < key[:levels]:
        chosen = fresh
    bounds = convoy_bounds(problem, legs, flow=False)
    bound, kind = bounds.best
    violations: list[str] = []
    for candidate in (chosen, fresh if chosen is schedule else schedule):
        # the plan preferred first; the other one if it would not verify; never one that fails
        plan = candidate.plan(
            method="replan",
            status="feasible",
            bound=bound,
            bound_kind=kind,
            stats={"seconds": time.perf_counter() - began, "replayed": float(candidate is schedule)},
        )
        found = verify_convoy(plan, problem)
        if not found:
            chosen = candidate
            break
        violations = violations or found
    else:
        raise SolverError(
            "the re-plan does not verify against its own problem: " + "; ".join(violations[:3]),
            hint="report this re-plan (the previous plan, the scenario and the live state) as a defect",
        )
    changes, gathering = _changes(previous, done, plan)
    reasons = _reasons(problem, legs, chosen, state.kept)
    before = _left_before(previous, base)
    flow = problem.flow
    left_behind = tuple(
        LeftBehind(
            source=sid,
            group=flow.group_names[int(flow.source_group[s])],
            people=int(chosen.waiting[s]) + lost[sid],
            before=before[sid],
            reason=reasons.get(s, "deadline"),
        )
        for s, sid in enumerate(flow.source_ids)
        if chosen.waiting[s] > 0 or before[sid] > 0 or lost[sid] > 0
    )
    return Replan(
        plan=plan,
        problem=problem,
        kept=tuple(state.kept.values()),
        retimed=tuple(retimed),
        done=tuple(done),
        changes=changes,
        gathering_changed=gathering,
        left_behind=left_behind,
        seconds=time.perf_counter() - began,
    )


def _stranded(problem: ConvoyProblem, schedule: Schedule) -> list[str]:
    """Vehicles with people on board at the start that the schedule does not deliver."""
    return [
        problem.vehicle_ids[v]
        for v, loads in enumerate(problem.vehicle_on_board)
        if loads and schedule.number[v] == 0
    ]


__all__ = ["LeftBehind", "Replan", "TripChange", "replan"]
