"""The vectorised pass of ``Plan.verify`` against the route-by-route reference.

``verify_plan`` answers what ``verify_reference`` answers, message for message, on the planner's own
plans and on random changes of them, both as ``Route`` tuples (a plan file) and as a planner's
columns (a ``RouteTable``, read without making its routes). On plans of plain values the fast pass
is exact: it finds a plan certainly feasible exactly when the reference finds nothing. Each of its
checks refuses on its own (one hand-made case each), and what it does not read (numpy integers in
a route, repeated ids, broken columns) it leaves to the reference instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from corridor.plan import verify_vectorised
from corridor.plan.model import Plan, Route
from corridor.plan.routes import RouteColumns, RouteTable
from corridor.plan.verify import verify_plan, verify_reference
from corridor.plan.verify_vectorised import certainly_feasible
from corridor.problem.model import IntArray, Problem
from corridor.solve.exact import solve_exact
from factories import plan_of, problem
from strategies import Sizes, problems

_INT64 = 2**63


def _columns(routes: Sequence[Route], node_ids: Sequence[str]) -> RouteTable | None:
    """``routes`` as a planner's columns over ``node_ids`` (ids listed in reverse order of first
    use, so that column indices differ from the problem's); ``None`` when a route holds what a
    column cannot (a negative or huge index, a node id not in ``node_ids``)."""
    ints = [r.people for r in routes] + [r.arrival for r in routes]
    steps = [x for r in routes for x in (*r.arcs, *r.departures)]
    if any(x < -_INT64 // 2 or x >= _INT64 // 2 for x in ints) or any(not 0 <= x < 2**31 for x in steps):
        return None
    if any(len(r.arcs) != len(r.departures) or not set(r.nodes) <= set(node_ids) for r in routes):
        return None

    def ids(values: list[str]) -> tuple[str, ...]:
        return tuple(reversed(dict.fromkeys(values)))

    sources, groups = ids([r.source for r in routes]), ids([r.group for r in routes])
    dests = ids([r.destination for r in routes])
    node_at = {name: k for k, name in enumerate(node_ids)}
    hops = np.asarray([len(r.arcs) for r in routes], dtype=np.int64).reshape(-1)

    def array(values: list[int]) -> IntArray:
        return np.asarray(values, dtype=np.int64).reshape(-1)

    columns = RouteColumns(
        source_ids=sources,
        group_names=groups,
        dest_ids=dests,
        node_ids=node_ids,
        source=array([sources.index(r.source) for r in routes]),
        group=array([groups.index(r.group) for r in routes]),
        people=array([r.people for r in routes]),
        dest=array([dests.index(r.destination) for r in routes]),
        arrival=array([r.arrival for r in routes]),
        hops=hops,
        node_first=np.cumsum(hops + 1) - (hops + 1),
        hop_first=np.cumsum(hops) - hops,
        node=array([node_at[v] for r in routes for v in r.nodes]),
        arc=array([a for r in routes for a in r.arcs]),
        step=array([d for r in routes for d in r.departures]),
    )
    return RouteTable(columns)


def _agree(plan: Plan, p: Problem, *, plain: bool) -> list[str]:
    """verify_plan gives the reference's answer; on plain values the fast pass is exact."""
    expected = verify_reference(plan, p)
    fast = certainly_feasible(plan, p)
    assert verify_plan(plan, p) == expected
    with pytest.MonkeyPatch.context() as patch:  # loads counted per pair in use, not densely
        patch.setattr(verify_vectorised, "DENSE_EXTRA", -(2**40))
        assert certainly_feasible(plan, p) == fast
    if plain:
        assert fast == (expected == []), expected
    else:
        assert not fast or expected == []
    return expected


def _both_forms(plan: Plan, p: Problem, data: st.DataObject, *, plain: bool) -> list[str]:
    """Check ``plan`` as Route tuples and, where it can be, as columns (sometimes over the
    network's own node ids, sometimes over another list of them)."""
    as_tuple = replace(plan, routes=tuple(plan.routes))
    expected = _agree(as_tuple, p, plain=plain)
    if data.draw(st.booleans(), label="columns over the network's node ids"):
        node_ids: Sequence[str] = p.network.node_ids
    else:
        node_ids = list(reversed([*p.network.node_ids, "elsewhere"]))
    if plain and (table := _columns(as_tuple.routes, node_ids)) is not None:
        as_table = replace(plan, routes=table)
        assert verify_reference(as_table, p) == expected  # the columns hold the same routes
        _agree(as_table, p, plain=True)
        event("columns checked too")
    return expected


def _put(values: tuple[int, ...], k: int, value: int) -> tuple[int, ...]:
    return (*values[:k], value, *values[k + 1 :])


