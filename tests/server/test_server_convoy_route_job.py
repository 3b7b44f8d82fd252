"""The method ``route`` on the service's own Dask cluster, planned as the convoy plan job plans
(:func:`corridor.jobs.convoy.solve_problem`, the jobs' 20 s): its workers are daemonic processes,
which may not start a ``multiprocessing`` child, and the route programme still runs there (in a plain
subprocess). The job's own result is the plan's JSON, which leaves the stats out, so the planning is
submitted to the cluster directly and its plan comes back whole. The programme's coarsest plans on the
East Aleppo example come within seconds of its start."""

from __future__ import annotations

import multiprocessing

import pytest

from corridor.jobs.convoy import solve_problem
from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem, compile_convoy
from corridor.scenario import load_scenario
from corridor.server.runtime import Runtime
from corridor.server.web.plan_cache import find_scenario
from corridor.solve.convoy.legs import Legs
from corridor.solve.convoy.route_start import route_start
from server.conftest import World


def _example(runtime: Runtime) -> ConvoyProblem:
    path = find_scenario(runtime.settings.scenarios_dir, "east-aleppo-2016")
    assert path is not None
    scenario = load_scenario(path)
    problem, _ = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None
    return problem


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the cluster is the point, not the database
def test_the_route_method_runs_its_programme_on_the_clusters_daemonic_workers(world: World) -> None:
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    client = runtime.jobs.connect().client
    # a lambda is sent whole (this module is not importable on the workers)
    daemonic = client.submit(lambda: multiprocessing.current_process().daemon, pure=False)
    assert daemonic.result(timeout=120) is True
    problem = _example(runtime)
    plan: ConvoyPlan = client.submit(solve_problem, problem, "route", pure=False).result(timeout=300)
    assert plan.method == "route"
    assert plan.verify(problem) == []
    stats = plan.stats
    assert stats["route_rungs"] >= 1
    assert "route_no_process" not in stats and "route_failed" not in stats
    # the programme's plan at the finest size it solved there, made here: the same people out
    found = route_start(problem, Legs(problem), columns=int(stats["route_columns"]))
    assert found is not None
    start, bound = found
    assert stats["route_start_people"] == sum(t.people for t in start.trips)
    assert plan.evacuated <= bound
