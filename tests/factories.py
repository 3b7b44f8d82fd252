"""Small problems built directly from arrays, for hand-solved and property tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from corridor.core.timeaxis import TimeAxis
from corridor.network.model import network_from_arrays
from corridor.plan.model import Plan, Route
from corridor.problem.model import UNLIMITED, Problem, Windows

START = datetime(2016, 12, 15, 12, 30, tzinfo=UTC)


def windows(rows: Sequence[tuple[int, int, int]]) -> Windows:
    if not rows:
        return Windows.empty()
    arr = np.asarray(rows, dtype=np.int64)
    return Windows(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy())


def problem(
    n_nodes: int,
    arcs: Sequence[tuple[int, int, int, int]],
    *,
    sources: Sequence[tuple[int, int]] | Sequence[tuple[int, int, int]],
    destinations: Sequence[int] | Sequence[tuple[int, int]],
    horizon: int,
    node_cap: dict[int, int] | None = None,
    arc_closed: Sequence[tuple[int, int, int]] = (),
    node_closed: Sequence[tuple[int, int, int]] = (),
    groups: Sequence[tuple[str, int]] = (("general", 1),),
) -> Problem:
    """``arcs``: (tail, head, people per step, steps); ``sources``: (node, people[, group index]);
    ``destinations``: node or (node, capacity). dt is 1 minute."""
    net = network_from_arrays(
        "test",
        [str(v) for v in range(n_nodes)],
        [a[0] for a in arcs],
        [a[1] for a in arcs],
        [a[2] * 60.0 for a in arcs],
        [float(a[3]) for a in arcs],
        x=[float(v) for v in range(n_nodes)],
        y=[0.0] * n_nodes,
    )
    axis = TimeAxis(START, 1.0, horizon)
    caps = np.full(n_nodes, UNLIMITED, dtype=np.int64)
    for v, c in (node_cap or {}).items():
        caps[v] = c
    dests = [(d, UNLIMITED) if isinstance(d, int) else d for d in destinations]
    return Problem(
        name="test",
        network=net,
        axis=axis,
        tau=np.asarray([a[3] for a in arcs], dtype=np.int64).reshape(-1),
        arc_cap=np.asarray([a[2] for a in arcs], dtype=np.int64).reshape(-1),
        node_cap=caps,
        arc_closed=windows(arc_closed),
        node_closed=windows(node_closed),
        source_ids=tuple(f"s{i}" for i in range(len(sources))),
        source_node=np.asarray([s[0] for s in sources], dtype=np.int64),
        source_people=np.asarray([s[1] for s in sources], dtype=np.int64),
        source_group=np.asarray([s[2] if len(s) > 2 else 0 for s in sources], dtype=np.int64),
        group_names=tuple(g[0] for g in groups),
        group_priority=np.asarray([g[1] for g in groups], dtype=np.int64),
        dest_ids=tuple(f"d{i}" for i in range(len(dests))),
        dest_node=np.asarray([d[0] for d in dests], dtype=np.int64),
        dest_cap=np.asarray([d[1] for d in dests], dtype=np.int64),
        checkpoint_ids=tuple(f"c{v}" for v in (node_cap or {})),
        checkpoint_node=np.asarray(list(node_cap or {}), dtype=np.int64),
    )


def plan_of(p: Problem, routes: Sequence[Route], evacuated: int) -> Plan:
    """A plan of ``routes`` for ``p``, as an exact method would state it (for ``Plan.verify``)."""
    return Plan(
        scenario=p.name,
        network=p.network.name,
        method="exact",
        objective="test",
        status="optimal",
        start=START,
        dt=p.axis.dt,
        horizon=p.horizon,
        evacuees=p.people,
        evacuated=evacuated,
        bound=evacuated,
        routes=tuple(routes),
        total_steps=sum(r.people * r.arrival for r in routes),
    )


def exit_grid(k: int, seed: int) -> Problem:
    """People at every node of a k x k grid of two-way roads of random capacity and length, one
    exit joined to two corner nodes by unlimited connectors (2^31 - 1, as TNTP writes them): a
    bottleneck at the exit. Horizon 20 steps, far below the quickest time."""
    rng = np.random.default_rng(seed)
    arcs: list[tuple[int, int, int, int]] = []
    for i in range(k):
        for j in range(k):
            for a, b in ((i, j + 1), (i + 1, j), (i, j - 1), (i - 1, j)):
                if 0 <= a < k and 0 <= b < k:
                    arcs.append((i * k + j, a * k + b, int(rng.integers(1, 6)), int(rng.integers(1, 4))))
    exit_ = k * k
    arcs += [(k * k - 1, exit_, 2**31 - 1, 1), (k * k - 2, exit_, 2**31 - 1, 1)]
    sources = [(v, int(rng.integers(10, 80))) for v in range(k * k)]
    return problem(k * k + 1, arcs, sources=sources, destinations=[exit_], horizon=20)
