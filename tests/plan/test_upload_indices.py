"""Uploaded plans: arc indices below 0 (or absurdly large) are refused when the file is read, with
the field named, before the plan is stored or used."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from corridor.plan.model import Route
from corridor.server.operations.plans import PlanIn
from factories import plan_of, problem


def _plan_dict(arcs: tuple[int, ...]) -> dict[str, object]:
    p = problem(3, [(0, 1, 2, 1), (1, 2, 2, 1)], sources=[(0, 2)], destinations=[2], horizon=4)
    route = Route("s0", "general", 2, "d0", ("0", "1", "2"), arcs, (0, 1), 2)
    return plan_of(p, [route], 2).to_dict()


def test_a_plan_with_good_indices_is_read() -> None:
    plan = PlanIn.model_validate(_plan_dict((0, 1))).to_plan()
    assert plan.routes[0].arcs == (0, 1)


@pytest.mark.parametrize("arc", [-1, -7, 2**31, 2**70])
def test_an_arc_index_out_of_bounds_is_refused(arc: int) -> None:
    with pytest.raises(ValidationError) as error:
        PlanIn.model_validate(_plan_dict((0, arc)))
    (problem_,) = error.value.errors()
    assert problem_["loc"] == ("routes", 0, "arcs", 1)
