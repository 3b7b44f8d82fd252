"""The risk job's task: a plan given or made, progress reported, JSON out; a bad payload named."""

from __future__ import annotations

import json

import pytest

from corridor.core.errors import InputError
from corridor.simulate.tasks import risk

from .conftest import EXAMPLES, ConvoyCase

SCENARIO = str(EXAMPLES / "east-aleppo-2016" / "scenario.toml")


def test_the_task_simulates_the_plan_it_is_given(east_aleppo_convoy: ConvoyCase) -> None:
    plan, _, _ = east_aleppo_convoy
    reports: list[tuple[float, str]] = []
    result = risk(
        {"scenario": SCENARIO, "plan": plan.to_dict(), "runs": 40, "seed": 2, "risk": {}},
        lambda f, m: reports.append((f, m)),
    )
    assert json.loads(json.dumps(result)) == result
    assert result["summary"]["runs"] == 40
    assert result["summary"]["mean_out"] == plan.evacuated  # the payload sets no disruption
    assert len(result["chart"]["bands"]["50"]) == len(result["chart"]["hours"])
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert reports[-1][1] == "40 of 40 runs"


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"runs": -1}, "payload.runs"),
        ({"runs": True}, "payload.runs"),
        ({"seed": "x"}, "payload.seed"),
        ({"plan": {"trips": 1}}, "payload.plan"),
        ({"risk": {"no_show_probability": 3}}, "payload.risk.no_show_probability"),
        ({"risk": {"no_such": 3}}, "payload.risk.no_such"),
    ],
)
def test_a_bad_payload_is_named(payload: dict[str, object], where: str) -> None:
    with pytest.raises(InputError, match=where.replace(".", r"\.")):
        risk({"scenario": SCENARIO, **payload}, lambda f, m: None)


def test_the_payload_may_set_the_disruptions(east_aleppo_convoy: ConvoyCase) -> None:
    plan, _, _ = east_aleppo_convoy
    payload = {"scenario": SCENARIO, "plan": plan.to_dict(), "runs": 30, "risk": {"no_show_probability": 1}}
    result = risk(payload, lambda f, m: None)
    assert result["summary"]["mean_out"] == 0
    assert [e["field"] for e in result["summary"]["most_damaging"]] == ["no_show_probability"]
