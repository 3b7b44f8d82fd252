"""Capacity-Constrained Route Planning (CCRP), the classic heuristic baseline.

Reference: Q. Lu, B. George, S. Shekhar, "Capacity Constrained Routing Algorithms for Evacuation
Planning: A Summary of Results", SSTD 2005, LNCS 3633, pp. 291-307.

CCRP repeats: over all sources with people left (one priority level at a time, most urgent first),
find the route that arrives earliest at a destination with room left, given the capacity already
reserved; send as many people as the route's bottleneck, the source and the destination allow;
reserve that capacity; until everyone is routed or no route is left.

The search is a time-aware Dijkstra from a super source over the base graph with ``(time, node)``
labels. From node ``u`` reached at step ``t``, arc ``(u, v)`` is taken at the earliest step
``t' >= t`` where the arc has capacity left at ``t'``, neither the arc nor ``u`` is closed at ``t'``,
``v`` is not closed at ``t' + tau``, and, if ``u`` is a checkpoint, its passage capacity at ``t'``
is not used up. Waiting at nodes is unlimited, so the earliest arrival at a node dominates later
ones. Two accelerations leave every answer an earliest-arrival route:

- goal direction (A*): the capacity-free fewest steps to a destination is a consistent lower
  bound; the search stops at the first destination with room left that it settles;
- reuse: reservations only delay routes, so after a route is reserved the labels of the search
  tree stay exact except below a hop that became full (or a source that ran empty). Only that
  subtree is reset and re-entered from its settled neighbours; the search then resumes.

Time model: discrete steps (see ``corridor.problem.model``). Two phases: first CCRP up to the
horizon, level by level; the plan holds exactly these routes (people out by the deadline). Then,
for those left, CCRP goes on past the horizon (up to 16 times the larger of the horizon and the
longest shortest route) on the same reservations, to report CCRP's own time to get everyone out
(``evacuation_steps``, unproved; ``None`` if some cannot get out within that limit).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from corridor.plan.model import Plan, Route
from corridor.problem.model import UNLIMITED, IntArray, Problem, Windows
from corridor.problem.reach import UNREACHABLE, steps_to_destinations, usable_arcs

Progress = Callable[[str], None]
Hop = tuple[int, int]  # (base arc, departure step)
Adjacency = list[list[tuple[int, int, int]]]  # per node: (arc, other end, tau)
_NO_LIMIT = 2**62


def _windows_by_item(windows: Windows) -> dict[int, list[tuple[int, int]]]:
    """Closed windows per arc or node, sorted and merged (overlapping or touching ones joined)."""
    raw: dict[int, list[tuple[int, int]]] = {}
    for item, a, b in zip(windows.item.tolist(), windows.begin.tolist(), windows.end.tolist(), strict=True):
        if b > a:
            raw.setdefault(item, []).append((a, b))
    out: dict[int, list[tuple[int, int]]] = {}
    for item, spans in raw.items():
        merged: list[tuple[int, int]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        out[item] = merged
    return out


def _next_open(spans: list[tuple[int, int]], t: int) -> int:
    """The first step ``>= t`` outside the sorted, merged closed ``spans``."""
    for a, b in spans:
        if t < a:
            return t
        if t < b:
            return b
    return t


def _next_free(skip: dict[int, int], t: int) -> int:
    """The first step ``>= t`` not marked full in ``skip`` (union-find with path compression)."""
    root = t
    while root in skip:
        root = skip[root]
    while t != root:
        nxt = skip[t]
        skip[t] = root
        t = nxt
    return root


def _adjacency(n: int, arcs: IntArray, key: IntArray, other: IntArray, tau: IntArray) -> Adjacency:
    """CSR-style lists of ``(arc, other[arc], tau[arc])`` grouped by ``key[arc]``."""
    arcs = arcs[np.argsort(key[arcs], kind="stable")]
    indptr = np.searchsorted(key[arcs], np.arange(n + 1)).tolist()
    triples = list(zip(arcs.tolist(), other[arcs].tolist(), tau[arcs].tolist(), strict=True))
    return [triples[indptr[v] : indptr[v + 1]] for v in range(n)]


@dataclass
class _Graph:
    """The base graph as Python lists (built once), for the search's inner loop."""

    out_arcs: Adjacency  # per node: (arc, head, tau)
    in_arcs: Adjacency  # per node: (arc, tail, tau)
    plain: list[bool]  # arc never closed, nor its ends, and its tail is no checkpoint
    tail: list[int]
    head: list[int]
    tau: list[int]
    arc_cap: list[int]
    node_cap: list[int]
    potential: list[int]  # capacity-free fewest steps to a destination (lower bound)
    arc_windows: dict[int, list[tuple[int, int]]]
    node_windows: dict[int, list[tuple[int, int]]]


