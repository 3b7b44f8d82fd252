"""The risk of a plan as image files (PNG or SVG by extension): a fan chart of people out against time,
a tornado chart of the disruptions' effects, and for a sweep, people out against the swept value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from corridor.simulate.axes import Axis, SweepPoint
from corridor.simulate.risk import PERCENTILES, RiskResult

BAND = "#2c7fb8"


Target = Path | BinaryIO


def _save(fig: Figure, target: Target, fmt: str | None) -> None:
    fig.savefig(target, dpi=110, format=fmt)
    plt.close(fig)


def _fan(ax: Axes, data: dict[str, Any], colour: str = BAND, label: str | None = None) -> None:
    bands = {int(p): np.asarray(v, dtype=float) for p, v in data["bands"].items()}
    hours = np.asarray(data["hours"], dtype=float)
    low, high = PERCENTILES[0], PERCENTILES[-1]
    ax.fill_between(hours, bands[low], bands[high], color=colour, alpha=0.2, linewidth=0)
    ax.fill_between(hours, bands[25], bands[75], color=colour, alpha=0.35, linewidth=0)
    ax.plot(hours, bands[50], color=colour, linewidth=1.6, label=label)


def fan_chart(result: RiskResult | dict[str, Any], target: Target, fmt: str | None = None) -> Target:
    """People out against time: the median run, the middle half and 90 % of the runs (``result`` or
    its :meth:`~RiskResult.chart_data`)."""
    data = result.chart_data() if isinstance(result, RiskResult) else result
    people = int(data["people"])
    fig, ax = plt.subplots(figsize=(9, 5))
    _fan(ax, data, label="median run")
    low, high = PERCENTILES[0], PERCENTILES[-1]
    ax.fill_between([], [], [], color=BAND, alpha=0.35, label="25-75 % of runs")
    ax.fill_between([], [], [], color=BAND, alpha=0.2, label=f"{low}-{high} % of runs")
    ax.axhline(people, color="#555555", linestyle=":", linewidth=1, label=f"everyone ({people:,})")
    ax.axhline(data["planned_out"], color="#d95f0e", linestyle="--", linewidth=1, label="the plan")
    start, end = datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["deadline"])
    ax.set_xlabel(f"hours after {start:%Y-%m-%d %H:%M} (deadline {end:%Y-%m-%d %H:%M})")
    ax.set_ylabel("people out")
    ax.set_xlim(0, data["hours"][-1] if data["hours"] else 1)
    ax.set_ylim(0, people * 1.05 + 1)
    ax.set_title(
        f"{data['scenario']}: people out, {data['runs']:,} runs"
        f" (everyone out in {100 * data['p_all_out']:.1f} %)"
    )
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, target, fmt)
    return target


def tornado_chart(result: RiskResult | dict[str, Any], target: Target, fmt: str | None = None) -> Target:
    """Mean people out with each disruption off and doubled, around the mean as set; the most damaging
    on top."""
    data = result.chart_data() if isinstance(result, RiskResult) else result
    effects = sorted(data["effects"], key=lambda e: abs(e["mean_out_without"] - e["mean_out_doubled"]))
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.55 * max(1, len(effects))))
    if not effects:
        ax.text(0.5, 0.5, "no disruption is set ([risk] table)", ha="center", va="center")
        ax.set_axis_off()
    else:
        base = float(effects[0]["mean_out"])
        y = np.arange(len(effects))
        off = np.asarray([e["mean_out_without"] - base for e in effects])
        doubled = np.asarray([e["mean_out_doubled"] - base for e in effects])
        ax.barh(y, off, color="#1a9850", label="without it")
        ax.barh(y, doubled, color="#d73027", label="doubled")
        labels = [f"{e['disruption']} ({e['field']} = {e['value']:g})" for e in effects]
        ax.set_yticks(y, labels, fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"mean people out, against {base:,.0f} with every disruption as set")
        ax.legend(loc="lower right", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{data['scenario']}: what each disruption costs")
    fig.tight_layout()
    _save(fig, target, fmt)
    return target


def sweep_chart(points: Sequence[SweepPoint], axis: Axis, path: Path) -> Path:
    """People out by the deadline against the swept value (median, middle half, 90 % of runs; the plan)
    and, right, the chance everyone is out."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    x = np.asarray([p.value for p in points])
    q = np.asarray([np.percentile(p.result.out, PERCENTILES) for p in points]).reshape(len(points), -1)
    left.fill_between(x, q[:, 0], q[:, -1], color=BAND, alpha=0.2, linewidth=0, label="5-95 % of runs")
    left.fill_between(x, q[:, 1], q[:, 3], color=BAND, alpha=0.35, linewidth=0, label="25-75 % of runs")
    left.plot(x, q[:, 2], "o-", color=BAND, label="median run")
    left.plot(x, [p.planned_out for p in points], "s--", color="#d95f0e", label="the plan")
    if points:
        left.axhline(points[0].result.people, color="#555555", linestyle=":", linewidth=1, label="everyone")
    left.set_xlabel(axis.label)
    left.set_ylabel("people out by the deadline")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.plot(x, [100 * p.result.p_all_out for p in points], "o-", color="#1a9850", label="everyone out")
    right.plot(
        x, [100 * p.result.p_plan_met for p in points], "s--", color="#d95f0e", label="the plan's figure"
    )
    right.set_ylim(-2, 102)
    right.set_xlabel(axis.label)
    right.set_ylabel("% of runs")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    name = points[0].result.scenario if points else ""
    fig.suptitle(f"{name}: risk against {axis.label}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sweep_fans(points: Sequence[SweepPoint], axis: Axis, path: Path) -> Path:
    """The fan charts of every point of a sweep, one above the other."""
    fig, axes = plt.subplots(len(points), 1, figsize=(9, 2.6 * len(points) + 0.6), squeeze=False)
    for ax, p in zip(axes[:, 0], points, strict=True):
        _fan(ax, p.result.chart_data())
        ax.axhline(p.planned_out, color="#d95f0e", linestyle="--", linewidth=1)
        ax.set_ylim(0, p.result.people * 1.05 + 1)
        ax.set_ylabel("people out")
        ax.set_title(
            f"{axis.label} = {p.value:g}: everyone out in {100 * p.result.p_all_out:.1f} %", fontsize=9
        )
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("hours after the start")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["fan_chart", "sweep_chart", "sweep_fans", "tornado_chart"]
