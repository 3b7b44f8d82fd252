"""The risk of a plan: Monte Carlo over seeded runs under the scenario's ``[risk]`` disruptions.

It answers: how likely is everyone out by the deadline (and the plan's own figure met); how many people
are left inside, overall and per gathering point (their distribution over runs); how people get out
against time (percentile bands); and which disruption does the most damage. The last is a one-at-a-time
sensitivity on common random numbers: for each disruption that is on, the mean people out with it off
and with it doubled (probabilities capped at 1), the others as set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from corridor.scenario.model import RiskSettings
from corridor.simulate.cluster import InProcess, Progress, Runner
from corridor.simulate.runs import Batch, grid, specs_for
from corridor.simulate.timetable import FloatArray, IntArray, Timetable

BATCH_RUNS = 1000
PERCENTILES = (5, 25, 50, 75, 95)
# Each disruption: its name, the field that turns it on, the largest value of that field.
DISRUPTIONS: tuple[tuple[str, str, float], ...] = (
    ("travel times", "travel_time_spread", 2.0),
    ("checkpoint holds", "checkpoint_hold_probability", 1.0),
    ("road closures", "closure_probability", 1.0),
    ("ceasefire ends early", "ceasefire_end_probability", 1.0),
    ("no-shows", "no_show_probability", 1.0),
    ("breakdowns", "breakdown_probability", 1.0),
)

# Disruptions for a scenario that sets none, to show what a plan's risk looks like (the web risk page
# offers them, and says so): every kind on, at moderate values.
ILLUSTRATIVE = RiskSettings(
    travel_time_spread=0.15,
    checkpoint_hold_probability=0.3,
    checkpoint_hold_minutes=90,
    closure_probability=0.3,
    closure_minutes=60,
    ceasefire_end_probability=0.2,
    no_show_probability=0.05,
    breakdown_probability=0.02,
    breakdown_minutes=45,
)


@dataclass(frozen=True)
class Effect:
    """One disruption's effect on the mean people out: with it off, as set, and doubled."""

    name: str
    field: str
    value: float
    off: float
    base: float
    doubled: float

    @property
    def damage(self) -> float:
        """People the disruption costs on average (mean out without it - as set)."""
        return self.off - self.base

    def as_dict(self) -> dict[str, Any]:
        return {
            "disruption": self.name,
            "field": self.field,
            "value": self.value,
            "mean_out_without": round(self.off, 1),
            "mean_out": round(self.base, 1),
            "mean_out_doubled": round(self.doubled, 1),
            "damage": round(self.damage, 1),
        }


@dataclass(frozen=True, eq=False)
class RiskResult:
    """Every run's outcome, and the effects of the disruptions."""

    scenario: str
    plan_kind: str
    start: datetime
    dt: float
    horizon: int
    runs: int
    seed: int
    people: int
    planned_out: int
    points: tuple[str, ...]
    out: IntArray  # (runs,)
    left: IntArray  # (runs, points)
    curve: IntArray  # (runs, grid)
    grid: FloatArray  # steps
    risk: RiskSettings
    effects: tuple[Effect, ...] = ()

    @property
    def p_all_out(self) -> float:
        """Share of runs in which everyone is out by the deadline."""
        return float(np.mean(self.out >= self.people)) if self.runs else 0.0

    @property
    def p_plan_met(self) -> float:
        """Share of runs in which at least the plan's people are out by the deadline."""
        return float(np.mean(self.out >= self.planned_out)) if self.runs else 0.0

    def curve_bands(self) -> dict[int, FloatArray]:
        """Percentile -> people out at each grid time."""
        return {p: np.percentile(self.curve, p, axis=0) for p in PERCENTILES}

    def chart_data(self) -> dict[str, Any]:
        """What the fan and tornado charts draw, as JSON-able data (no per-run arrays)."""
        bands = self.curve_bands()
        return {
            "scenario": self.scenario,
            "runs": self.runs,
            "people": self.people,
            "planned_out": self.planned_out,
            "p_all_out": self.p_all_out,
            "start": self.start.isoformat(),
            "deadline": (self.start + timedelta(minutes=self.horizon * self.dt)).isoformat(),
            "hours": [round(float(h), 4) for h in self.grid * self.dt / 60.0],
            "bands": {str(p): [round(float(v), 1) for v in bands[p]] for p in PERCENTILES},
            "effects": [e.as_dict() for e in self.effects],
        }

    def summary(self) -> dict[str, Any]:
        left = self.people - self.out
        q = np.percentile(left, PERCENTILES) if self.runs else np.zeros(len(PERCENTILES))
        by_point = {
            point: {
                "mean": round(float(self.left[:, k].mean()), 1),
                "p95": float(np.percentile(self.left[:, k], 95)),
                "p_any_left": round(float(np.mean(self.left[:, k] > 0)), 4),
            }
            for k, point in enumerate(self.points)
        }
        ranked = sorted(self.effects, key=lambda e: -e.damage)
        return {
            "scenario": self.scenario,
            "plan": self.plan_kind,
            "runs": self.runs,
            "seed": self.seed,
            "people": self.people,
            "planned_out": self.planned_out,
            "p_all_out": round(self.p_all_out, 4),
            "p_plan_met": round(self.p_plan_met, 4),
            "mean_out": round(float(self.out.mean()), 1),
            "left": {f"p{p}": float(v) for p, v in zip(PERCENTILES, q, strict=True)},
            "left_by_point": by_point,
            "disruptions": self.risk.model_dump(mode="json", exclude_defaults=True),
            "most_damaging": [e.as_dict() for e in ranked],
        }


