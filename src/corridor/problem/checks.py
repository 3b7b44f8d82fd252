"""Checks of a compiled problem: findings that name the source, node or arc concerned."""

from __future__ import annotations

import numpy as np

from corridor.core.findings import Finding, Severity
from corridor.problem.model import Problem
from corridor.problem.reach import UNREACHABLE, steps_to_destinations


def check_problem(problem: Problem) -> list[Finding]:
    """Warnings on what will keep people in: unreachable sources, routes longer than the window."""
    findings: list[Finding] = []
    ids = problem.network.node_ids
    to_dest = steps_to_destinations(problem)
    dt, horizon = problem.axis.dt, problem.horizon
    for sid, node, people in zip(
        problem.source_ids,
        problem.source_node.tolist(),
        problem.source_people.tolist(),
        strict=True,
    ):
        where = f"source {sid} (node {ids[node]})"
        steps = int(to_dest[node])
        if steps >= UNREACHABLE:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "unreachable-source",
                    where,
                    f"{people} people here cannot reach any destination",
                    "check closures and one-way roads, or add a destination they can reach",
                )
            )
        elif steps > horizon:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "route-longer-than-window",
                    where,
                    f"the shortest route takes {steps * dt:g} min, the window {horizon * dt:g} min",
                    "nobody from here can be out by the deadline; extend it or add a closer destination",
                )
            )
    findings += _capacity_findings(problem)
    return findings


def _capacity_findings(problem: Problem) -> list[Finding]:
    findings: list[Finding] = []
    net = problem.network
    zero = np.flatnonzero((problem.arc_cap <= 0) & (net.capacity > 0))
    if len(zero):
        first = int(zero[0])
        findings.append(
            Finding(
                Severity.WARNING,
                "capacity-below-one-per-step",
                f"{len(zero)} roads, e.g. {net.node_ids[net.tail[first]]}->{net.node_ids[net.head[first]]}",
                "capacity rounds down to 0 people per time step, so these roads carry nobody",
                "use a longer time_step or check the capacity units",
            )
        )
    for cid, node in zip(problem.checkpoint_ids, problem.checkpoint_node.tolist(), strict=True):
        if problem.node_cap[node] == 0:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "checkpoint-closed",
                    f"checkpoint {cid} (node {net.node_ids[node]})",
                    "throughput rounds down to 0 people per time step: nobody can pass",
                    "use a longer time_step or check the throughput",
                )
            )
    return findings
