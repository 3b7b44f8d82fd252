"""Check a plan against its problem without trusting the method that made it.

Every route must be a connected path from its source to its destination, leave no earlier than it
arrived, take each road's full travel time, and arrive by the horizon. Per step, no road carries more
than its capacity and no checkpoint passes more than its throughput (passage is counted at the step a
route leaves the checkpoint node). No road is used while closed, no closed node is left or entered.
No source sends more people than it has, no destination receives more than its capacity, and the
plan's totals agree with its routes.

A plan may come from a file or an upload: every index and count in it is checked before it is used
(an arc ``-1`` is not the last arc, an arc past the network is a violation, not an error), and a
malformed route is reported and left out of the per-step checks.

:func:`verify_plan` first runs every check at once over all routes and hops
(:mod:`corridor.plan.verify_vectorised`); only when that pass does not find the plan certainly
feasible does it walk the plan route by route (:func:`verify_reference`, the readable reference),
which finds and words each violation. The answer is that of the walk either way.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from corridor.plan.model import Plan, Route
from corridor.plan.verify_vectorised import BIG as _BIG
from corridor.plan.verify_vectorised import certainly_feasible
from corridor.plan.verify_vectorised import is_whole as _is_int
from corridor.problem.model import UNLIMITED, Problem

_INT = {int}


def _malformed(route: Route, problem: Problem, where: str) -> str | None:
    """Why the route's fields cannot be read as a route of ``problem`` (``None``: they can)."""
    if not _is_int(route.people) or not _is_int(route.arrival) or not -_BIG < route.people < _BIG:
        return f"{where}: people and arrival must be whole numbers"
    if not all(isinstance(x, tuple | list) for x in (route.arcs, route.departures, route.nodes)):
        return f"{where}: nodes, arcs and departures must be lists"
    if len(route.arcs) != len(route.departures):
        return f"{where}: {len(route.arcs)} arcs but {len(route.departures)} departures"
    arcs, departures = route.arcs, route.departures
    if arcs and set(map(type, arcs)) == _INT and min(arcs) >= 0 and max(arcs) < problem.n_arcs:
        arcs = ()  # all good: the usual case, checked at C speed (else each is looked at below)
    for arc in arcs:
        if not _is_int(arc) or not 0 <= int(arc) < problem.n_arcs:
            return f"{where}: arc {arc!r} is not an arc of the network (0 to {problem.n_arcs - 1})"
    if departures and set(map(type, departures)) == _INT and min(departures) >= 0 and max(departures) < _BIG:
        departures = ()
    for dep in departures:
        if not _is_int(dep) or not 0 <= int(dep) < _BIG:
            return f"{where}: departure step {dep!r} is not a step (0 or later)"
    return None


def _route_violations(route: Route, problem: Problem, where: str, src: int, dst: int) -> list[str]:
    """A well-formed route's violations (see :func:`_malformed`)."""
    net, tau = problem.network, problem.tau
    out: list[str] = []
    if route.people <= 0:
        out.append(f"{where}: carries {route.people} people")
    node, ready = int(src), 0
    for arc, dep in zip(route.arcs, route.departures, strict=True):
        if int(net.tail[arc]) != node:
            return [*out, f"{where}: arc {arc} does not start where the route is"]
        if dep < ready:
            out.append(f"{where}: leaves {net.node_ids[node]} at step {dep}, before arriving ({ready})")
        node, ready = int(net.head[arc]), dep + int(tau[arc])
    if node != dst:
        out.append(f"{where}: ends at {net.node_ids[node]}, not at its destination")
    if ready != route.arrival:
        out.append(f"{where}: arrival {route.arrival} but the roads give {ready}")
    if route.arrival > problem.horizon:
        out.append(f"{where}: arrives at step {route.arrival}, after the horizon {problem.horizon}")
    expected_nodes = (net.node_ids[int(src)], *(net.node_ids[int(net.head[a])] for a in route.arcs))
    if route.nodes != expected_nodes:
        out.append(f"{where}: node list does not match its arcs")
    return out


