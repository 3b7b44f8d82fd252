"""A verified plan changed at random is refused by ``Plan.verify`` exactly when the change makes it
infeasible, and the verifier never raises.

Feasibility is decided here without the verifier: each route is walked as a list of road indices
(plain Python), and the plan's flow (departures per road and step, arrivals per reception point
and step, people leaving each source) is checked as a point of the independent LP of the time
model (``lp_reference``): its conservation rows, its capacity rows (checkpoints, reception) and its
bounds (road capacities, closures, the horizon).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from corridor.plan.model import Plan, Route
from corridor.problem.model import Problem
from corridor.solve.exact import solve_exact
from lp_reference import _matrix, _model
from strategies import small_problems


def _walks(route: Route, p: Problem) -> bool:
    """The route, read as indices: a path of roads from its source to its destination, each hop
    leaving no earlier than the last one arrived, its arrival and node list those of its roads."""
    tails, heads, taus = p.network.tail.tolist(), p.network.head.tolist(), p.tau.tolist()
    if route.source not in p.source_ids or route.destination not in p.dest_ids:
        return False
    if type(route.people) is not int or route.people <= 0 or len(route.arcs) != len(route.departures):
        return False
    s = p.source_ids.index(route.source)
    if route.group != p.group_names[int(p.source_group[s])]:
        return False
    at = int(p.source_node[s])
    nodes, clock = [at], 0
    for arc, dep in zip(route.arcs, route.departures, strict=True):
        if type(arc) is not int or not 0 <= arc < len(tails) or tails[arc] != at or dep < clock:
            return False
        at, clock = heads[arc], dep + taus[arc]
        nodes.append(at)
    ids = p.network.node_ids
    return (
        at == int(p.dest_node[p.dest_ids.index(route.destination)])
        and clock == route.arrival
        and route.nodes == tuple(ids[v] for v in nodes)
    )


def _lp_point_feasible(plan: Plan, p: Problem) -> bool:
    """The plan's flow as a point of the reference LP: does it satisfy every row and bound?"""
    names, rows, ub_rows, ub_rhs, zero = _model(p)
    T = p.horizon
    z = np.zeros(len(zero))
    x_of = (np.arange(p.n_arcs * (T + 1)) if p.n_arcs else np.zeros(0, dtype=np.int64)).reshape(
        p.n_arcs, T + 1
    )
    for r in plan.routes:
        for arc, dep in zip(r.arcs, r.departures, strict=True):
            if not 0 <= dep <= T:
                return False
            z[x_of[arc, dep]] += r.people
        if r.arrival > T:
            return False
        z[names["y"][p.dest_ids.index(r.destination), r.arrival]] += r.people
        z[names["e"][p.source_ids.index(r.source)]] += r.people
    # Waiting: what stays at each node from one step to the next, read off the conservation rows
    # (the LP's waiting variables follow the arc and arrival ones, one per node and step < T).
    a_eq = _matrix(rows, p.n_nodes * (T + 1), len(z)).toarray()
    w = np.arange(p.n_arcs * (T + 1), p.n_arcs * (T + 1) + p.n_nodes * T).reshape(p.n_nodes, T)
    for t in range(T):
        balance = a_eq[np.arange(p.n_nodes) * (T + 1) + t] @ z
        z[w[:, t]] = balance  # the row at (v, t) loses w[v, t]: it is what is left there
    if not np.allclose(a_eq @ z, 0) or (z < -1e-9).any() or (z > names["upper"] + 1e-9).any():
        return False
    if ub_rhs:
        a_ub = _matrix(ub_rows, len(ub_rhs), len(z)).toarray()
        return bool((a_ub @ z <= np.asarray(ub_rhs) + 1e-9).all())
    return True


def feasible(plan: Plan, p: Problem) -> bool:
    if plan.horizon != p.horizon or plan.dt != p.axis.dt or plan.evacuees != p.people:
        return False
    if not all(_walks(r, p) for r in plan.routes):
        return False
    evacuated = sum(r.people for r in plan.routes)
    total = sum(r.people * r.arrival for r in plan.routes)
    if (evacuated, total) != (plan.evacuated, plan.total_steps) or plan.evacuated > plan.bound:
        return False
    return _lp_point_feasible(plan, p)


KINDS = ("people", "departure", "shift", "arc", "destination", "arrival", "drop", "copy", "new", "totals")


