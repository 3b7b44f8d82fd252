"""Fastest drives of one vehicle type between two nodes, leaving at a given step, around closures.

A vehicle may wait at any node. Road ``a`` may be taken at step ``d`` when neither the road nor its
tail node is closed at ``d`` and its head node is not closed at ``d + steps[a]``. Waiting keeps the
order of arrivals (FIFO), so a label-setting search (Dijkstra on arrival steps) finds the earliest
arrival. When the static fastest path (no closures, but without the roads closed throughout the
window) is open at the times it would be driven, it is the answer; only otherwise is the
time-dependent search run. Answers are cached.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridor.problem.convoy import ConvoyProblem
from corridor.problem.model import IntArray, Windows

NEVER = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Path:
    """Nodes (indices) driven, the departure step from each but the last, and the arrival step."""

    nodes: tuple[int, ...]
    departures: tuple[int, ...]
    arrival: int


def _by_item(windows: Windows, n: int) -> list[list[tuple[int, int]]]:
    out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for item, a, b in zip(windows.item.tolist(), windows.begin.tolist(), windows.end.tolist(), strict=True):
        out[item].append((a, b))
    return out


@dataclass(frozen=True)
class _Route:
    """A static fastest path: its nodes, arcs, the offset of each node from the start, and whether a
    closure touches any of its roads or nodes (if not, it is driven as is at any time)."""

    nodes: tuple[int, ...]
    arcs: tuple[int, ...]
    offsets: tuple[int, ...]
    windowed: bool


@dataclass
class Legs:
    """Drives for every vehicle type of ``problem``; ``avoid`` names nodes a drive may not pass through."""

    problem: ConvoyProblem
    _out: list[list[int]] = field(init=False)
    _arc_windows: list[list[tuple[int, int]]] = field(init=False)
    _node_windows: list[list[tuple[int, int]]] = field(init=False)
    _cache: dict[tuple[int, int, int, int, frozenset[int]], Path | None] = field(init=False)
    _static: dict[tuple[int, int, frozenset[int]], tuple[np.ndarray, np.ndarray]] = field(init=False)
    _routes: dict[tuple[int, int, int, frozenset[int]], _Route | None] = field(init=False)
    _hauls: dict[tuple[int, int, int], int] = field(init=False)
    _cp_nodes: frozenset[int] = field(init=False)
    _from: dict[tuple[int, int], np.ndarray] = field(init=False)
    _dead_cache: dict[int, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        net = self.problem.network
        self._out = [[] for _ in range(net.n_nodes)]
        for a, u in enumerate(net.tail.tolist()):
            self._out[u].append(a)
        self._arc_windows = _by_item(self.problem.flow.arc_closed, net.n_arcs)
        self._node_windows = _by_item(self.problem.flow.node_closed, net.n_nodes)
        self._cache = {}
        self._static = {}
        self._routes = {}
        self._hauls = {}
        self._from = {}
        self._dead_cache = {}
        self._cp_nodes = frozenset(int(v) for v in self.problem.flow.checkpoint_node.tolist())

    # -- static (no closures but those of the whole window) -----------------------------------------
    def _static_tree(self, kind: int, origin: int, avoid: frozenset[int]) -> tuple[np.ndarray, np.ndarray]:
        key = (kind, origin, avoid)
        hit = self._static.get(key)
        if hit is not None:
            return hit
        net = self.problem.network
        steps = self.problem.arc_steps[kind]
        keep = ~self._dead(kind)
        if avoid:
            bad = np.fromiter(avoid, dtype=np.int64)
            keep &= ~np.isin(net.head, bad) & ~np.isin(net.tail, bad)
        tail, head, w = net.tail[keep], net.head[keep], steps[keep].astype(np.float64)
        order = np.lexsort((w, head, tail))
        tail, head, w = tail[order], head[order], w[order]
        first = np.ones(len(tail), dtype=bool)
        first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        graph = csr_matrix((w[first], (tail[first], head[first])), shape=(net.n_nodes, net.n_nodes))
        dist, pred = dijkstra(graph, indices=origin, return_predecessors=True)
        self._static[key] = (dist, pred)
        return dist, pred

    def _dead(self, kind: int) -> np.ndarray:
        """Roads closed throughout the window: no departure at any step up to the deadline is open
        (the road or its tail closed from step 0 past the deadline, or its head past the arrival).
        They are left out of the static drives, which stay lower bounds of every drive by then."""
        hit = self._dead_cache.get(kind)
        if hit is not None:
            return hit
        net = self.problem.network
        steps = self.problem.arc_steps[kind]
        horizon = self.problem.horizon
        dead = np.zeros(net.n_arcs, dtype=bool)
        for a in range(net.n_arcs):
            u, v, s = int(net.tail[a]), int(net.head[a]), int(steps[a])
            dead[a] = (
                any(b0 <= 0 and b1 > horizon for b0, b1 in self._arc_windows[a])
                or any(b0 <= 0 and b1 > horizon for b0, b1 in self._node_windows[u])
                or any(b0 <= s and b1 > horizon + s for b0, b1 in self._node_windows[v])
            )
        self._dead_cache[kind] = dead
        return dead

    def static_from(self, kind: int, origin: int) -> np.ndarray:
        """Steps of the fastest drive with no closure from ``origin`` to every node (NEVER if none)."""
        key = (kind, origin)
        hit = self._from.get(key)
        if hit is None:
            dist, _ = self._static_tree(kind, origin, frozenset())
            hit = np.where(np.isfinite(dist), dist, float(NEVER)).astype(np.int64)
            self._from[key] = hit
        return hit

    def static_steps(self, kind: int, origin: int, target: int, avoid: frozenset[int] = frozenset()) -> int:
        """Steps of the fastest drive with no closure (a lower bound on every drive); NEVER if none."""
        if origin == target:
            return 0
        dist, _ = self._static_tree(kind, origin, avoid - {origin, target})
        d = dist[target]
        return int(d) if np.isfinite(d) else int(NEVER)

    def _static_path(self, kind: int, origin: int, target: int, avoid: frozenset[int]) -> list[int] | None:
        dist, pred = self._static_tree(kind, origin, avoid)
        if not np.isfinite(dist[target]):
            return None
        nodes = [target]
        while nodes[-1] != origin:
            nodes.append(int(pred[nodes[-1]]))
        return nodes[::-1]

    # -- closures --------------------------------------------------------------------------------
    def earliest_departure(self, kind: int, arc: int, ready: int) -> int:
        """First step ``>= ready`` at which road ``arc`` may be taken (NEVER if none)."""
        net = self.problem.network
        s = int(self.problem.arc_steps[kind, arc])
        u, v = int(net.tail[arc]), int(net.head[arc])
        aw, uw, vw = self._arc_windows[arc], self._node_windows[u], self._node_windows[v]
        d = ready
        if not (aw or uw or vw):
            return d
        moved = True
        while moved:
            moved = False
            for a, b in aw:
                if a <= d < b:
                    d, moved = b, True
            for a, b in uw:
                if a <= d < b:
                    d, moved = b, True
            for a, b in vw:
                if a <= d + s < b:
                    d, moved = b - s, True
            if d >= NEVER // 2:
                return int(NEVER)
        return d

    def _arc_between(self, kind: int, u: int, v: int) -> list[int]:
        net = self.problem.network
        arcs = [a for a in self._out[u] if int(net.head[a]) == v]
        dead = self._dead(kind)
        # roads closed throughout last (a static path never takes them, see _dead)
        return sorted(arcs, key=lambda a: (bool(dead[a]), int(self.problem.arc_steps[kind, a])))

    def _route(self, kind: int, origin: int, target: int, avoid: frozenset[int]) -> _Route | None:
        key = (kind, origin, target, avoid)
        if key in self._routes:
            return self._routes[key]
        nodes = self._static_path(kind, origin, target, avoid)
        route: _Route | None = None
        if nodes is not None:
            arcs = tuple(self._arc_between(kind, u, v)[0] for u, v in itertools.pairwise(nodes))
            steps = self.problem.arc_steps[kind]
            offsets = [0]
            for a in arcs:
                offsets.append(offsets[-1] + int(steps[a]))
            windowed = any(self._arc_windows[a] for a in arcs) or any(self._node_windows[v] for v in nodes)
            route = _Route(tuple(nodes), arcs, tuple(offsets), windowed)
        self._routes[key] = route
        return route

    def _drive_static(self, kind: int, route: _Route, ready: int) -> Path | None:
        """The static path driven without waiting, if every road is open when reached."""
        if not route.windowed:
            return Path(route.nodes, tuple(ready + o for o in route.offsets[:-1]), ready + route.offsets[-1])
        for arc, off in zip(route.arcs, route.offsets, strict=False):
            if self.earliest_departure(kind, arc, ready + off) != ready + off:
                return None
        return Path(route.nodes, tuple(ready + o for o in route.offsets[:-1]), ready + route.offsets[-1])

    def drive(
        self, kind: int, origin: int, target: int, ready: int, avoid: frozenset[int] = frozenset()
    ) -> Path | None:
        """The earliest-arriving drive from ``origin`` (free at ``ready``) to ``target``; None if none."""
        if avoid:
            avoid = avoid - {origin, target}
        if origin == target:
            return Path((origin,), (), ready)
        route = self._route(kind, origin, target, avoid)
        if route is None:
            return None
        if not route.windowed:
            return self._drive_static(kind, route, ready)
        key = (kind, origin, target, ready, avoid)
        if key in self._cache:
            return self._cache[key]
        path = self._drive_static(kind, route, ready)
        if path is None:
            path = self._search(kind, origin, target, ready, avoid)
        self._cache[key] = path
        return path

    def static_haul_steps(self, kind: int, origin: int, target: int) -> int:
        """Steps of the fastest loaded drive with no closure: around every checkpoint, or through one
        with its shortest inspection (a lower bound on every haul); NEVER if none."""
        key = (kind, origin, target)
        hit = self._hauls.get(key)
        if hit is not None:
            return hit
        cps = self._cp_nodes
        best = self.static_steps(kind, origin, target, avoid=cps)
        for c, node in enumerate(self.problem.flow.checkpoint_node.tolist()):
            others = cps - {node}
            a = self.static_steps(kind, origin, node, others)
            b = self.static_steps(kind, node, target, others)
            if a < NEVER and b < NEVER:
                best = min(best, a + self.problem.inspection_steps(c, 1) + b)
        self._hauls[key] = best
        return best

    def _search(self, kind: int, origin: int, target: int, ready: int, avoid: frozenset[int]) -> Path | None:
        net = self.problem.network
        steps = self.problem.arc_steps[kind]
        head = net.head
        best: dict[int, int] = {origin: ready}
        back: dict[int, tuple[int, int]] = {}
        heap = [(ready, origin)]
        horizon_cap = self.problem.horizon + int(steps.max(initial=1)) * 4 + 10_000
        while heap:
            t, u = heapq.heappop(heap)
            if t > best.get(u, NEVER):
                continue
            if u == target:
                break
            for a in self._out[u]:
                v = int(head[a])
                if v in avoid:
                    continue
                d = self.earliest_departure(kind, a, t)
                if d >= horizon_cap:
                    continue
                arrive = d + int(steps[a])
                if arrive < best.get(v, NEVER):
                    best[v] = arrive
                    back[v] = (u, d)
                    heapq.heappush(heap, (arrive, v))
        if target not in best:
            return None
        nodes, deps = [target], []
        while nodes[-1] != origin:
            u, d = back[nodes[-1]]
            nodes.append(u)
            deps.append(d)
        return Path(tuple(nodes[::-1]), tuple(deps[::-1]), best[target])


def node_ids(problem: ConvoyProblem, nodes: IntArray | tuple[int, ...]) -> tuple[str, ...]:
    ids = problem.network.node_ids
    return tuple(ids[int(v)] for v in nodes)


__all__ = ["NEVER", "Legs", "Path", "node_ids"]
