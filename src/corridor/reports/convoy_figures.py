"""The convoy timeline: a Gantt chart with a row per vehicle, as a PNG (or SVG) and as rows for a web page.

Each trip is cut into what the vehicle does: ``approach`` (driving empty to the gathering point),
``wait`` (there before boarding starts), ``boarding``, ``haul`` (driving loaded), ``queue`` (at a
checkpoint before its inspection slot; known only with the problem, else part of the haul),
``inspection`` and ``unloading``. The deadline and, given the :class:`ConvoyProblem`, the closures are
marked. :func:`timeline_rows` gives the same pieces as plain dicts for an HTML/SVG drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator

from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.problem.convoy import ConvoyProblem

KINDS: tuple[str, ...] = ("approach", "wait", "boarding", "haul", "queue", "inspection", "unloading")
COLOURS: dict[str, str] = {
    "approach": "#7f8c8d",
    "wait": "#d5dbdb",
    "boarding": "#2471a3",
    "haul": "#e67e22",
    "queue": "#f4d03f",
    "inspection": "#c0392b",
    "unloading": "#229954",
}
CLOSURE_COLOUR = "#5b2c6f"


def _checkpoint_arrival(trip: Trip, node: str, problem: ConvoyProblem | None) -> int | None:
    """Step the loaded vehicle reaches checkpoint node ``node`` (``None`` if unknown)."""
    if problem is None or node not in trip.haul.nodes:
        return None
    k = trip.haul.nodes.index(node)
    if k == 0:
        return trip.haul.start
    arc = problem.network.arc_index.get((trip.haul.nodes[k - 1], node))
    if arc is None or trip.vehicle not in problem.vehicle_ids:
        return None
    kind = int(problem.vehicle_type[problem.vehicle_ids.index(trip.vehicle)])
    return trip.haul.departures[k - 1] + int(problem.arc_steps[kind, arc])


def _pieces(trip: Trip, problem: ConvoyProblem | None) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, where) of one trip, in time order, without empty pieces."""
    out = [
        ("approach", trip.approach.start, trip.approach.arrival, trip.gathering),
        ("wait", trip.approach.arrival, trip.board_start, trip.gathering),
        ("boarding", trip.board_start, trip.board_end, trip.gathering),
    ]
    nodes: dict[str, str] = {}
    if problem is not None:
        flow = problem.flow
        ids = flow.network.node_ids
        nodes = {
            c: ids[int(n)] for c, n in zip(flow.checkpoint_ids, flow.checkpoint_node.tolist(), strict=True)
        }
    cursor = trip.haul.start
    for inspection in trip.inspections:
        reached = _checkpoint_arrival(trip, nodes.get(inspection.checkpoint, ""), problem)
        if reached is not None and cursor <= reached <= inspection.start:
            out.append(("haul", cursor, reached, trip.reception))
            out.append(("queue", reached, inspection.start, inspection.checkpoint))
        else:
            out.append(("haul", cursor, inspection.start, trip.reception))
        out.append(("inspection", inspection.start, inspection.end, inspection.checkpoint))
        cursor = inspection.end
    out.append(("haul", cursor, trip.haul.arrival, trip.reception))
    out.append(("unloading", trip.haul.arrival, trip.unload_end, trip.reception))
    return [p for p in out if p[2] > p[1]]


def timeline_rows(plan: ConvoyPlan, problem: ConvoyProblem | None = None) -> list[dict[str, Any]]:
    """Every piece of every trip: vehicle, trip, kind, where, people, start/end steps, clock times.

    ``start_time``/``end_time`` are ISO 8601 on the scenario's clock, ``start_clock``/``end_clock`` are
    ``HH:MM``. Rows are in the plan's vehicle order, then in time.
    """
    rows: list[dict[str, Any]] = []
    for vehicle in plan.vehicles:
        for trip in plan.trips_of(vehicle):
            for kind, start, end, where in _pieces(trip, problem):
                begin, finish = plan.time_of(start), plan.time_of(end)
                rows.append(
                    {
                        "vehicle": vehicle,
                        "trip": trip.number,
                        "kind": kind,
                        "where": where,
                        "people": trip.people,
                        "start": start,
                        "end": end,
                        "start_time": begin.isoformat(),
                        "end_time": finish.isoformat(),
                        "start_clock": begin.strftime("%H:%M"),
                        "end_clock": finish.strftime("%H:%M"),
                    }
                )
    return rows


