"""The route map and the clearance curve of a plan, as image files (PNG or SVG by extension)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from corridor.network.model import Network
from corridor.plan.model import Plan
from corridor.problem.model import Problem

MANY_SOURCES = 200  # beyond this, sources are small faint dots under the routes


def has_coordinates(network: Network) -> bool:
    """False when every node sits at one point (a TNTP network read without its node file)."""
    if network.n_nodes < 2:
        return True
    return bool(np.ptp(network.x) > 0 or np.ptp(network.y) > 0)


def route_map(plan: Plan, problem: Problem, path: Path) -> Path:
    """Roads in grey, planned routes in red (width by people), sources, checkpoints, destinations.
    The caller checks :func:`has_coordinates` first: without them every node is drawn at one point."""
    fig = map_figure(plan, problem)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def map_figure(plan: Plan, problem: Problem) -> Figure:
    """The figure of :func:`route_map`."""
    net = problem.network
    fig, ax = plt.subplots(figsize=(9, 9))
    roads = [net.arc_polyline(a) for a in range(net.n_arcs)]
    ax.add_collection(LineCollection(roads, colors="#bbbbbb", linewidths=0.6, zorder=1))
    load = Counter[int]()
    for r in plan.routes:
        for a in r.arcs:
            load[a] += r.people
    if load:
        used = sorted(load)
        people = np.asarray([load[a] for a in used], dtype=float)
        widths = 1.0 + 5.0 * people / people.max()
        lines = [net.arc_polyline(a) for a in used]
        ax.add_collection(LineCollection(lines, colors="#c0392b", linewidths=widths, zorder=2))
    closed = sorted(set(problem.arc_closed.item.tolist()))
    if closed:
        lines = [net.arc_polyline(a) for a in closed]
        ax.add_collection(
            LineCollection(lines, colors="black", linewidths=1.5, linestyles="dashed", zorder=3)
        )
    _points(ax, problem)
    ax.autoscale()
    ax.set_aspect("equal" if net.crs != "EPSG:4326" else 1 / np.cos(np.radians(net.y.mean())))
    ax.set_title(f"{plan.scenario}: {plan.evacuated:,} of {plan.evacuees:,} out by the deadline")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def _points(ax: Axes, problem: Problem) -> None:
    net = problem.network
    s, d, c = problem.source_node, problem.dest_node, problem.checkpoint_node
    if len(s) > MANY_SOURCES:
        # Thousands of sources: small faint dots under the routes, so that they hide nothing.
        label = f"sources ({len(s):,})"
        ax.scatter(net.x[s], net.y[s], s=3, c="#2c3e50", alpha=0.35, linewidths=0, zorder=1.5, label=label)
    else:
        ax.scatter(net.x[s], net.y[s], s=40, c="#2c3e50", marker="o", zorder=4, label="sources")
    ax.scatter(net.x[d], net.y[d], s=80, c="#27ae60", marker="^", zorder=4, label="reception")
    if len(c):
        ax.scatter(net.x[c], net.y[c], s=70, c="#e67e22", marker="s", zorder=4, label="checkpoints")


def clearance_curve(plan: Plan, path: Path) -> Path:
    """People out against time (minutes from the start), with the deadline and the total."""
    arrivals = np.cumsum(plan.arrivals())
    minutes = np.arange(len(arrivals)) * plan.dt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.step(minutes, arrivals, where="post", color="#c0392b", label=f"{plan.method} plan")
    ax.axhline(plan.evacuees, color="#7f8c8d", linestyle=":", label=f"everyone ({plan.evacuees:,})")
    ax.axvline(plan.horizon * plan.dt, color="black", linestyle="--", label="deadline")
    ax.set_xlabel(f"minutes from {plan.start.isoformat()}")
    ax.set_ylabel("people out")
    ax.set_title(f"Clearance: {plan.scenario}")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