def _flow_violations(routes: list[Route], problem: Problem) -> list[str]:
    net = problem.network
    hops = [(a, d, r.people) for r in routes for a, d in zip(r.arcs, r.departures, strict=True)]
    if not hops:
        return []
    arr = np.asarray(hops, dtype=np.int64)
    arc, dep, people = arr[:, 0], arr[:, 1], arr[:, 2]
    out: list[str] = []
    load = Counter[tuple[int, int]]()
    for a, d, p in hops:
        load[(a, d)] += p
    for (a, d), p in load.items():
        if p > problem.arc_cap[a]:
            out.append(
                f"arc {net.node_ids[net.tail[a]]}->{net.node_ids[net.head[a]]} step {d}: "
                f"{p} people > capacity {problem.arc_cap[a]}"
            )
    passage = Counter[tuple[int, int]]()
    for a, d, p in hops:
        v = int(net.tail[a])
        if problem.node_cap[v] != UNLIMITED:
            passage[(v, d)] += p
    for (v, d), p in passage.items():
        if p > problem.node_cap[v]:
            out.append(f"checkpoint {net.node_ids[v]} step {d}: {p} people > {problem.node_cap[v]}")
    closed = problem.arc_closed.closed(arc, dep) | problem.node_closed.closed(net.tail[arc], dep)
    closed |= problem.node_closed.closed(net.head[arc], dep + problem.tau[arc])
    for i in np.flatnonzero(closed)[:20].tolist():
        out.append(
            f"arc {net.node_ids[net.tail[arc[i]]]}->{net.node_ids[net.head[arc[i]]]} "
            f"used at step {dep[i]} while closed ({people[i]} people)"
        )
    return out


def _countable(route: Route) -> bool:
    return (
        isinstance(route.source, str)
        and isinstance(route.destination, str)
        and _is_int(route.people)
        and _is_int(route.arrival)
    )


def _total_violations(plan: Plan, problem: Problem) -> list[str]:
    out: list[str] = []
    sent = Counter[str]()
    received = Counter[str]()
    routes = [r for r in plan.routes if _countable(r)]  # the others are reported
    for r in routes:
        sent[r.source] += r.people
        received[r.destination] += r.people
    for sid, people in zip(problem.source_ids, problem.source_people.tolist(), strict=True):
        if sent[sid] > people:
            out.append(f"source {sid}: sends {sent[sid]} people but has {people}")
    for did, cap in zip(problem.dest_ids, problem.dest_cap.tolist(), strict=True):
        if cap != UNLIMITED and received[did] > cap:
            out.append(f"destination {did}: receives {received[did]} > capacity {cap}")
    evacuated = sum(int(r.people) for r in routes)
    total = sum(int(r.people) * int(r.arrival) for r in routes)
    if evacuated != plan.evacuated:
        out.append(f"plan says {plan.evacuated} evacuated but its routes carry {evacuated}")
    if not all(_is_int(v) for v in (plan.evacuated, plan.bound, plan.total_steps, plan.evacuees)):
        out.append("the plan's evacuated, bound, total time and evacuees must be whole numbers")
    elif plan.evacuated > plan.bound:
        out.append(f"plan evacuates {plan.evacuated}, more than its bound {plan.bound}")
    if total != plan.total_steps:
        out.append(f"plan says total time {plan.total_steps} steps but its routes give {total}")
    if plan.evacuees != problem.people:
        out.append(f"plan counts {plan.evacuees} evacuees, the problem {problem.people}")
    return out


def verify_plan(plan: Plan, problem: Problem) -> list[str]:
    """Every violation found (an empty list means the plan is feasible for the problem): none when
    the vectorised pass finds the plan certainly feasible, else those of :func:`verify_reference`."""
    if certainly_feasible(plan, problem):
        return []
    return verify_reference(plan, problem)


def verify_reference(plan: Plan, problem: Problem) -> list[str]:
    """Every violation found, route by route (the reference the vectorised pass stands in for)."""
    out: list[str] = []
    if plan.horizon != problem.horizon or plan.dt != problem.axis.dt:
        out.append(f"plan horizon {plan.horizon} x {plan.dt} min differs from the problem's")
    sources = dict(zip(problem.source_ids, problem.source_node.tolist(), strict=True))
    dests = dict(zip(problem.dest_ids, problem.dest_node.tolist(), strict=True))
    groups = {
        sid: problem.group_names[g]
        for sid, g in zip(problem.source_ids, problem.source_group.tolist(), strict=True)
    }
    readable: list[Route] = []  # routes whose hops can be counted per arc and step
    for k, route in enumerate(plan.routes):
        if not isinstance(route.source, str) or not isinstance(route.destination, str):
            out.append(f"route {k}: source and destination must be ids")
            continue
        if route.source not in sources or route.destination not in dests:
            out.append(f"route {k}: unknown source {route.source!r} or destination {route.destination!r}")
            continue
        where = f"route {k} ({route.source} -> {route.destination})"
        if (bad := _malformed(route, problem, where)) is not None:
            out.append(bad)
            continue
        readable.append(route)
        if route.group != groups[route.source]:
            out.append(
                f"{where}: group {route.group!r}, but the source's people are {groups[route.source]!r}"
            )
        out += _route_violations(route, problem, where, sources[route.source], dests[route.destination])
    return out + _flow_violations(readable, problem) + _total_violations(plan, problem)
