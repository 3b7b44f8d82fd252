"""Disruptions: each does what its distribution says, the two engines agree run by run, runs are
reproducible from their seed, and impossible parameters are refused naming the field."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from corridor.core.errors import ScenarioError
from corridor.scenario.load import load_scenario
from corridor.scenario.model import RiskSettings
from corridor.simulate.cluster import TASKS_PER_THREAD, InProcess, MissingRunsError, check_whole, tasks_for
from corridor.simulate.draws import draw
from corridor.simulate.engine_numpy import simulate_numpy
from corridor.simulate.engine_simpy import simulate_simpy
from corridor.simulate.risk import assess
from corridor.simulate.runs import narrow, outcomes, run_batch, run_batches, specs_for

from .conftest import EXAMPLES, ConvoyCase

EVERYTHING = RiskSettings(
    travel_time_spread=0.3,
    checkpoint_hold_probability=0.5,
    checkpoint_hold_minutes=120,
    closure_probability=0.8,
    closure_minutes=120,
    ceasefire_end_probability=0.3,
    no_show_probability=0.1,
    breakdown_probability=0.1,
)


def test_the_engines_agree_run_by_run(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    d = draw(tt, EVERYTHING, 12, seed=5)
    np.testing.assert_array_equal(simulate_simpy(tt, d).arrival, simulate_numpy(tt, d).arrival)


def test_runs_are_reproducible_from_their_seed(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    spec = specs_for(0, 40, 3, EVERYTHING, 40)[0]
    a, b = run_batch(tt, spec), run_batch(tt, spec)
    other = run_batch(tt, specs_for(0, 40, 4, EVERYTHING, 40)[0])
    assert a.out.tolist() == b.out.tolist()
    assert a.out.tolist() != other.out.tolist()


def test_delays_never_make_a_load_early(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    slow = EVERYTHING.model_copy(update={"travel_time_spread": 0.0})
    o = simulate_numpy(tt, draw(tt, slow, 30, seed=1), trace=True)
    assert o.start is not None
    assert (o.start >= tt.planned[:, None]).all()
    assert (o.arrival >= tt.delivery_planned[:, None]).all()
    assert (o.arrival > tt.delivery_planned[:, None]).any()


def test_each_disruption_costs_people(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    planned = tt.planned_out
    for field, value in (
        ("no_show_probability", 1.0),
        ("ceasefire_end_probability", 1.0),
        ("breakdown_probability", 1.0),
        ("checkpoint_hold_probability", 1.0),
    ):
        risk = RiskSettings(**{field: value, "checkpoint_hold_minutes": 600, "breakdown_minutes": 600})
        d = draw(tt, risk, 20, seed=2)
        out = outcomes(tt, d, simulate_numpy(tt, d)).out
        assert (out <= planned).all(), field
        assert out.mean() < planned, field
    nobody = RiskSettings(no_show_probability=1.0)
    d = draw(tt, nobody, 5, seed=2)
    assert outcomes(tt, d, simulate_numpy(tt, d)).out.tolist() == [0] * 5


def test_a_ceasefire_ends_no_earlier_than_its_earliest(east_aleppo_convoy: ConvoyCase) -> None:
    plan, _, tt = east_aleppo_convoy
    earliest = plan.time_of(600)
    d = draw(tt, RiskSettings(ceasefire_end_probability=1.0, ceasefire_earliest=earliest), 200, seed=9)
    assert d.window_end.min() >= 600
    assert d.window_end.max() <= tt.horizon


def test_risk_of_a_calm_day_is_the_plan(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    result = assess(tt, RiskSettings(), runs=30, seed=1, runner=InProcess())
    s = result.summary()
    assert s["p_plan_met"] == 1.0
    assert s["mean_out"] == tt.planned_out
    assert s["p_all_out"] == (1.0 if tt.planned_out == tt.people else 0.0)
    assert s["most_damaging"] == []
    assert sum(v["mean"] for v in s["left_by_point"].values()) == tt.people - tt.planned_out


def test_the_most_damaging_disruption_is_ranked_first(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    risk = RiskSettings(ceasefire_end_probability=0.9, travel_time_spread=0.01)
    result = assess(tt, risk, runs=200, seed=1, batch_runs=100)
    ranked = result.summary()["most_damaging"]
    assert [r["field"] for r in ranked] == ["ceasefire_end_probability", "travel_time_spread"]
    assert ranked[0]["mean_out_without"] > ranked[0]["mean_out"] > ranked[0]["mean_out_doubled"]
    assert result.runs == len(result.out) == 200


def test_a_missing_or_short_batch_is_refused(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    specs = specs_for(0, 25, 1, RiskSettings(), 10)
    batches = [run_batch(tt, s) for s in specs]
    assert [b.runs for b in check_whole(specs, batches)] == [10, 10, 5]
    with pytest.raises(MissingRunsError, match="only 20 of 25 runs"):
        check_whole(specs, batches[:2])
    with pytest.raises(MissingRunsError, match="only 15 of 25 runs"):
        check_whole(specs, [batches[0], batches[2], batches[2]])


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ("no_show_probability = 1.5", "risk.no_show_probability"),
        ("travel_time_spread = -0.1", "risk.travel_time_spread"),
        ("checkpoint_hold_minutes = 0", "risk.checkpoint_hold_minutes"),
        ("closure_probability = -1", "risk.closure_probability"),
        ("breakdown_minute = 4", "risk.breakdown_minute"),
        ("ceasefire_earliest = 2016-12-14T00:00:00+02:00", "risk.ceasefire_earliest"),
        ("ceasefire_earliest = 2016-12-16T02:00:00", "risk.ceasefire_earliest"),
    ],
)
def test_impossible_parameters_are_refused_naming_the_field(tmp_path: Path, table: str, field: str) -> None:
    source = EXAMPLES / "east-aleppo-2016"
    text = (source / "scenario.toml").read_text().split("\n[risk]")[0]  # the example's own, its last table
    for name in ("network.geojson", "sources.csv"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "scenario.toml").write_text(f"{text}\n[risk]\n{table}\n")
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
        load_scenario(tmp_path / "scenario.toml")


def test_a_risk_table_is_read(tmp_path: Path) -> None:
    source = EXAMPLES / "east-aleppo-2016"
    for name in ("network.geojson", "sources.csv"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    text = (source / "scenario.toml").read_text().split("\n[risk]")[0]  # the example's own, its last table
    (tmp_path / "scenario.toml").write_text(f"{text}\n[risk]\nno_show_probability = 0.05\n")
    risk = load_scenario(tmp_path / "scenario.toml").risk
    assert risk.no_show_probability == 0.05 and risk.disrupted
    assert not RiskSettings().disrupted


def test_a_sensitivity_batch_sends_people_out_alone(east_aleppo_convoy: ConvoyCase) -> None:
    """The runs of a sensitivity send back people out only (their mean is all that is read), and
    full batches their counts as int32 (the curve as uint16 when everyone's count fits): what the
    workers send through the shared cores is small."""
    _, _, tt = east_aleppo_convoy
    [full] = specs_for(0, 200, 3, EVERYTHING, 200)
    [alone] = specs_for(0, 200, 3, EVERYTHING, 200, full=False)
    a, b = run_batch(tt, full), run_batch(tt, alone)
    assert np.array_equal(a.out, b.out) and b.runs == 200
    assert b.left.shape == b.curve.shape == (200, 0)
    assert a.left.dtype == np.int32 and a.curve.dtype == np.uint16 and a.curve.shape[0] == 200
    assert b.out.nbytes + b.left.nbytes + b.curve.nbytes < (a.left.nbytes + a.curve.nbytes) / 10
    # The effects are as if every batch were whole: the mean out of the same runs.
    result = assess(tt, EVERYTHING, runs=200, seed=3, batch_runs=100)
    off = EVERYTHING.model_copy(update={"no_show_probability": 0.0})
    whole = [run_batch(tt, s) for s in specs_for(9, 200, 3, off, 100)]
    effect = next(e for e in result.effects if e.field == "no_show_probability")
    assert effect.off == float(np.mean(np.concatenate([w.out for w in whole])))
    assert result.curve.dtype == np.int64 and result.curve.shape == (200, len(result.grid))


def test_a_curve_too_large_for_uint16_is_sent_as_int32(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    counts = np.array([[0, 65_535, 65_536, 200_000]], dtype=np.int64)
    many = replace(tt, entry_people=tt.entry_people * 100)  # 900,000 people: not in uint16
    assert int(many.entry_people.sum()) > 65_535
    wide = narrow(many, counts)
    assert wide.dtype == np.int32 and wide.tolist() == counts.tolist()
    assert narrow(tt, counts[:, :2]).dtype == np.uint16
    [spec] = specs_for(0, 50, 2, EVERYTHING, 50)
    big = run_batch(many, spec)
    assert big.curve.dtype == np.int32 and int(big.curve.max()) > 65_535


def test_tasks_hold_every_batch_once_and_mix_the_jobs(east_aleppo_convoy: ConvoyCase) -> None:
    _, _, tt = east_aleppo_convoy
    specs = specs_for(0, 1000, 1, EVERYTHING, 100) + specs_for(1, 2400, 1, RiskSettings(), 100, full=False)
    tasks = tasks_for(specs, 2)
    assert len(tasks) == 2 * TASKS_PER_THREAD
    assert sorted((s.job, s.batch) for t in tasks for s in t) == sorted((s.job, s.batch) for s in specs)
    assert all(any(s.full for s in t) and any(not s.full for s in t) for t in tasks)
    assert len(tasks_for(specs[:3], 2)) == 3 and len(tasks_for(specs, 0)) == TASKS_PER_THREAD
    assert tasks_for([], 2) == []
    # Grouped into tasks, the batches are the same runs.
    grouped = [b for t in tasks_for(specs[:6], 1) for b in run_batches(tt, t)]
    alone = InProcess().run(tt, specs[:6], lambda done, total: None)
    assert [b.out.tolist() for b in check_whole(specs[:6], grouped)] == [b.out.tolist() for b in alone]
    with pytest.raises(MissingRunsError, match="only 500 of 600 runs"):
        check_whole(specs[:6], grouped[:5])