def _build_graph(problem: Problem) -> _Graph:
    net, n = problem.network, problem.n_nodes
    arcs = usable_arcs(problem)
    arc_windows = _windows_by_item(problem.arc_closed)
    node_windows = _windows_by_item(problem.node_closed)
    special = np.zeros(n, dtype=bool)
    special[list(node_windows)] = True
    plain = ~(special[net.tail] | special[net.head] | (problem.node_cap[net.tail] != UNLIMITED))
    plain[list(arc_windows)] = False
    return _Graph(
        out_arcs=_adjacency(n, arcs, net.tail, net.head, problem.tau),
        in_arcs=_adjacency(n, arcs, net.head, net.tail, problem.tau),
        plain=plain.tolist(),
        tail=net.tail.tolist(),
        head=net.head.tolist(),
        tau=problem.tau.tolist(),
        arc_cap=problem.arc_cap.tolist(),
        node_cap=problem.node_cap.tolist(),
        potential=np.minimum(steps_to_destinations(problem), _NO_LIMIT).tolist(),
        arc_windows=arc_windows,
        node_windows=node_windows,
    )


class _Reserved:
    """Capacity used per (arc, step) and (checkpoint, step); full steps are skipped in O(1)."""

    def __init__(self, graph: _Graph) -> None:
        self.graph = graph
        self.arc_used: list[dict[int, int]] = [{} for _ in graph.tail]
        self.arc_full: list[dict[int, int]] = [{} for _ in graph.tail]
        self.node_used: list[dict[int, int]] = [{} for _ in graph.node_cap]
        self.node_full: list[dict[int, int]] = [{} for _ in graph.node_cap]

    def departure(self, arc: int, u: int, t: int, last_arrival: int) -> int:
        """Earliest step ``>= t`` to leave ``u`` on ``arc`` arriving by ``last_arrival``; -1 if none."""
        g = self.graph
        tau = g.tau[arc]
        arc_full = self.arc_full[arc]
        node_full = self.node_full[u] if g.node_cap[u] != UNLIMITED else None
        arc_w = g.arc_windows.get(arc)
        tail_w = g.node_windows.get(u)
        head_w = g.node_windows.get(g.head[arc])
        while t + tau <= last_arrival:
            start = t
            if t in arc_full:
                t = _next_free(arc_full, t)
            if node_full is not None and t in node_full:
                t = _next_free(node_full, t)
            if arc_w:
                t = _next_open(arc_w, t)
            if tail_w:
                t = _next_open(tail_w, t)
            if head_w:
                t = _next_open(head_w, t + tau) - tau
            if t == start:
                return t
        return -1

    def bottleneck(self, hops: list[Hop]) -> int:
        """People who can still take every hop (arc and checkpoint capacity left)."""
        g = self.graph
        amount = _NO_LIMIT
        for arc, dep in hops:
            amount = min(amount, g.arc_cap[arc] - self.arc_used[arc].get(dep, 0))
            u = g.tail[arc]
            if g.node_cap[u] != UNLIMITED:
                amount = min(amount, g.node_cap[u] - self.node_used[u].get(dep, 0))
        return amount

    def reserve(self, hops: list[Hop], amount: int) -> None:
        g = self.graph
        for arc, dep in hops:
            used = self.arc_used[arc][dep] = self.arc_used[arc].get(dep, 0) + amount
            if used >= g.arc_cap[arc]:
                self.arc_full[arc][dep] = dep + 1
            u = g.tail[arc]
            if g.node_cap[u] != UNLIMITED:
                used = self.node_used[u][dep] = self.node_used[u].get(dep, 0) + amount
                if used >= g.node_cap[u]:
                    self.node_full[u][dep] = dep + 1