@st.composite
def _mutated(draw: st.DrawFn, plan: Plan, p: Problem) -> Plan:
    """One random change of ``plan``; its figures are recomputed from the routes (or not)."""
    routes = list(plan.routes)
    kind = draw(st.sampled_from(KINDS if routes else ("new", "totals")))
    delta = draw(st.integers(-3, 3).filter(bool))
    k = draw(st.integers(0, len(routes) - 1)) if routes else 0
    r = routes[k] if routes else None
    hop = draw(st.integers(0, max(0, len(r.arcs) - 1))) if r else 0
    if kind == "people" and r:
        routes[k] = replace(r, people=r.people + delta)
    elif kind == "departure" and r and r.arcs:
        deps = list(r.departures)
        deps[hop] += delta
        arrival = r.arrival + delta if hop == len(deps) - 1 and draw(st.booleans()) else r.arrival
        routes[k] = replace(r, departures=tuple(deps), arrival=arrival)
    elif kind == "shift" and r and r.arcs:  # the whole route earlier or later
        routes[k] = replace(r, departures=tuple(d + delta for d in r.departures), arrival=r.arrival + delta)
    elif kind == "arc" and r and r.arcs:
        arcs = list(r.arcs)
        arcs[hop] = draw(st.integers(-2, p.n_arcs + 1))
        routes[k] = replace(r, arcs=tuple(arcs))
    elif kind == "destination" and r:
        routes[k] = replace(r, destination=draw(st.sampled_from([*p.dest_ids, "elsewhere"])))
    elif kind == "arrival" and r:
        routes[k] = replace(r, arrival=r.arrival + delta)
    elif kind == "drop" and r:
        del routes[k]
    elif kind == "copy" and r:
        routes.append(r)
    elif kind == "new":
        hops = draw(st.integers(0, 3))
        new_arcs = tuple(draw(st.lists(st.integers(-1, p.n_arcs), min_size=hops, max_size=hops)))
        new_deps = tuple(sorted(draw(st.lists(st.integers(-1, p.horizon), min_size=hops, max_size=hops))))
        routes.append(
            Route(
                draw(st.sampled_from(p.source_ids)),
                draw(st.sampled_from(p.group_names)),
                draw(st.integers(1, 3)),
                draw(st.sampled_from(p.dest_ids)),
                tuple(draw(st.sampled_from(p.network.node_ids)) for _ in range(hops + 1)),
                new_arcs,
                new_deps,
                draw(st.integers(0, p.horizon + 1)),
            )
        )
    out = replace(plan, routes=tuple(routes))
    if kind == "totals":
        field = draw(st.sampled_from(("evacuated", "total_steps", "evacuees", "bound")))
        return replace(out, **{field: getattr(plan, field) + delta})
    if draw(st.booleans()):  # keep the plan's own figures consistent with the changed routes
        evacuated = sum(r.people for r in routes)
        total = sum(r.people * r.arrival for r in routes)
        out = replace(out, evacuated=evacuated, bound=max(plan.bound, evacuated), total_steps=total)
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=small_problems(), data=st.data())
def test_changed_plans_are_refused_unless_feasible(p: Problem, data: st.DataObject) -> None:
    plan = solve_exact(p)
    plan = replace(plan, routes=tuple(plan.routes))
    assert plan.verify(p) == []
    assert feasible(plan, p)  # the independent check agrees on the planner's own plans
    changed = data.draw(_mutated(plan, p))
    violations = changed.verify(p)
    event(f"feasible after the change: {feasible(changed, p)}")
    assert (violations == []) == feasible(changed, p), violations


def test_the_independent_check_refuses_an_overloaded_road() -> None:
    """The check above is no rubber stamp: on a hand-made plan it finds what it must."""
    from factories import plan_of, problem

    p = problem(2, [(0, 1, 2, 1)], sources=[(0, 4)], destinations=[1], horizon=3)
    good = [Route("s0", "general", 2, "d0", ("0", "1"), (0,), (0,), 1)] * 2
    assert not feasible(plan_of(p, good, 4), p)  # 4 people at step 0 on a road of 2
    later = [good[0], Route("s0", "general", 2, "d0", ("0", "1"), (0,), (1,), 2)]
    assert feasible(plan_of(p, later, 4), p)
