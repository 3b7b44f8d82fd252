"""The fair convoy plan: it verifies, its least share out over gathering points is no lower than the
most-out plan's, and its figures per gathering point agree with a recount of its trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from convoy_cases import convoy_problems, example
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.fair import FairPlans, fair_plans


def _recount(problem: ConvoyProblem, plan: ConvoyPlan) -> dict[str, int]:
    flow = problem.flow
    node_of = {
        sid: problem.network.node_ids[int(n)]
        for sid, n in zip(flow.source_ids, flow.source_node.tolist(), strict=True)
    }
    out: dict[str, int] = {}
    for t in plan.trips:
        for sid, n in t.load:
            out[node_of[sid]] = out.get(node_of[sid], 0) + n
    return out


def _check(problem: ConvoyProblem, result: FairPlans) -> None:
    assert result.fair.verify(problem) == []
    assert result.least_share_fair >= result.least_share_most
    assert result.cost == result.most.evacuated - result.fair.evacuated
    most, fair = _recount(problem, result.most), _recount(problem, result.fair)
    for point in result.points:
        assert point.most_out == most.get(point.gathering, 0)
        assert point.fair_out == fair.get(point.gathering, 0)
        assert point.fair_out <= point.waiting
    assert sum(p.fair_out for p in result.points) == result.fair.evacuated


def test_the_example_fair_plan_serves_every_gathering_point() -> None:
    _, problem = example()
    most = solve_convoy(problem, method="greedy", flow_bound=False)
    result = fair_plans(problem, most, steps=7)
    _check(problem, result)
    assert result.least_share_most == 0  # the most-out plan leaves whole gathering points behind
    assert result.least_share_fair > 0
    assert result.cost >= 0
    again = fair_plans(problem, most, steps=7)
    assert again.fair.trips == result.fair.trips  # deterministic


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convoy_problems())
def test_fair_plans_of_random_problems(problem: ConvoyProblem) -> None:
    most = solve_convoy(problem, method="greedy", flow_bound=False)
    _check(problem, fair_plans(problem, most, steps=6))
