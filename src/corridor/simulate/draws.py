"""The seeded random draws of a batch of runs: every disruption of every run, drawn up front.

Both engines (:mod:`corridor.simulate.engine_numpy`, :mod:`corridor.simulate.engine_simpy`) read the
same draws, so they agree run by run. The underlying random numbers do not depend on the settings
(common random numbers): turning one disruption up or off changes only what it touches, which keeps
the comparisons of :mod:`corridor.simulate.risk` sharp. Times are in steps of the plan's axis.
Distributions (see ``docs/scenario.md``, ``[risk]``):

- travel: a road's duration x ``exp(travel_time_spread * Z)``, Z standard normal (lognormal, median 1);
- checkpoint hold: with probability ``checkpoint_hold_probability`` per checkpoint, from a uniform time
  in ``[0, horizon)`` for an exponential time of mean ``checkpoint_hold_minutes``;
- road closure: with probability ``closure_probability`` one road of the plan, chosen uniformly, from a
  uniform time for an exponential time of mean ``closure_minutes``;
- ceasefire: with probability ``ceasefire_end_probability`` the window ends at a uniform time between
  ``ceasefire_earliest`` and the deadline;
- breakdown: with probability ``breakdown_probability`` per delivery a delay of mean ``breakdown_minutes``
  (exponential) on its first loaded road;
- no-show: each person of an entry comes with probability ``1 - no_show_probability`` (binomial).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corridor.scenario.model import RiskSettings
from corridor.simulate.timetable import ROAD, FloatArray, IntArray, Timetable


@dataclass(frozen=True, eq=False)
class Draws:
    """Disruptions of ``runs`` runs; arrays are (item, run)."""

    runs: int
    factor: FloatArray | None  # (roads driven, runs): duration multiplier; None = all 1
    factor_row: IntArray  # (activities,): the row of ``factor`` of each road driven, else -1
    hold_start: FloatArray | None  # (checkpoints, runs); inf = no hold; None = no hold at all
    hold_end: FloatArray | None
    closure_road: IntArray | None  # (runs,): -1 = none; None = no closure at all
    closure_start: FloatArray | None
    closure_end: FloatArray | None
    window_end: FloatArray  # (runs,): the last step an arrival counts (the horizon, or the ceasefire's end)
    breakdown: FloatArray | None  # (deliveries, runs): extra steps; None = no breakdown
    shown: IntArray  # (entries, runs): people who come


def seed_sequence(seed: int, batch: int) -> np.random.SeedSequence:
    """The seeds of batch ``batch`` of a simulation seeded ``seed`` (the same on every machine)."""
    return np.random.SeedSequence([seed & 0xFFFFFFFF, seed >> 32, batch])


def draw(tt: Timetable, risk: RiskSettings, runs: int, seed: int, batch: int = 0) -> Draws:
    """Draw every disruption of ``runs`` runs (batch ``batch`` of a simulation seeded ``seed``)."""
    rng = np.random.default_rng(seed_sequence(seed, batch))
    n_a, n_c, n_d = tt.n_activities, len(tt.checkpoints), tt.n_deliveries
    horizon = float(tt.horizon)
    per_minute = 1.0 / tt.dt
    # Fixed-size draws first (common random numbers), then the binomial ones.
    road_rows = np.flatnonzero(tt.kind == ROAD)
    z = rng.standard_normal((len(road_rows), runs), dtype=np.float32)
    hold_u, hold_t, hold_e = rng.random((n_c, runs)), rng.random((n_c, runs)), rng.exponential(1, (n_c, runs))
    close_u, close_r = rng.random(runs), rng.random(runs)
    close_t, close_e = rng.random(runs), rng.exponential(1, runs)
    fire_u, fire_t = rng.random(runs), rng.random(runs)
    break_u, break_e = rng.random((n_d, runs)), rng.exponential(1, (n_d, runs))

    factor = None
    if risk.travel_time_spread > 0:
        factor = np.exp(np.float32(risk.travel_time_spread) * z).astype(np.float64)
    hold_start = hold_end = None
    if risk.checkpoint_hold_probability > 0 and n_c:
        on = hold_u < risk.checkpoint_hold_probability
        hold_start = np.where(on, hold_t * horizon, np.inf)
        hold_end = np.where(on, hold_start + hold_e * risk.checkpoint_hold_minutes * per_minute, np.inf)
    closure_road = closure_start = closure_end = None
    if risk.closure_probability > 0 and tt.roads:
        on = close_u < risk.closure_probability
        closure_road = np.where(on, (close_r * len(tt.roads)).astype(np.int64), -1)
        closure_start = close_t * horizon
        closure_end = closure_start + close_e * risk.closure_minutes * per_minute
    window_end = np.full(runs, horizon)
    if risk.ceasefire_end_probability > 0:
        earliest = 0.0
        if risk.ceasefire_earliest is not None:
            earliest = (risk.ceasefire_earliest - tt.start).total_seconds() / 60.0 * per_minute
        earliest = min(max(earliest, 0.0), horizon)
        ends = earliest + fire_t * (horizon - earliest)
        window_end = np.where(fire_u < risk.ceasefire_end_probability, np.floor(ends), horizon)
    breakdown = None
    if risk.breakdown_probability > 0 and n_d:
        on = break_u < risk.breakdown_probability
        breakdown = np.where(on, break_e * risk.breakdown_minutes * per_minute, 0.0)
    people = tt.entry_people[:, None]
    if risk.no_show_probability > 0:
        shown = rng.binomial(np.broadcast_to(people, (len(people), runs)), 1.0 - risk.no_show_probability)
    else:
        shown = np.broadcast_to(people, (len(people), runs))
    factor_row = np.full(n_a, -1, dtype=np.int64)
    factor_row[road_rows] = np.arange(len(road_rows))
    return Draws(
        runs=runs,
        factor=factor,
        factor_row=factor_row,
        hold_start=hold_start,
        hold_end=hold_end,
        closure_road=closure_road,
        closure_start=closure_start,
        closure_end=closure_end,
        window_end=window_end,
        breakdown=breakdown,
        shown=np.asarray(shown, dtype=np.int64),
    )


__all__ = ["Draws", "draw", "seed_sequence"]