class _Tree:
    """A resumable earliest-arrival search (A*) from the source nodes of one priority level.

    ``dist``/``pred`` label every reached node; settled nodes (``done``) have exact labels. Heap
    keys are ``(step + potential, potential, node)``: among equal estimates the node nearest a
    destination comes first, so a destination is taken as soon as it is proved best.
    """

    def __init__(self, reserved: _Reserved, goals: set[int], roots: Iterable[int], limit: int) -> None:
        self.graph, self.reserved, self.goals, self.limit = reserved.graph, reserved, goals, limit
        self.dist: dict[int, int] = {}
        self.pred: dict[int, Hop] = {}
        self.kids: dict[int, set[int]] = {}
        self.done: set[int] = set()
        self.goal = -1
        pot = self.graph.potential
        self.heap = [(pot[s], pot[s], s) for s in set(roots) if pot[s] <= limit]
        heapq.heapify(self.heap)
        for _, _, s in self.heap:
            self.dist[s] = 0

    def _label(self, v: int, arrival: int, hop: Hop) -> None:
        old = self.pred.get(v)
        if old is not None:
            self.kids[self.graph.tail[old[0]]].discard(v)
        self.dist[v] = arrival
        self.pred[v] = hop
        self.kids.setdefault(self.graph.tail[hop[0]], set()).add(v)
        pv = self.graph.potential[v]
        heapq.heappush(self.heap, (arrival + pv, pv, v))

    def next_goal(self) -> int | None:
        """The destination with room reached earliest (its label is the arrival), or None."""
        if self.goal in self.done and self.goal in self.goals:
            return self.goal  # still exact and still the earliest: labels never decrease
        heap, dist, done, goals = self.heap, self.dist, self.done, self.goals
        while heap:
            f, h, u = heapq.heappop(heap)
            t = f - h
            if u in done or t != dist.get(u):
                continue
            done.add(u)
            if u in goals:
                self.goal = u
                return u
            self._relax(u, t)
        return None

    def _relax(self, u: int, t: int) -> None:
        g, dist = self.graph, self.dist
        pot, arc_full, plain, limit = g.potential, self.reserved.arc_full, g.plain, self.limit
        for arc, v, tau in g.out_arcs[u]:
            if dist.get(v, _NO_LIMIT) <= t + tau:
                continue  # cannot improve: every departure is at t or later
            if plain[arc]:
                full = arc_full[arc]
                dep = _next_free(full, t) if t in full else t
                if dep + tau + pot[v] > limit:
                    continue
            else:
                dep = self.reserved.departure(arc, u, t, limit - pot[v])
                if dep < 0:
                    continue
            if dep + tau < dist.get(v, _NO_LIMIT):
                self._label(v, dep + tau, (arc, dep))

    def path(self, end: int) -> tuple[int, list[Hop]]:
        """The root node and the hops from it to ``end``."""
        hops: list[Hop] = []
        node = end
        while node in self.pred:
            hop = self.pred[node]
            hops.append(hop)
            node = self.graph.tail[hop[0]]
        hops.reverse()
        return node, hops

    def broken(self, hops: list[Hop]) -> list[int]:
        """Nodes whose label came through a hop of ``hops`` that is now full (arc or checkpoint)."""
        g, r = self.graph, self.reserved
        out: list[int] = []
        for arc, dep in hops:
            if dep in r.arc_full[arc]:
                out.append(g.head[arc])
            u = g.tail[arc]
            if g.node_cap[u] != UNLIMITED and dep in r.node_full[u]:
                out += [c for c in self.kids.get(u, ()) if self.pred[c][1] == dep]
        return out

    def invalidate(self, nodes: list[int]) -> None:
        """Forget the labels of ``nodes`` and below; re-enter them from settled neighbours."""
        removed = self._subtree(nodes)
        for w in removed:
            hop = self.pred.pop(w, None)
            if hop is not None and (parent := self.graph.tail[hop[0]]) not in removed:
                self.kids[parent].discard(w)
            del self.dist[w]
            self.done.discard(w)
            self.kids.pop(w, None)
        for w in removed:
            self._reenter(w)

    def _subtree(self, nodes: list[int]) -> set[int]:
        seen = {v for v in nodes if v in self.dist}
        stack = list(seen)
        while stack:
            for c in self.kids.get(stack.pop(), ()):
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        return seen

    def _reenter(self, w: int) -> None:
        best, hop = _NO_LIMIT, (-1, -1)
        last = self.limit - self.graph.potential[w]
        for arc, x, tau in self.graph.in_arcs[w]:
            if x in self.done:
                dep = self.reserved.departure(arc, x, self.dist[x], last)
                if dep >= 0 and dep + tau < best:
                    best, hop = dep + tau, (arc, dep)
        if hop[0] >= 0:
            self._label(w, best, hop)


