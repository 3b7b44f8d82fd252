"""The plan file has one reader: ``Plan.from_dict`` reads back what ``Plan.to_dict`` writes (the
same content hash), and refuses a file that is not a plan with the field named."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from corridor.core.errors import InputError
from corridor.plan.model import PLAN_FORMAT, Plan
from corridor.solve import solve
from factories import problem


def a_plan() -> Plan:
    tiny = problem(3, [(0, 1, 10, 2), (1, 2, 10, 3)], sources=[(0, 7)], destinations=[2], horizon=20)
    return solve(replace(tiny, name="tiny"), quickest=False)


def test_a_plan_file_reads_back_as_the_same_plan() -> None:
    plan = a_plan()
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["format"] == PLAN_FORMAT
    again = Plan.from_dict(data)
    assert again.content_hash() == plan.content_hash() and again.evacuated == plan.evacuated == 7


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"format": 2}, "plan.format"),
        ({"dt": 0}, "plan.dt"),
        ({"start": "2016-12-15T14:30:00"}, "plan.start"),  # no UTC offset
        ({"surprise": 1}, "plan.surprise"),
    ],
)
def test_what_is_not_a_plan_file_is_refused_with_the_field_named(
    change: dict[str, object], where: str
) -> None:
    data = {**a_plan().to_dict(), **change}
    with pytest.raises(InputError) as refused:
        Plan.from_dict(data)
    assert refused.value.where == where


def test_the_plan_file_dict_is_what_asdict_gives() -> None:
    # to_dict writes each route's fields itself (no deep copy); the file must stay the one that
    # dataclasses.asdict made, key for key and in order, so that its hash and readers are unchanged.
    from dataclasses import asdict

    plan = a_plan()
    reference = asdict(replace(plan, routes=tuple(plan.routes)))
    reference["start"] = plan.start.isoformat()
    reference["format"] = PLAN_FORMAT
    reference.pop("stats")
    mine = plan.to_dict()
    assert json.dumps(mine) == json.dumps(reference)
    assert list(mine["routes"][0]) == list(reference["routes"][0])
