"""The route map: thousands of sources stay under the routes; a network without coordinates is
told apart."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.collections import LineCollection, PathCollection

from corridor.plan.model import Plan
from corridor.problem.model import Problem
from corridor.reports.figures import MANY_SOURCES, has_coordinates, map_figure
from corridor.solve import solve
from factories import problem


def _line(n: int) -> tuple[Problem, Plan]:
    p = problem(
        n + 1,
        [(v, v + 1, 3, 1) for v in range(n)],
        sources=[(v, 2) for v in range(n)],
        destinations=[n],
        horizon=n + 5,
    )
    return p, solve(p, quickest=False)


def _layers(n: int) -> tuple[PathCollection, LineCollection]:
    p, plan = _line(n)
    fig = map_figure(plan, p)
    ax = fig.axes[0]
    sources = next(c for c in ax.collections if str(c.get_label()).startswith("sources"))
    routes = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert isinstance(sources, PathCollection)
    return sources, routes[1]  # grey roads first, then the routes


def test_thousands_of_sources_are_small_dots_under_the_routes() -> None:
    sources, routes = _layers(MANY_SOURCES + 100)
    assert np.asarray(sources.get_offsets()).shape[0] == MANY_SOURCES + 100
    assert float(np.max(sources.get_sizes())) <= 5
    assert sources.get_zorder() < routes.get_zorder()
    assert sources.get_label() == f"sources ({MANY_SOURCES + 100:,})"


def test_a_few_sources_are_drawn_large_above_the_routes() -> None:
    sources, routes = _layers(20)
    assert float(np.min(sources.get_sizes())) >= 20
    assert sources.get_zorder() > routes.get_zorder()


def test_coordinates_are_missing_when_every_node_is_at_one_point() -> None:
    p, _ = _line(4)
    assert has_coordinates(p.network)
    net = p.network
    flat = replace(net, x=np.zeros(net.n_nodes), y=np.zeros(net.n_nodes))
    assert not has_coordinates(flat)
    one = replace(net, x=np.zeros(net.n_nodes), y=np.arange(net.n_nodes, dtype=float))
    assert has_coordinates(one)
