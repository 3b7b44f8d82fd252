"""Sweep axes: what a sweep varies in the scenario (a fleet size, a checkpoint rate, the deadline).

- ``fleet:ID=10,20,30``: the count of the ``[[fleet]]`` entry ``ID``;
- ``checkpoint:ID=6,12,24``: the rate of checkpoint ``ID`` in its own unit (vehicles or people per
  hour); an inspection time that would hold the rate lower is shortened to ``60 / rate`` minutes;
- ``deadline=12,16,20``: the deadline, in hours after the start.

This module never plans (the web service draws sweeps' charts with it); :mod:`corridor.simulate.sweep`
plans and assesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from corridor.core.errors import InputError
from corridor.scenario.model import Scenario
from corridor.simulate.risk import RiskResult

AxisKind = Literal["fleet", "checkpoint", "deadline"]


@dataclass(frozen=True)
class Axis:
    """What a sweep varies, and its values."""

    kind: AxisKind
    target: str  # a fleet entry or checkpoint id; "" for the deadline
    values: tuple[float, ...]

    @property
    def label(self) -> str:
        return {
            "fleet": f"vehicles of '{self.target}'",
            "checkpoint": f"rate of checkpoint '{self.target}' (per hour)",
            "deadline": "deadline (hours after the start)",
        }[self.kind]


def parse_axis(text: str) -> Axis:
    """``fleet:ID=V,V``, ``checkpoint:ID=V,V`` or ``deadline=H,H`` (raises :class:`InputError`)."""
    head, sep, tail = text.partition("=")
    kind, _, target = head.strip().partition(":")
    usage = "use fleet:ID=10,20,30, checkpoint:ID=6,12,24 or deadline=12,16,20"
    if not sep or kind not in ("fleet", "checkpoint", "deadline") or (kind != "deadline") != bool(target):
        raise InputError(f"{text!r} is not a sweep", where="--sweep", hint=usage)
    try:
        values = tuple(float(v) for v in tail.split(",") if v.strip())
    except ValueError:
        raise InputError(f"{tail!r} is not a list of numbers", where="--sweep", hint=usage) from None
    if not values or any(not v > 0 or v != v or v == float("inf") for v in values):
        raise InputError(f"sweep values must be positive numbers, not {tail!r}", where="--sweep", hint=usage)
    if kind == "fleet" and any(v != int(v) for v in values):
        raise InputError("a fleet count is a whole number", where="--sweep", hint=usage)
    return Axis(kind, target.strip(), values)  # type: ignore[arg-type]


def vary(scenario: Scenario, axis: Axis, value: float) -> Scenario:
    """The scenario with ``axis`` set to ``value`` (raises :class:`InputError` for an unknown id)."""
    if axis.kind == "deadline":
        return scenario.model_copy(update={"deadline": scenario.start + timedelta(hours=value)})
    if axis.kind == "fleet":
        ids = [f.id for f in scenario.fleet]
        if axis.target not in ids:
            raise InputError(f"no [[fleet]] entry {axis.target!r}", where="--sweep", hint=f"use one of {ids}")
        fleet = tuple(
            f.model_copy(update={"count": int(value)}) if f.id == axis.target else f for f in scenario.fleet
        )
        return scenario.model_copy(update={"fleet": fleet})
    ids = [c.id for c in scenario.checkpoints]
    if axis.target not in ids:
        raise InputError(
            f"no [[checkpoints]] entry {axis.target!r}", where="--sweep", hint=f"use one of {ids}"
        )
    changed = []
    for c in scenario.checkpoints:
        if c.id == axis.target:
            field = "vehicles_per_hour" if c.vehicles_per_hour is not None else "people_per_hour"
            update: dict[str, float] = {field: value}
            if c.inspection_minutes is not None and field == "vehicles_per_hour":
                update["inspection_minutes"] = min(c.inspection_minutes, 60.0 / value)
            c = c.model_copy(update=update)
        changed.append(c)
    return scenario.model_copy(update={"checkpoints": tuple(changed)})


@dataclass(frozen=True)
class SweepPoint:
    value: float
    planned_out: int
    result: RiskResult


__all__ = ["Axis", "AxisKind", "SweepPoint", "parse_axis", "vary"]