HOP_EDITS = ("departure", "shift", "arc", "swap", "hops")  # need a route of at least one hop
FIELD_EDITS = ("people", "source", "destination", "group", "arrival", "node")
# Values the reference reads and the fast pass leaves to it (not plain ints, or a list of nodes).
ODD_EDITS = ("numpy people", "list nodes", "bool arrival", "float people")
PLAN_EDITS = ("drop", "copy", "new", "totals", "horizon")


def _hop_edit(draw: st.DrawFn, kind: str, r: Route, p: Problem, delta: int) -> Route:
    hop = draw(st.integers(0, len(r.arcs) - 1))
    if kind == "departure":
        return replace(r, departures=_put(r.departures, hop, r.departures[hop] + delta))
    if kind == "shift":  # the whole route earlier or later
        return replace(r, departures=tuple(x + delta for x in r.departures), arrival=r.arrival + delta)
    if kind == "arc":
        return replace(r, arcs=_put(r.arcs, hop, draw(st.integers(-2, p.n_arcs + 1))))
    if kind == "swap":
        return replace(r, arcs=tuple(reversed(r.arcs)))
    return replace(r, departures=r.departures[:-1])  # one departure fewer than arcs


def _field_edit(draw: st.DrawFn, kind: str, r: Route, p: Problem, delta: int) -> Route:
    changes: dict[str, object] = {
        "people": r.people + delta,
        "arrival": r.arrival + delta,
        "numpy people": np.int64(r.people),
        "float people": float(r.people),
        "bool arrival": True,
        "list nodes": list(r.nodes),
    }
    if kind == "source":
        return replace(r, source=draw(st.sampled_from([*p.source_ids, "nowhere"])))
    if kind == "destination":
        return replace(r, destination=draw(st.sampled_from([*p.dest_ids, "elsewhere"])))
    if kind == "group":
        return replace(r, group=draw(st.sampled_from([*p.group_names, "other"])))
    if kind == "node":
        at = draw(st.integers(0, len(r.nodes) - 1))
        other = draw(st.sampled_from([*p.network.node_ids, "x"]))
        return replace(r, nodes=(*r.nodes[:at], other, *r.nodes[at + 1 :]))
    field = "people" if "people" in kind else "arrival" if "arrival" in kind else "nodes"
    return replace(r, **{field: changes[kind]})  # type: ignore[arg-type]  # odd values on purpose


def _new_route(draw: st.DrawFn, p: Problem) -> Route:
    """A route of random ids, nodes, roads and steps (now and then a right one)."""
    hops = draw(st.integers(0, 3))
    return Route(
        draw(st.sampled_from(p.source_ids)),
        draw(st.sampled_from(p.group_names)),
        draw(st.integers(1, 3)),
        draw(st.sampled_from(p.dest_ids)),
        tuple(draw(st.sampled_from(p.network.node_ids)) for _ in range(hops + 1)),
        tuple(draw(st.lists(st.integers(0, p.n_arcs - 1), min_size=hops, max_size=hops))),
        tuple(sorted(draw(st.lists(st.integers(0, p.horizon), min_size=hops, max_size=hops)))),
        draw(st.integers(0, p.horizon + 1)),
    )


@st.composite
def _changed(draw: st.DrawFn, plan: Plan, p: Problem) -> tuple[Plan, bool]:
    """One random change of ``plan`` and whether it keeps every value plain (ints and strings)."""
    routes = list(plan.routes)
    kinds = [*HOP_EDITS, *FIELD_EDITS, *ODD_EDITS, *PLAN_EDITS] if routes else ["new", "totals", "horizon"]
    kind = draw(st.sampled_from(kinds))
    delta = draw(st.sampled_from((-3, -2, -1, 1, 2, 3)))
    if kind not in PLAN_EDITS:
        k = draw(st.integers(0, len(routes) - 1))
        if kind in HOP_EDITS and routes[k].arcs:
            routes[k] = _hop_edit(draw, kind, routes[k], p, delta)
        else:
            routes[k] = _field_edit(draw, kind if kind not in HOP_EDITS else "people", routes[k], p, delta)
    elif kind == "drop":
        del routes[draw(st.integers(0, len(routes) - 1))]
    elif kind == "copy":
        routes.append(draw(st.sampled_from(routes)))
    elif kind == "new":
        routes.append(_new_route(draw, p))
    out = replace(plan, routes=tuple(routes))
    if kind == "totals":
        field = draw(st.sampled_from(("evacuated", "total_steps", "evacuees", "bound")))
        return replace(out, **{field: getattr(plan, field) + delta}), True
    if kind == "horizon":
        return replace(out, horizon=plan.horizon + delta), True
    if draw(st.booleans()):  # keep the plan's own figures those of its changed routes
        evacuated = sum(int(r.people) for r in routes)
        total = sum(int(r.people) * int(r.arrival) for r in routes)
        out = replace(out, evacuated=evacuated, bound=max(plan.bound, evacuated), total_steps=total)
    return out, kind not in ODD_EDITS


