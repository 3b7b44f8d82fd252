"""A plan's routes as columns: the same routes, figures and JSON as a tuple of Route objects."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np

from corridor.plan.model import Plan
from corridor.plan.routes import RouteTable
from corridor.problem.model import Problem
from corridor.solve.exact import solve_exact
from factories import problem


def _plan() -> tuple[Problem, Plan]:
    # Two groups at two sources, two reception points, roads of 1-3 steps.
    p = problem(
        4,
        [(0, 1, 2, 1), (1, 3, 2, 2), (0, 2, 3, 3), (2, 3, 1, 1), (1, 2, 2, 1)],
        sources=[(0, 9, 0), (1, 4, 1)],
        destinations=[3, 2],
        horizon=8,
        groups=[("wounded", 1), ("general", 2)],
    )
    return p, solve_exact(p)


def test_columns_answer_like_the_routes() -> None:
    p, plan = _plan()
    assert isinstance(plan.routes, RouteTable)
    as_tuple = replace(plan, routes=tuple(plan.routes))
    assert plan.routes == as_tuple.routes and len(plan.routes) == len(as_tuple.routes)
    assert plan.arrivals().tolist() == as_tuple.arrivals().tolist()
    assert plan.by_group() == as_tuple.by_group()
    assert plan.last_arrival == as_tuple.last_arrival
    assert plan.total_steps == sum(r.people * r.arrival for r in plan.routes)
    assert plan.to_dict() == as_tuple.to_dict()
    assert plan.content_hash() == as_tuple.content_hash()
    assert plan.verify(p) == []


def test_pickled_table_makes_the_same_routes() -> None:
    _, plan = _plan()
    before = tuple(plan.routes)  # made once, not pickled
    again = pickle.loads(pickle.dumps(plan))
    assert isinstance(again.routes, RouteTable)
    assert tuple(again.routes) == before
    assert again.routes[0] == before[0] and again.routes[-1:] == before[-1:]
    assert isinstance(plan.routes, RouteTable)
    assert np.array_equal(again.routes.people, plan.routes.people)


def test_an_empty_plan_and_hashes() -> None:
    p, plan = _plan()
    as_tuple = replace(plan, routes=tuple(plan.routes))
    assert hash(plan) == hash(as_tuple)
    nobody = solve_exact(replace(p, source_people=np.zeros_like(p.source_people)))
    assert len(nobody.routes) == 0 and list(nobody.routes) == []
    assert nobody.last_arrival is None and nobody.by_group() == {} and nobody.total_steps == 0
    assert nobody.arrivals().sum() == 0 and len(nobody.to_dict()["routes"]) == 0