def closure_spans(problem: ConvoyProblem) -> list[dict[str, Any]]:
    """The closures of the problem as (what, start, end) steps; a road closed both ways is one."""
    flow = problem.flow
    ids = flow.network.node_ids
    seen: set[tuple[str, int, int]] = set()
    spans: list[dict[str, Any]] = []
    windows = flow.node_closed
    for node, a, b in zip(windows.item.tolist(), windows.begin.tolist(), windows.end.tolist(), strict=True):
        what = ids[int(node)]
        if (what, a, b) not in seen:
            seen.add((what, a, b))
            spans.append({"what": what, "kind": "node", "start": int(a), "end": int(b)})
    windows = flow.arc_closed
    net = flow.network
    for arc, a, b in zip(windows.item.tolist(), windows.begin.tolist(), windows.end.tolist(), strict=True):
        ends = sorted((ids[int(net.tail[arc])], ids[int(net.head[arc])]))
        what = f"{ends[0]} – {ends[1]}"
        if (what, a, b) not in seen:
            seen.add((what, a, b))
            spans.append({"what": what, "kind": "road", "start": int(a), "end": int(b)})
    return sorted(spans, key=lambda s: (s["start"], s["what"]))


def timeline_png(plan: ConvoyPlan, path: Path, problem: ConvoyProblem | None = None) -> Path:
    """The Gantt chart of ``plan`` written to ``path`` (PNG or SVG by its extension)."""
    vehicles = list(plan.vehicles)
    rows = timeline_rows(plan, problem)
    height = 1.6 + 0.24 * max(len(vehicles), 1)
    fig, ax = plt.subplots(figsize=(13, height))
    lane = {v: i for i, v in enumerate(vehicles)}
    for kind in KINDS:
        for v in vehicles:
            bars = [
                (r["start"], r["end"] - r["start"]) for r in rows if r["vehicle"] == v and r["kind"] == kind
            ]
            if bars:
                ax.broken_barh(bars, (lane[v] - 0.38, 0.76), facecolors=COLOURS[kind], linewidth=0)
    handles: list[Any] = [Patch(facecolor=COLOURS[k], label=k) for k in KINDS]
    if problem is not None:
        for k, span in enumerate(closure_spans(problem)):
            label = f"closed: {span['what']} {_clock(plan, span['start'])}–{_clock(plan, span['end'])}"
            hatch = "////" if k % 2 == 0 else "\\\\\\\\"
            ax.axvspan(
                span["start"],
                span["end"],
                facecolor="none",
                edgecolor=CLOSURE_COLOUR,
                hatch=hatch,
                linewidth=0.0,
                alpha=0.5,
                zorder=0,
            )
            # and a strip in a lane of its own above the vehicles, which the bars never hide
            ax.broken_barh([(span["start"], span["end"] - span["start"])], (-1.1, 0.45), color=CLOSURE_COLOUR)
            handles.append(Patch(facecolor="none", edgecolor=CLOSURE_COLOUR, hatch=hatch, label=label))
    ax.axvline(plan.horizon, color="black", linestyle="--", linewidth=1.4)
    handles.append(
        Line2D([], [], color="black", linestyle="--", label=f"deadline {_clock(plan, plan.horizon)}")
    )
    closures = problem is not None and bool(closure_spans(problem))
    top = -1.25 if closures else -0.5
    ticks: list[float] = list(range(len(vehicles)))
    labels = list(vehicles)
    if closures:
        ticks, labels = [-0.875, *ticks], ["closed", *labels]
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set_ylim(len(vehicles) - 0.5, top)
    end = max([plan.horizon, *(r["end"] for r in rows)])
    ax.set_xlim(0, end + max(1, end // 50))
    hour = max(1, round(60 / plan.dt))
    ax.xaxis.set_major_locator(MultipleLocator(hour * (2 if end > 24 * hour else 1)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _clock(plan, int(x))))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(f"time (UTC{_offset(plan)}), from {plan.start:%Y-%m-%d %H:%M}")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        f"{plan.scenario}: {plan.evacuated:,} of {plan.evacuees:,} out by the deadline, "
        f"{len(plan.trips)} trips of {len({t.vehicle for t in plan.trips})} vehicles ({plan.method})"
    )
    below = -0.55 / max(height - 1.2, 0.5)  # just under the axis label, in axes fractions
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, below), ncol=5, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _clock(plan: ConvoyPlan, step: int) -> str:
    return plan.time_of(step).strftime("%H:%M")


def _offset(plan: ConvoyPlan) -> str:
    delta = plan.start.utcoffset()
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"{'+' if minutes >= 0 else '-'}{hours:02d}:{rest:02d}"


__all__ = ["COLOURS", "KINDS", "closure_spans", "timeline_png", "timeline_rows"]
