"""A planner plan's file and hash read from its route columns: byte for byte what the Route objects
give, on plans of several shapes (two groups, people already at a reception point, a checkpoint,
a grid with a bottleneck, nobody at all)."""

from __future__ import annotations

import json
import pickle
from dataclasses import fields, replace

import numpy as np
import pytest

from corridor.plan import canonical
from corridor.plan.model import Plan, Route
from corridor.plan.routes import RouteTable
from corridor.problem.model import Problem
from corridor.solve.exact import solve_exact
from factories import exit_grid, problem


def _two_groups() -> Problem:
    return problem(
        4,
        [(0, 1, 2, 1), (1, 3, 2, 2), (0, 2, 3, 3), (2, 3, 1, 1), (1, 2, 2, 1)],
        sources=[(0, 9, 0), (1, 4, 1)],
        destinations=[3, 2],
        horizon=8,
        groups=[("wounded", 1), ("general", 2)],
    )


def _already_there() -> Problem:
    # Source 1 sits on reception point 2 (routes of no hops); node 1 is a checkpoint of 2 a step.
    return problem(
        3,
        [(0, 1, 3, 1), (1, 2, 3, 2)],
        sources=[(0, 7), (2, 5)],
        destinations=[2],
        horizon=9,
        node_cap={1: 2},
    )


def _nobody() -> Problem:
    p = _two_groups()
    return replace(p, source_people=np.zeros_like(p.source_people))


CASES = {
    "two groups": (_two_groups, "earliest"),
    "two groups, max-flow": (_two_groups, "max-flow"),
    "already there": (_already_there, "earliest"),
    "grid": (lambda: exit_grid(5, 3), "earliest"),
    "nobody": (_nobody, "earliest"),
}


def _fresh(plan: Plan) -> Plan:
    """The plan as a new process holds it: columns, no Route objects made yet."""
    again: Plan = pickle.loads(pickle.dumps(plan))
    assert isinstance(again.routes, RouteTable) and again.routes._made is None
    return again


@pytest.mark.parametrize("case", list(CASES))
def test_columns_give_the_same_file_and_hash(case: str) -> None:
    make, objective = CASES[case]
    plan = _fresh(solve_exact(make(), objective=objective))
    assert isinstance(plan.routes, RouteTable)
    from_columns = plan.to_dict()
    file_text = json.dumps(from_columns, indent=1)
    digest = plan.content_hash()
    assert plan.routes._made is None  # neither made the Route objects
    as_routes = replace(plan, routes=tuple(plan.routes))
    assert json.dumps(as_routes.to_dict(), indent=1) == file_text
    assert as_routes.content_hash() == digest == canonical.content_hash(from_columns)
    assert plan.to_dict() == from_columns  # and once the routes are made, the same again
    if case == "already there":
        assert any(not r["arcs"] and len(r["nodes"]) == 1 for r in from_columns["routes"])


def test_route_dicts_keep_the_fields_of_a_route_in_order() -> None:
    plan = _fresh(solve_exact(_two_groups()))
    assert isinstance(plan.routes, RouteTable)
    names = [f.name for f in fields(Route)]
    assert all(list(d) == names for d in plan.routes.dicts())


def test_columns_of_different_lengths_are_refused() -> None:
    plan = _fresh(solve_exact(_two_groups()))
    assert isinstance(plan.routes, RouteTable)
    c = plan.routes.columns
    broken = RouteTable(replace(c, arrival=c.arrival[:-1]))
    with pytest.raises(ValueError, match="zip"):
        broken.dicts()


def test_names_needing_escapes_hash_alike() -> None:
    # Quotes, backslashes, non-ASCII and control characters in every name the text path writes.
    plan = _fresh(solve_exact(_already_there()))
    assert isinstance(plan.routes, RouteTable)
    c = plan.routes.columns
    odd = RouteTable(
        replace(
            c,
            node_ids=[f'n"{i}\\ü\t' for i in range(len(c.node_ids))],
            source_ids=[f"Straße {i} «x»" for i in range(len(c.source_ids))],
            dest_ids=[f"d\n{i}" for i in range(len(c.dest_ids))],
            group_names=["群 \u2028"] * len(c.group_names),
        )
    )
    weird = replace(plan, routes=odd, scenario='sc"é', network="net\\z")
    assert weird.content_hash() == canonical.content_hash(weird.to_dict())
    assert weird.content_hash() != plan.content_hash()
