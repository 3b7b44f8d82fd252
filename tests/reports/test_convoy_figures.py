"""The convoy timeline: its rows cut every trip into pieces without gap or overlap; the PNG shows them."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pytest

from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem, compile_convoy
from corridor.reports.convoy_figures import COLOURS, KINDS, closure_spans, timeline_png, timeline_rows
from corridor.scenario.load import load_scenario
from corridor.solve.convoy import solve_convoy

ALEPPO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


@pytest.fixture(scope="module")
def planned() -> tuple[ConvoyPlan, ConvoyProblem]:
    scenario = load_scenario(ALEPPO)
    problem, findings = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None, findings
    plan = solve_convoy(problem, method="greedy")
    assert plan.verify(problem) == []
    return plan, problem


def by_trip(rows: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    out: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[(r["vehicle"], r["trip"])].append(r)
    return out


@pytest.mark.parametrize("with_problem", [True, False])
def test_rows_cover_each_trip_from_departure_to_unloading(
    planned: tuple[ConvoyPlan, ConvoyProblem], with_problem: bool
) -> None:
    plan, problem = planned
    rows = timeline_rows(plan, problem if with_problem else None)
    trips = by_trip(rows)
    assert set(trips) == {(t.vehicle, t.number) for t in plan.trips}
    for trip in plan.trips:
        pieces = trips[(trip.vehicle, trip.number)]
        assert pieces[0]["start"] == trip.approach.start and pieces[-1]["end"] == trip.unload_end
        for before, after in itertools.pairwise(pieces):
            assert before["end"] == after["start"]  # no gap, no overlap
        assert all(p["end"] > p["start"] and p["kind"] in KINDS for p in pieces)
        inspections = [(p["where"], p["start"], p["end"]) for p in pieces if p["kind"] == "inspection"]
        assert inspections == [(i.checkpoint, i.start, i.end) for i in trip.inspections]
        boarding = [p for p in pieces if p["kind"] == "boarding"]
        assert [(p["start"], p["end"]) for p in boarding] == [(trip.board_start, trip.board_end)]
        unloading = [p for p in pieces if p["kind"] == "unloading"]
        assert [(p["start"], p["end"]) for p in unloading] == [(trip.arrival, trip.unload_end)]
        for p in pieces:
            start = plan.start + timedelta(minutes=p["start"] * plan.dt)
            assert p["start_time"] == start.isoformat() and p["start_clock"] == start.strftime("%H:%M")
    assert (not with_problem) == all(r["kind"] != "queue" for r in rows)


def test_queue_starts_when_the_vehicle_reaches_the_checkpoint(
    planned: tuple[ConvoyPlan, ConvoyProblem],
) -> None:
    plan, problem = planned
    net = problem.network
    queued = [r for r in timeline_rows(plan, problem) if r["kind"] == "queue"]
    assert queued, "on the example, vehicles wait at the Ramouseh checkpoint"
    trips = {(t.vehicle, t.number): t for t in plan.trips}
    checkpoint_node = "ramouseh-checkpoint"
    for row in queued:
        trip = trips[(row["vehicle"], row["trip"])]
        k = trip.haul.nodes.index(checkpoint_node)
        before = trip.haul.nodes[k - 1]
        minutes = min(
            float(net.travel_time[a])
            for a in range(net.n_arcs)
            if net.node_ids[int(net.tail[a])] == before and net.node_ids[int(net.head[a])] == checkpoint_node
        )
        speed = next(p.speed_factor for p in load_scenario(ALEPPO).fleet if row["vehicle"].startswith(p.id))
        steps = max(1, math.ceil(minutes * speed / plan.dt - 1e-9))
        assert row["start"] == trip.haul.departures[k - 1] + steps
        assert row["end"] == next(i.start for i in trip.inspections if i.checkpoint == row["where"])


def test_closures_are_the_scenarios_windows(planned: tuple[ConvoyPlan, ConvoyProblem]) -> None:
    plan, problem = planned
    spans = closure_spans(problem)
    # The example closes the checkpoint 04:00-06:00 on 16 Dec and the short road west (both ways)
    # 22:00-24:00 on 15 Dec: two windows, the road once.
    clock = [
        (s["what"], plan.time_of(s["start"]).strftime("%H:%M"), plan.time_of(s["end"]).strftime("%H:%M"))
        for s in spans
    ]
    assert clock == [
        ("corridor-west-1 – ramouseh-junction", "22:00", "00:00"),
        ("ramouseh-checkpoint", "04:00", "06:00"),
    ]


def _pixels(image: np.ndarray, colour: str) -> int:
    rgb = np.asarray([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float) / 255
    return int(np.count_nonzero(np.all(np.abs(image[..., :3] - rgb) < 1.5 / 255, axis=-1)))


def test_png_draws_every_kind_of_piece(planned: tuple[ConvoyPlan, ConvoyProblem], tmp_path: Path) -> None:
    plan, problem = planned
    path = timeline_png(plan, tmp_path / "timeline.png", problem)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(path)
    assert image.shape[0] > 600  # a lane per vehicle: 33 vehicles make a tall chart
    # The same chart without trips has only the legend's patch of each colour.
    bare = mpimg.imread(timeline_png(replace(plan, trips=()), tmp_path / "bare.png", problem))
    rows = timeline_rows(plan, problem)
    for kind in KINDS:
        drawn = sum(r["end"] - r["start"] for r in rows if r["kind"] == kind)
        if drawn:
            assert _pixels(image, COLOURS[kind]) > _pixels(bare, COLOURS[kind]) + drawn, kind
    assert {"approach", "boarding", "haul", "inspection", "unloading"} <= {r["kind"] for r in rows}


def test_svg_by_extension_and_a_plan_without_trips(
    planned: tuple[ConvoyPlan, ConvoyProblem], tmp_path: Path
) -> None:
    plan, _ = planned
    svg = timeline_png(plan, tmp_path / "timeline.svg")
    assert svg.read_text().lstrip().startswith("<?xml") and "deadline" in svg.read_text()
    empty = replace(plan, trips=())
    assert timeline_rows(empty) == []
    assert timeline_png(empty, tmp_path / "empty.png").stat().st_size > 0