def _merge(batches: Sequence[Batch], n_points: int, n_grid: int) -> tuple[IntArray, IntArray, IntArray]:
    if not batches:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros((0, n_points), np.int64), np.zeros((0, n_grid), np.int64)
    return (
        np.concatenate([b.out for b in batches]),
        np.concatenate([b.left for b in batches]).astype(np.int64),
        np.concatenate([b.curve for b in batches]).astype(np.int64),
    )


def variants(risk: RiskSettings) -> list[tuple[str, str, float, RiskSettings, RiskSettings]]:
    """For every disruption that is on: (name, field, value, settings without it, settings doubled)."""
    out = []
    for name, field, top in DISRUPTIONS:
        value = float(getattr(risk, field))
        if value > 0:
            off = risk.model_copy(update={field: 0.0})
            doubled = risk.model_copy(update={field: min(top, 2 * value)})
            out.append((name, field, value, off, doubled))
    return out


def assess(
    tt: Timetable,
    risk: RiskSettings,
    *,
    runs: int,
    seed: int = 0,
    runner: Runner | None = None,
    sensitivity_runs: int | None = None,
    batch_runs: int = BATCH_RUNS,
    progress: Progress = lambda done, total: None,
) -> RiskResult:
    """Simulate ``runs`` runs of ``tt`` under ``risk``; and, unless ``sensitivity_runs`` is 0, that many
    runs (default: ``min(runs, 2000)``) with each disruption off and doubled."""
    runner = runner or InProcess()
    specs = specs_for(0, runs, seed, risk, batch_runs)
    found = variants(risk)
    m = min(runs, 2000) if sensitivity_runs is None else min(runs, sensitivity_runs)
    if 0 < m < runs:  # whole batches, so that the variants' runs are the first runs' twins
        m = min(runs, max(batch_runs, m // batch_runs * batch_runs))
    if m:
        for k, (_, _, _, off, doubled) in enumerate(found):
            # only their mean out is read: the workers send people out alone
            specs += specs_for(1 + 2 * k, m, seed, off, batch_runs, full=False)
            specs += specs_for(2 + 2 * k, m, seed, doubled, batch_runs, full=False)
    batches = runner.run(tt, specs, progress)
    jobs: dict[int, list[Batch]] = {}
    for spec, batch in zip(specs, batches, strict=True):
        jobs.setdefault(spec.job, []).append(batch)
    points = tt.points
    times = grid(tt)
    out, left, curve = _merge(jobs.get(0, []), len(points), len(times))
    effects = []
    if m:
        base = float(np.mean(out[:m])) if runs else 0.0  # the same draws as the variants' runs
        for k, (name, field, value, _, _) in enumerate(found):
            mean_off = float(np.mean(np.concatenate([b.out for b in jobs[1 + 2 * k]])))
            mean_doubled = float(np.mean(np.concatenate([b.out for b in jobs[2 + 2 * k]])))
            effects.append(Effect(name, field, value, mean_off, base, mean_doubled))
    return RiskResult(
        scenario=tt.scenario,
        plan_kind=tt.plan_kind,
        start=tt.start,
        dt=tt.dt,
        horizon=tt.horizon,
        runs=runs,
        seed=seed,
        people=tt.people,
        planned_out=tt.planned_out,
        points=points,
        out=out,
        left=left,
        curve=curve,
        grid=times,
        risk=risk,
        effects=tuple(effects),
    )


__all__ = [
    "BATCH_RUNS",
    "DISRUPTIONS",
    "ILLUSTRATIVE",
    "PERCENTILES",
    "Effect",
    "RiskResult",
    "assess",
    "variants",
]
