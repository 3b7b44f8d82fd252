"""Roads written as unlimited (2^31 - 1 vehicles an hour, as TNTP connectors are) keep the
quickest-time search's growth bound meaningful: few max flows, the same answers as a scan."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.problem.model import Problem
from corridor.solve.bounds import growth_rate, lower_bound, short_until
from corridor.solve.quickest import people_out, quickest_steps
from factories import exit_grid as _grid
from factories import problem

CONNECTOR = 2**31 - 1


def _corridor(length: int, people: int, cap: int) -> Problem:
    """People at every node of a line of roads (``cap`` a step, 1 step each) whose last node is
    joined to the exit by an unlimited connector."""
    arcs = [(v, v + 1, cap, 1) for v in range(length - 1)] + [(length - 1, length, CONNECTOR, 1)]
    return problem(
        length + 1,
        arcs,
        sources=[(v, people) for v in range(length)],
        destinations=[length],
        horizon=5,
    )


def _scan(p: Problem, start: int = 0) -> int:
    return next(h for h in range(start, 10_000) if people_out(p, h) >= p.people)


def _max_flows(p: Problem, **kwargs: int) -> tuple[int | None, int]:
    tried: list[str] = []
    steps = quickest_steps(p, progress=tried.append, **kwargs)
    return steps, sum(1 for t in tried if t.startswith("quickest time: trying"))


def test_the_growth_rate_counts_people_not_an_unlimited_connector() -> None:
    p = _corridor(30, 40, 3)
    # One more step adds at most the people beside the connector plus the road into them.
    assert growth_rate(p) <= 40 + 3
    assert growth_rate(p) > 0


def test_few_max_flows_beside_an_unlimited_connector() -> None:
    p = _grid(8, 0)
    bound = lower_bound(p)
    assert bound is not None
    expected = _scan(p, start=bound)
    assert expected > bound  # the static bounds alone do not settle it: the search must
    out = people_out(p, p.horizon)
    steps, flows = _max_flows(p, infeasible=p.horizon, infeasible_out=out)
    assert steps == expected
    assert flows <= 3
    steps, flows = _max_flows(p)
    assert steps == expected
    assert flows <= 3


def test_the_scout_finds_the_bottleneck_so_one_max_flow_settles_it() -> None:
    # People behind the bottleneck bind the quickest time: a max flow at a short horizon names
    # them, their own bound is the answer, and only the max flow at that answer remains.
    p = _grid(8, 0)
    bound = lower_bound(p)
    assert bound is not None
    expected = _scan(p, start=bound)
    assert expected > bound
    tried: list[str] = []
    assert quickest_steps(p, progress=tried.append) == expected
    assert [t for t in tried if t.startswith("quickest time: trying")] == [
        f"quickest time: trying {expected} steps"
    ]
    assert any(t.startswith("quickest time: scouting") for t in tried)


@st.composite
def _problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(3, 7))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1])
    edges = draw(st.lists(pairs, min_size=1, max_size=12))
    arcs = [(u, v, draw(st.integers(1, 5)), draw(st.integers(1, 4))) for u, v in edges]
    sources = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 60)), min_size=1, max_size=6))
    dest = draw(st.integers(0, n - 1))
    beside = draw(st.integers(0, n - 1))
    if beside != dest:
        arcs.append((beside, dest, CONNECTOR, draw(st.integers(1, 3))))
    return problem(n, arcs, sources=sources, destinations=[dest], horizon=draw(st.integers(1, 10)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problems())
def test_growth_bound_and_search_match_max_flows_with_connectors(p: Problem) -> None:
    outs = [people_out(p, h) for h in range(41)]
    rate = growth_rate(p)
    for h in range(40):
        if outs[h] < p.people:
            assert outs[h + 1] - outs[h] <= rate
            last = short_until(p, h, outs[h], rate)
            assert all(outs[k] < p.people for k in range(h, min(last, 40) + 1))
    expected = next((h for h in range(41) if outs[h] >= p.people), None)
    if expected is None:
        return
    assert quickest_steps(p, limit=200) == expected
    if outs[p.horizon] < p.people:
        assert quickest_steps(p, infeasible=p.horizon, infeasible_out=outs[p.horizon], limit=200) == expected