class _Ccrp:
    """CCRP state: the graph, the reservations, and the people and room left."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.graph = _build_graph(problem)
        self.reserved = _Reserved(self.graph)
        self.left: list[int] = problem.source_people.tolist()
        big = problem.people + 1
        self.room = [big if c == UNLIMITED else c for c in problem.dest_cap.tolist()]
        self.dests_at: dict[int, list[int]] = {}
        for d, v in enumerate(problem.dest_node.tolist()):
            self.dests_at.setdefault(v, []).append(d)
        self.open_dests = {v for v, ds in self.dests_at.items() if any(self.room[d] for d in ds)}
        self.source_node: list[int] = problem.source_node.tolist()
        self.routes: list[Route] = []
        self.iterations = 0

    def run(self, levels: list[list[int]], limit: int, say: Progress) -> None:
        """CCRP level by level (most urgent first) for routes arriving by ``limit``."""
        for k, level in enumerate(levels):
            roots = [self.source_node[s] for s in level if self.left[s] > 0]
            tree = _Tree(self.reserved, self.open_dests, roots, limit)
            while (end := tree.next_goal()) is not None:
                self.route(tree, level, end)
                if self.iterations % 1000 == 0:
                    say(f"CCRP: {self.iterations:,} routes, {sum(self.left):,} people left")
            say(f"CCRP: priority level {k + 1} done up to step {limit}")

    def route(self, tree: _Tree, level: list[int], end: int) -> None:
        """Send people of ``level`` on the tree's route to ``end``; reserve; repair the tree."""
        origin, hops = tree.path(end)
        src = next(s for s in level if self.left[s] > 0 and self.source_node[s] == origin)
        dest = next(d for d in self.dests_at[end] if self.room[d] > 0)
        amount = min(self.left[src], self.room[dest], self.reserved.bottleneck(hops))
        self.reserved.reserve(hops, amount)
        self.left[src] -= amount
        self.room[dest] -= amount
        if not any(self.room[d] for d in self.dests_at[end]):
            self.open_dests.discard(end)
        self.routes.append(self.make_route(src, dest, hops, amount, tree.dist[end]))
        self.iterations += 1
        broken = tree.broken(hops)
        if not any(self.left[s] > 0 and self.source_node[s] == origin for s in level):
            broken.append(origin)
        tree.invalidate(broken)

    def make_route(self, src: int, dest: int, hops: list[Hop], amount: int, arrival: int) -> Route:
        p = self.problem
        ids = p.network.node_ids
        nodes = (ids[self.source_node[src]], *(ids[self.graph.head[a]] for a, _ in hops))
        return Route(
            source=p.source_ids[src],
            group=p.group_names[int(p.source_group[src])],
            people=amount,
            destination=p.dest_ids[dest],
            nodes=nodes,
            arcs=tuple(a for a, _ in hops),
            departures=tuple(d for _, d in hops),
            arrival=arrival,
        )


def _levels(problem: Problem) -> list[list[int]]:
    """Source indices per priority level, most urgent first."""
    priority = problem.group_priority[problem.source_group]
    return [np.flatnonzero(priority == p).tolist() for p in np.unique(priority).tolist()]


def _late_limit(problem: Problem, graph: _Graph) -> int:
    """How far past the horizon CCRP goes on: 16 x the larger of horizon and longest route."""
    need = problem.source_people > 0
    reach = [graph.potential[v] for v in problem.source_node[need].tolist()]
    longest = max((d for d in reach if d < UNREACHABLE), default=0)
    return 16 * max(problem.horizon, longest, 1)


def _plan(problem: Problem, ccrp: _Ccrp, stats: dict[str, float]) -> Plan:
    routes = [r for r in ccrp.routes if r.arrival <= problem.horizon]
    routes.sort(key=lambda r: (r.departure, r.source, r.arrival))
    everyone = sum(ccrp.left) == 0
    last = max((r.arrival for r in ccrp.routes), default=0)
    stats["iterations"] = float(ccrp.iterations)
    stats["late_routes"] = float(len(ccrp.routes) - len(routes))
    return Plan(
        scenario=problem.name,
        network=problem.network.name,
        method="ccrp",
        objective="earliest",
        status="feasible",
        start=problem.axis.start,
        dt=problem.axis.dt,
        horizon=problem.horizon,
        evacuees=problem.people,
        evacuated=sum(r.people for r in routes),
        bound=problem.people,
        routes=tuple(routes),
        evacuation_steps=last if everyone else None,
        evacuation_steps_proved=False,
        total_steps=sum(r.people * r.arrival for r in routes),
        stats=stats,
    )


def solve_ccrp(problem: Problem, *, progress: Progress | None = None) -> Plan:
    """The CCRP plan for ``problem`` (see the module docstring); ``status`` is "feasible".

    The plan holds the routes arriving by the horizon; ``evacuation_steps`` is CCRP's own time
    for everyone (routing on past the horizon), ``None`` if some cannot get out.
    """
    say = progress or (lambda _: None)
    t0 = time.perf_counter()
    ccrp = _Ccrp(problem)
    levels = _levels(problem)
    t1 = time.perf_counter()
    say(f"CCRP: routing {problem.people:,} people, horizon {problem.horizon} steps")
    ccrp.run(levels, problem.horizon, say)
    if sum(ccrp.left) > 0:
        limit = _late_limit(problem, ccrp.graph)
        say(f"CCRP: {sum(ccrp.left):,} people left at the horizon; going on up to step {limit}")
        ccrp.run(levels, limit, say)
    t2 = time.perf_counter()
    stats = {"build_s": t1 - t0, "solve_s": t2 - t1}
    plan = _plan(problem, ccrp, stats)
    stats["plan_s"] = time.perf_counter() - t2
    return plan