SIZES = Sizes(checkpoints=2, place_closures=2, horizon=(1, 10))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=problems(SIZES), data=st.data())
def test_the_planners_plans_pass_the_fast_pass(p: Problem, data: st.DataObject) -> None:
    plan = solve_exact(p)
    assert isinstance(plan.routes, RouteTable)
    assert certainly_feasible(plan, p)  # the planner's own columns, as they come
    assert _both_forms(plan, p, data, plain=True) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=problems(SIZES), data=st.data())
def test_changed_plans_get_the_references_answer(p: Problem, data: st.DataObject) -> None:
    planned = solve_exact(p)
    plan = replace(planned, routes=tuple(planned.routes))
    changed, plain = data.draw(_changed(plan, p))
    found = _both_forms(changed, p, data, plain=plain)
    event(f"refused: {found != []}")


# --- one hand-made case per check: the fast pass refuses, the reference words it -----------------


def _route(people: int, at: int) -> Route:
    return Route("s0", "general", people, "d0", ("0", "1", "2"), (0, 1), (at, at + 1), at + 2)


def _good(p: Problem) -> Plan:
    return plan_of(p, [_route(2, 0), _route(2, 1)], 4)


def _edit(k: int, **changes: object) -> Callable[[Plan], Plan]:
    """Route ``k`` changed, the plan's figures those of its routes (one thing wrong at a time)."""

    def edit(plan: Plan) -> Plan:
        routes = list(plan.routes)
        routes[k] = replace(routes[k], **changes)  # type: ignore[arg-type]
        evacuated = sum(int(r.people) for r in routes)
        total = sum(int(r.people) * int(r.arrival) for r in routes)
        return replace(plan, routes=tuple(routes), evacuated=evacuated, bound=evacuated, total_steps=total)

    return edit


def _same(plan: Plan) -> Plan:
    return plan


WIDE: dict[str, object] = {"node_cap": {}}  # no checkpoint: the capacity case is the road's alone
CHECKS: dict[str, tuple[Callable[[Plan], Plan], dict[str, object], str]] = {
    "road capacity": (_edit(1, departures=(0, 1), arrival=2), WIDE, "4 people > capacity 2"),
    "checkpoint": (
        _edit(1, departures=(0, 1), arrival=2),
        {"arcs": [(0, 1, 4, 1), (1, 2, 4, 1)]},  # roads wide enough: the checkpoint alone is over
        "checkpoint 1 step 1: 4 people > 3",
    ),
    "road closed": (_same, {"arc_closed": [(1, 2, 3)]}, "used at step 2 while closed"),
    "place closed to arrivals": (_same, {"node_closed": [(2, 3, 4)]}, "used at step 2 while closed"),
    "place closed to departures": (_same, {"node_closed": [(0, 1, 2)]}, "used at step 1 while closed"),
    "leaves too early": (_edit(0, departures=(0, 0), arrival=1), {}, "before arriving"),
    "arrival": (_edit(0, arrival=5), {}, "arrival 5 but the roads give 2"),
    "continuity": (
        _edit(0, arcs=(1, 0), departures=(3, 4), arrival=5),
        {},
        "arc 1 does not start where the route is",
    ),
    "destination": (
        _edit(0, arcs=(0,), departures=(0,), nodes=("0", "1"), arrival=1),
        {},
        "not at its destination",
    ),
    "node list": (_edit(0, nodes=("0", "2", "2")), {}, "node list does not match"),
    "horizon": (_edit(1, departures=(5, 6), arrival=7), {}, "after the horizon 6"),
    "arc -1": (_edit(0, arcs=(0, -1)), {}, "arc -1 is not an arc"),
    "arc past the network": (_edit(0, arcs=(0, 2)), {}, "arc 2 is not an arc"),
    "arc past 64 bits": (_edit(0, arcs=(0, 2**70)), {}, f"arc {2**70} is not an arc"),
    "people past 64 bits": (_edit(0, people=2**70), {}, "people and arrival must be whole numbers"),
    "negative departure": (_edit(0, departures=(-1, 0), arrival=1), {}, "departure step -1 is not a step"),
    "hops and departures": (_edit(0, departures=(0,)), {}, "2 arcs but 1 departures"),
    "no people": (_edit(0, people=0), {}, "carries 0 people"),
    "unknown source": (_edit(0, source="nowhere"), {}, "unknown source 'nowhere'"),
    "unknown destination": (_edit(0, destination="nowhere"), {}, "destination 'nowhere'"),
    "group": (_edit(0, group="wounded"), {}, "group 'wounded'"),
    "source over-sent": (_same, {"sources": [(0, 3)]}, "source s0: sends 4 people but has 3"),
    "reception": (_same, {"destinations": [(2, 3)]}, "destination d0: receives 4 > capacity 3"),
    "evacuated": (lambda plan: replace(plan, evacuated=3), {}, "plan says 3 evacuated"),
    "bound": (lambda plan: replace(plan, bound=3), {}, "more than its bound 3"),
    "total time": (lambda plan: replace(plan, total_steps=11), {}, "plan says total time 11 steps"),
    "evacuees": (lambda plan: replace(plan, evacuees=5), {}, "plan counts 5 evacuees"),
    "plan horizon": (lambda plan: replace(plan, horizon=7), {}, "differs from the problem's"),
    "time step": (lambda plan: replace(plan, dt=2.0), {}, "differs from the problem's"),
}


