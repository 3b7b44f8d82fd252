"""An independent LP of the discrete evacuation model, solved by HiGHS (scipy's linprog).

Written straight from the time model in ARCHITECTURE.md, with no pruning and no layers, so that it
shares nothing with ``corridor.solve.expand`` but the problem's arrays. Variables: ``x[a,t]``
(departures on arc a at step t), ``w[v,t]`` (waiting at v from t to t+1), ``y[d,t]`` (counted out at
destination d at step t), ``e[s]`` (people leaving source s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from corridor.problem.model import UNLIMITED, Problem


@dataclass
class _Lp:
    n_vars: int = 0

    def block(self, count: int) -> np.ndarray:
        out = np.arange(self.n_vars, self.n_vars + count)
        self.n_vars += count
        return out


Row = tuple[int, int, float]


def _model(
    p: Problem,
) -> tuple[dict[str, np.ndarray], list[Row], list[Row], list[float], np.ndarray]:
    T, n, net = p.horizon, p.n_nodes, p.network
    lp = _Lp()
    x = lp.block(p.n_arcs * (T + 1)).reshape(p.n_arcs, T + 1)
    w = lp.block(n * T).reshape(n, T)
    y = lp.block(len(p.dest_node) * (T + 1)).reshape(len(p.dest_node), T + 1)
    e = lp.block(len(p.source_node))
    upper = np.full(lp.n_vars, np.inf)
    for a in range(p.n_arcs):
        for t in range(T + 1):
            arrive = t + int(p.tau[a])
            closed = bool(p.arc_closed.closed(np.array([a]), np.array([t]))[0])
            closed |= bool(p.node_closed.closed(net.tail[a : a + 1], np.array([t]))[0])
            closed |= bool(p.node_closed.closed(net.head[a : a + 1], np.array([arrive]))[0])
            upper[x[a, t]] = 0 if arrive > T or closed else max(0, int(p.arc_cap[a]))
    upper[e] = p.source_people
    rows: list[tuple[int, int, float]] = []  # equality rows: conservation at (v, t)
    for v in range(n):
        for t in range(T + 1):
            r = v * (T + 1) + t
            rows += [(r, int(x[a, t]), -1.0) for a in np.flatnonzero(net.tail == v)]
            rows += [
                (r, int(x[a, t - int(p.tau[a])]), 1.0)
                for a in np.flatnonzero(net.head == v)
                if t - int(p.tau[a]) >= 0
            ]
            if t < T:
                rows.append((r, int(w[v, t]), -1.0))
            if t > 0:
                rows.append((r, int(w[v, t - 1]), 1.0))
            rows += [(r, int(y[d, t]), -1.0) for d in np.flatnonzero(p.dest_node == v)]
            if t == 0:
                rows += [(r, int(e[s]), 1.0) for s in np.flatnonzero(p.source_node == v)]
    ub_rows: list[tuple[int, int, float]] = []
    ub_rhs: list[float] = []
    for d, cap in enumerate(p.dest_cap.tolist()):
        if cap != UNLIMITED:
            ub_rows += [(len(ub_rhs), int(y[d, t]), 1.0) for t in range(T + 1)]
            ub_rhs.append(cap)
    for v in np.flatnonzero(p.node_cap != UNLIMITED).tolist():
        for t in range(T + 1):
            ub_rows += [(len(ub_rhs), int(x[a, t]), 1.0) for a in np.flatnonzero(net.tail == v)]
            ub_rhs.append(float(p.node_cap[v]))
    return {"y": y, "e": e, "upper": upper}, rows, ub_rows, ub_rhs, np.zeros(lp.n_vars)


def _matrix(rows: list[tuple[int, int, float]], n_rows: int, n_vars: int) -> coo_matrix:
    if not rows:
        return coo_matrix((n_rows, n_vars))
    r, c, v = zip(*rows, strict=True)
    return coo_matrix((v, (r, c)), shape=(n_rows, n_vars))


def lp_optimum(p: Problem) -> tuple[int, int]:
    """(most people out by the horizon, least total arrival time among such flows), with the
    priority levels maximised lexicographically, most urgent first, as the planner does."""
    vars_, rows, ub_rows, ub_rhs, zero = _model(p)
    n_vars = len(zero)
    a_eq = _matrix(rows, p.n_nodes * (p.horizon + 1), n_vars).toarray()
    b_eq = np.zeros(a_eq.shape[0])
    bounds = list(zip(np.zeros(n_vars), vars_["upper"], strict=True))
    a_ub = _matrix(ub_rows, len(ub_rhs), n_vars) if ub_rhs else None
    b_ub = np.asarray(ub_rhs) if ub_rhs else None
    e = vars_["e"]
    level = p.group_priority[p.source_group]
    out = 0
    for k in np.unique(level).tolist():
        row = np.zeros(n_vars)
        row[e[level <= k]] = 1.0
        res = linprog(-row, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert res.status == 0, res.message
        out = round(-res.fun)
        a_eq = np.vstack([a_eq, row])
        b_eq = np.append(b_eq, out)
    cost = np.zeros(n_vars)
    for t in range(p.horizon + 1):
        cost[vars_["y"][:, t]] = t
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return out, round(res.fun)
