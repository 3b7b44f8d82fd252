"""The reject side of ``Plan.verify``: one hand-made bad plan per kind of violation.

The problem: 0 -> 1 -> 2, each road 2 people a step taking 1 step; node 1 a checkpoint of 3 a step;
4 people at node 0 (source s0), reception d0 at node 2 for 10 people, horizon 6. The good plan
sends two people at step 0 and two at step 1, each pair waiting nowhere: it verifies clean, and each
test changes one thing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.plan.model import Plan, Route
from corridor.problem.model import Problem
from factories import plan_of, problem
from fuzz_inputs import values


def _problem(**kw: object) -> Problem:
    return problem(
        3,
        [(0, 1, 2, 1), (1, 2, 2, 1)],
        sources=[(0, 4)],
        destinations=[(2, 10)],
        horizon=6,
        node_cap={1: 3},
        **kw,  # type: ignore[arg-type]
    )


def _route(people: int, at: int, *, arcs: tuple[int, ...] = (0, 1), arrival: int | None = None) -> Route:
    departures = tuple(at + k for k in range(len(arcs)))
    return Route(
        "s0",
        "general",
        people,
        "d0",
        ("0", "1", "2")[: len(arcs) + 1],
        arcs,
        departures,
        at + len(arcs) if arrival is None else arrival,
    )


def _good(p: Problem) -> Plan:
    return plan_of(p, [_route(2, 0), _route(2, 1)], 4)


def _with_route(plan: Plan, k: int, **changes: object) -> Plan:
    routes = list(plan.routes)
    routes[k] = replace(routes[k], **changes)  # type: ignore[arg-type]
    return replace(plan, routes=tuple(routes))


def test_the_good_plan_verifies() -> None:
    p = _problem()
    assert _good(p).verify(p) == []


Case = Callable[[Plan, Problem], tuple[Plan, Problem]]


def _over_capacity(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    # Both pairs leave at step 0: 4 people on a road of 2 a step.
    return _with_route(plan, 1, departures=(0, 1), arrival=2), p


def _checkpoint(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    # Three people per pair; the checkpoint passes 3 a step and the roads are widened to 4.
    wide = problem(
        3,
        [(0, 1, 4, 1), (1, 2, 4, 1)],
        sources=[(0, 6)],
        destinations=[(2, 10)],
        horizon=6,
        node_cap={1: 3},
    )
    routes = (_route(3, 0), replace(_route(3, 0), departures=(1, 1), arrival=2))
    return replace(plan, routes=routes, evacuated=6, bound=6, evacuees=6, total_steps=12), wide


def _closed_step(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return plan, _problem(arc_closed=[(1, 2, 3)])  # road 1 -> 2 closed at step 2


def _closed_place(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return plan, _problem(node_closed=[(2, 3, 4)])  # arrivals into node 2 closed at step 3


def _wrong_transit(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    # Leaves node 1 at the step it leaves node 0: the road takes one step.
    return _with_route(plan, 0, departures=(0, 0), arrival=1), p


def _wrong_arrival(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, arrival=5), p


def _broken_route(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, arcs=(1, 0)), p


def _wrong_end(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, arcs=(0,), departures=(0,), nodes=("0", "1"), arrival=1), p


def _wrong_nodes(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, nodes=("0", "2", "2")), p


def _over_sent(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    # Three people from a source of four plus two more: five sent, totals kept right.
    bad = _with_route(plan, 0, people=3)
    return replace(bad, evacuated=5, bound=5, total_steps=3 * 2 + 2 * 3), p


def _reception(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    small = problem(
        3, [(0, 1, 2, 1), (1, 2, 2, 1)], sources=[(0, 4)], destinations=[(2, 3)], horizon=6, node_cap={1: 3}
    )
    return plan, small


def _arc_minus_one(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    # Arc -1 would be read as the last arc (1 -> 2), which continues the route exactly.
    return _with_route(plan, 0, arcs=(0, -1)), p


def _arc_negative(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, arcs=(-2, 1)), p


def _arc_out_of_range(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, arcs=(0, 2)), p


def _arc_far_out(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, arcs=(0, 2**70)), p


def _negative_departure(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, departures=(-1, 0), arrival=1), p


def _hops_mismatch(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, departures=(0,)), p


def _no_people(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return replace(_with_route(plan, 0, people=0), evacuated=2, bound=2, total_steps=6), p


def _unknown_source(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, source="nowhere", arcs=(7, -3)), p


def _unknown_destination(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, destination="nowhere"), p


def _other_group(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 0, group="wounded"), p


def _after_horizon(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return _with_route(plan, 1, departures=(5, 6), arrival=7), p


def _evacuated_wrong(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return replace(plan, evacuated=3, bound=4), p


def _over_bound(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return replace(plan, bound=3), p


def _total_time_wrong(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return replace(plan, total_steps=plan.total_steps + 1), p


def _evacuees_wrong(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return replace(plan, evacuees=5), p


def _horizon_wrong(plan: Plan, p: Problem) -> tuple[Plan, Problem]:
    return replace(plan, horizon=7), p


CASES: dict[str, tuple[Case, str]] = {
    "over capacity": (_over_capacity, "people > capacity 2"),
    "checkpoint over throughput": (_checkpoint, "checkpoint 1 step 1: 6 people > 3"),
    "closed road": (_closed_step, "used at step 2 while closed"),
    "closed place": (_closed_place, "used at step 2 while closed"),
    "wrong transit time": (_wrong_transit, "before arriving"),
    "wrong arrival": (_wrong_arrival, "arrival 5 but the roads give 2"),
    "broken route": (_broken_route, "does not start where the route is"),
    "ends elsewhere": (_wrong_end, "not at its destination"),
    "node list": (_wrong_nodes, "node list does not match"),
    "source over-sent": (_over_sent, "source s0: sends 5 people but has 4"),
    "reception over capacity": (_reception, "destination d0: receives 4 > capacity 3"),
    "arc -1": (_arc_minus_one, "arc -1 is not an arc of the network"),
    "negative arc": (_arc_negative, "arc -2 is not an arc of the network"),
    "arc out of range": (_arc_out_of_range, "arc 2 is not an arc of the network"),
    "arc far out of range": (_arc_far_out, f"arc {2**70} is not an arc"),
    "negative departure": (_negative_departure, "departure step -1 is not a step"),
    "hops and departures": (_hops_mismatch, "2 arcs but 1 departures"),
    "no people": (_no_people, "carries 0 people"),
    "unknown source": (_unknown_source, "unknown source 'nowhere'"),
    "unknown destination": (_unknown_destination, "destination 'nowhere'"),
    "other group": (_other_group, "group 'wounded', but the source's people are 'general'"),
    "after the horizon": (_after_horizon, "after the horizon 6"),
    "evacuated wrong": (_evacuated_wrong, "plan says 3 evacuated but its routes carry 4"),
    "over its bound": (_over_bound, "more than its bound 3"),
    "total time wrong": (_total_time_wrong, "plan says total time 11 steps but its routes give 10"),
    "evacuees wrong": (_evacuees_wrong, "plan counts 5 evacuees, the problem 4"),
    "other horizon": (_horizon_wrong, "differs from the problem's"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_violation_is_refused(name: str) -> None:
    case, expected = CASES[name]
    p = _problem()
    plan, problem_ = case(_good(p), p)
    found = plan.verify(problem_)
    assert any(expected in v for v in found), found


def test_a_fixed_case_verifies_again() -> None:
    """The over-capacity case made good again (the second pair leaves one step later) verifies:
    the refusals above come from the change, not from the test's plan."""
    p = _problem()
    plan, _ = _over_capacity(_good(p), p)
    fixed = _with_route(plan, 1, departures=(1, 2), arrival=3)
    assert fixed.verify(p) == []


FIELDS = ("source", "group", "people", "destination", "nodes", "arcs", "departures", "arrival")
PLAN_FIELDS = ("evacuated", "bound", "total_steps", "evacuees", "horizon")


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(FIELDS + PLAN_FIELDS),
    value=values()
    | st.lists(values(), max_size=3).map(tuple)
    | st.sampled_from([2**70, -(2**70), (0, 2**70)]),
)
def test_any_value_in_any_field_is_refused_or_feasible_never_raises(field: str, value: Any) -> None:
    """Whatever a plan file holds in a field (a list, a string, a huge number, NaN, None), the
    verifier answers with violations or, if the value happens to be right, none; it never raises."""
    p = _problem()
    good = _good(p)
    plan = replace(good, **{field: value}) if field in PLAN_FIELDS else _with_route(good, 0, **{field: value})
    found = plan.verify(p)
    assert isinstance(found, list)
    if found == [] and field == "bound":  # any bound at or above what the plan evacuates is true
        assert value >= good.evacuated
    elif found == []:  # else only the plan's own value (or one equal to it) may pass
        original = getattr(good, field) if field in PLAN_FIELDS else getattr(good.routes[0], field)
        assert value == original