def _case_problem(changes: dict[str, object]) -> Problem:
    """0 -> 1 -> 2, roads of 2 a step taking 1 step, checkpoint 1 of 3 a step, 4 people at 0,
    reception 2 for 10 people, horizon 6 (as test_verify_rejects), with ``changes``."""
    kw: dict[str, object] = {"sources": [(0, 4)], "destinations": [(2, 10)], "node_cap": {1: 3}}
    kw.update(changes)
    arcs = kw.pop("arcs", [(0, 1, 2, 1), (1, 2, 2, 1)])
    made: Problem = problem(3, arcs, horizon=6, **kw)  # type: ignore[arg-type]
    return made


def test_the_good_plan_passes_in_both_forms() -> None:
    p = _case_problem({})
    plan = _good(p)
    assert certainly_feasible(plan, p)
    table = _columns(plan.routes, p.network.node_ids)
    assert table is not None and certainly_feasible(replace(plan, routes=table), p)
    assert verify_plan(plan, p) == []


@pytest.mark.parametrize("name", list(CHECKS))
def test_each_check_of_the_fast_pass_refuses(name: str) -> None:
    edit, changes, message = CHECKS[name]
    p = _case_problem(changes)
    plan = edit(_good(p))
    assert not certainly_feasible(plan, p)
    found = verify_plan(plan, p)
    assert found == verify_reference(plan, p)
    assert any(message in v for v in found), found
    table = _columns(plan.routes, list(reversed(p.network.node_ids)))
    if table is not None:  # the same plan read from columns is refused by the same check
        assert not certainly_feasible(replace(plan, routes=table), p)
        assert verify_plan(replace(plan, routes=table), p) == found


def test_values_the_fast_pass_does_not_read_are_left_to_the_reference() -> None:
    """A route's people as a numpy integer is right (the reference accepts it): the fast pass
    does not read it and says so, and the plan still verifies."""
    p = _case_problem({})
    plan = _edit(0, people=np.int64(2))(_good(p))
    assert not certainly_feasible(plan, p)
    assert verify_plan(plan, p) == [] == verify_reference(plan, p)


@pytest.mark.parametrize("which", ["sources", "destinations"])
def test_repeated_ids_in_the_problem_are_left_to_the_reference(which: str) -> None:
    """An id given twice makes a look-up by id ambiguous: the reference decides."""
    p = problem(3, [(0, 1, 2, 1), (1, 2, 2, 1)], sources=[(0, 2), (0, 2)], destinations=[2, 2], horizon=6)
    twice = replace(p, source_ids=("s0", "s0")) if which == "sources" else replace(p, dest_ids=("d0", "d0"))
    plan = _good(twice)
    assert not certainly_feasible(plan, twice)
    assert verify_plan(plan, twice) == verify_reference(plan, twice)


@pytest.mark.parametrize(
    "broken",
    [
        {"hops": np.asarray([2, 5])},  # a route's hops past the end of the hop columns
        {"node_first": np.asarray([0, 4])},  # its nodes past the end of the node column
        {"source": np.asarray([0, 3])},  # a source index past the ids
        {"people": np.asarray([2.0, 2.0])},  # not integers
        {"arc": np.asarray([0, 1, 0])},  # arcs and steps of different lengths
    ],
)
def test_broken_columns_are_not_read(broken: dict[str, object]) -> None:
    """Columns whose indices do not hold together are not read as a plan (no exception)."""
    p = _case_problem({})
    plan = _good(p)
    table = _columns(plan.routes, p.network.node_ids)
    assert table is not None
    bad = RouteTable(replace(table.columns, **broken))  # type: ignore[arg-type]
    assert not certainly_feasible(replace(plan, routes=bad), p)
