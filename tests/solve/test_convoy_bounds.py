"""The flow optimum bounds convoys only where the fluid can do what the vehicles do."""

from __future__ import annotations

from pathlib import Path

from corridor.network.build import load_network
from corridor.problem.convoy import ConvoyProblem, compile_convoy
from corridor.scenario import load_scenario
from corridor.scenario.model import Closure, Scenario
from corridor.solve.convoy import solve_convoy
from corridor.solve.convoy.bounds import convoy_bounds, flow_relaxation
from corridor.solve.convoy.legs import Legs
from corridor.solve.quickest import people_out

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"


def _problem(scenario: Scenario) -> ConvoyProblem:
    problem, findings = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None, findings
    return problem


def _buses(seats: int, count: int) -> Scenario:
    base = load_scenario(EXAMPLE)
    bus, ambulance = base.fleet
    return base.model_copy(
        update={"fleet": (bus.model_copy(update={"seats": seats, "count": count}), ambulance)}
    )


def test_the_examples_flow_optimum_is_a_bound_of_its_convoys() -> None:
    problem = _problem(_buses(50, 80))
    relaxed, why = flow_relaxation(problem)
    assert relaxed is not None and why == ""
    bounds = convoy_bounds(problem, Legs(problem))
    # road capacities never bind in the example: the relaxed optimum is the planner's own
    assert bounds.flow == people_out(problem.flow, problem.horizon)
    plan = solve_convoy(problem, method="greedy")
    assert plan.verify(problem) == []
    assert plan.evacuated <= min(v for v in (bounds.flow, bounds.fleet, bounds.checkpoint) if v is not None)


def test_buses_larger_than_the_flow_models_vehicle_drop_the_flow_bound() -> None:
    """80 buses of 70 seats pass 14 people a step at a checkpoint the flow model limits to 10."""
    problem = _problem(_buses(70, 80))
    relaxed, why = flow_relaxation(problem)
    assert relaxed is None and "checkpoint ramouseh" in why
    bounds = convoy_bounds(problem, Legs(problem))
    assert bounds.flow is None
    plan = solve_convoy(problem, method="greedy")
    assert plan.verify(problem) == []  # the plan's bound is a bound: never below what it brings out
    # and the flow optimum would have been wrong as a bound: the buses beat it
    assert plan.evacuated > people_out(problem.flow, problem.horizon)


def test_a_closure_on_a_road_leaving_a_checkpoint_drops_the_flow_bound() -> None:
    base = _buses(50, 20)
    closed = base.model_copy(
        update={
            "closures": (
                *base.closures,
                Closure(
                    id="x",
                    arc=("ramouseh-checkpoint", "ramouseh-junction"),
                    end=base.deadline.replace(hour=0),
                ),
            )
        }
    )
    relaxed, why = flow_relaxation(_problem(closed))
    assert relaxed is None and "leaving checkpoint ramouseh" in why
