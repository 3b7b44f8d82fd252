"""The planner's inner loops in plain Python: the readable reference of ``_kernels.pyx``.

Each function has the signature, the arguments and the results of its compiled twin (arrays int64
unless named otherwise, flags uint8, the same arrays changed in place) and follows it statement by
statement, so that a difference between the two points at a line. The property tests compare them
on the planner's own inputs. When the extension is not built, :mod:`corridor.solve.kernels` plans
with these (correct, many times slower).

Where the compiled loops keep fixed arrays (a ring buffer, arrays grown by doubling), these use a
``deque`` and lists: the order of work is the same. The arrays changed in place are read into lists
first (a list is many times faster to index from Python than a numpy array) and written back at the
end.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import NDArray

_I = NDArray[np.int64]

ROOT = -2  # par[] of the source
FREE = -1  # par[] of a node cut off from the tree
INF = 1 << 40


def augment_by_step(
    start: _I,
    to: NDArray[np.int32],
    rcap: _I,
    rev: _I,
    due: _I,
    is_dest: NDArray[np.uint8],
    src: int,
    order: _I,
    order_due: _I,
    first: int,
    last: int,
    absorbed: _I,
    par: _I,
    tree: NDArray[np.uint8],
    ts: _I,
    dist: _I,
    counters: _I,
) -> None:
    """Successive augmentation for steps ``first .. last`` on the residual network in CSR form
    (``rcap`` changed in place), one search tree kept throughout; see ``_kernels.pyx`` for the
    state and ``corridor.solve.earliest`` for what it computes."""
    search = _Search(start, to, rcap, rev, due, is_dest, absorbed, par, tree, ts, dist, counters)
    order_, order_due_ = order.tolist(), order_due.tolist()
    if first == 0:
        search.wake(src)
    for tau in range(first, last + 1):
        # Pairs that became useful at tau: wake the tree nodes that reach them.
        while search.k < len(order_) and order_due_[search.k] <= tau:
            search.wake_parents_of(order_[search.k])
            search.k += 1
        while True:
            if search.pending:
                search.augment(search.pending.pop())
            elif search.queue:
                search.scan(search.queue.popleft(), tau)
            else:
                break
    search.write_back(rcap, absorbed, par, tree, ts, dist, counters)


class _Search:
    """The state of :func:`augment_by_step` as lists (see ``_kernels.pyx``)."""

    def __init__(
        self,
        start: _I,
        to: NDArray[np.int32],
        rcap: _I,
        rev: _I,
        due: _I,
        is_dest: NDArray[np.uint8],
        absorbed: _I,
        par: _I,
        tree: NDArray[np.uint8],
        ts: _I,
        dist: _I,
        counters: _I,
    ) -> None:
        self.start: list[int] = start.tolist()
        self.head: list[int] = to.tolist()
        self.back: list[int] = rev.tolist()
        self.due: list[int] = due.tolist()
        self.dest: list[int] = is_dest.tolist()
        self.cap: list[int] = rcap.tolist()
        self.absorbed: list[int] = absorbed.tolist()
        self.par: list[int] = par.tolist()
        self.tree: list[int] = tree.tolist()
        self.mark: list[int] = ts.tolist()
        self.depth: list[int] = dist.tolist()
        self.k, self.now, self.scanned, self.augmentations, self.checks = (int(c) for c in counters)
        self.queue: deque[int] = deque()
        self.queued = [False] * (len(self.start) - 1)
        self.pending: list[int] = []  # a stack, as in the compiled loop
        self.orphans: list[int] = []

    def wake(self, q: int) -> None:
        self.queued[q] = True
        self.queue.append(q)

    def wake_parents_of(self, v: int) -> None:
        """Wake the tree nodes with a residual arc into ``v``: their next scan attaches it."""
        for e in range(self.start[v], self.start[v + 1]):
            q = self.head[e]
            if self.cap[self.back[e]] > 0 and self.tree[q] and not self.dest[q] and not self.queued[q]:
                self.wake(q)

    def up(self, j: int) -> int:
        """The tree parent of ``j``."""
        return self.head[self.back[self.par[j]]]

    def scan(self, p: int, tau: int) -> None:
        """Attach the nodes that ``p`` reaches and that may be used by step ``tau``."""
        self.queued[p] = False
        if not self.tree[p] or self.par[p] == FREE:
            return
        lo, hi = self.start[p], self.start[p + 1]
        self.scanned += hi - lo
        for e in range(lo, hi):
            q = self.head[e]
            if self.cap[e] <= 0 or self.tree[q] or self.due[q] > tau:
                continue
            self.par[q] = e
            self.tree[q] = 1
            self.mark[q] = self.mark[p]
            self.depth[q] = self.depth[p] + 1
            if self.dest[q]:
                self.pending.append(q)
            elif not self.queued[q]:
                self.wake(q)

    def augment(self, t: int) -> None:
        """Send the bottleneck of the tree path from the source to arrival node ``t``."""
        if not self.tree[t] or self.par[t] == FREE:
            return
        b, j = INF, t
        while self.par[j] != ROOT:
            b = min(b, self.cap[self.par[j]])
            j = self.up(j)
        j = t
        while self.par[j] != ROOT:
            a = self.par[j]
            self.cap[a] -= b
            self.cap[self.back[a]] += b
            above = self.up(j)
            if self.cap[a] == 0:
                self.par[j] = FREE
                self.orphans.append(j)
            j = above
        self.absorbed[t] += b
        self.augmentations += 1
        self.now += 1
        while self.orphans:
            self.adopt(self.orphans.pop())
        if self.tree[t] and self.par[t] != FREE:
            self.pending.append(t)

    def adopt(self, o: int) -> None:
        """Re-attach orphan ``o`` to its shallowest neighbour still rooted at the source, or let
        it go (waking its neighbours; its children become orphans)."""
        best, best_d = -1, INF
        for e in range(self.start[o], self.start[o + 1]):
            r = self.back[e]
            q = self.head[e]
            if self.cap[r] <= 0 or not self.tree[q] or self.dest[q] or self.par[q] == FREE:
                continue
            self.checks += 1
            d = self.rooted_depth(q)
            if d < best_d:
                best_d, best = d, r
        if best >= 0:
            self.par[o] = best
            self.mark[o] = self.now
            self.depth[o] = best_d + 1
            return
        self.tree[o] = 0
        for e in range(self.start[o], self.start[o + 1]):
            q = self.head[e]
            if not self.tree[q]:
                continue
            if self.cap[self.back[e]] > 0 and not self.dest[q] and not self.queued[q]:
                self.wake(q)
            if self.par[q] == e:
                self.par[q] = FREE
                self.orphans.append(q)

    def rooted_depth(self, q: int) -> int:
        """q's depth if its parents lead to the source (else INF); the path is marked with the
        augmentation count so that later checks of this round stop there."""
        d, j = 0, q
        while True:
            if self.mark[j] == self.now:
                d += self.depth[j]
                break
            a = self.par[j]
            if a == ROOT:
                self.mark[j], self.depth[j] = self.now, 0
                break
            if a == FREE:
                return INF
            d += 1
            j = self.head[self.back[a]]
        j, dd = q, d
        while self.mark[j] != self.now:
            self.mark[j], self.depth[j] = self.now, dd
            dd -= 1
            j = self.up(j)
        return d

    def write_back(
        self, rcap: _I, absorbed: _I, par: _I, tree: NDArray[np.uint8], ts: _I, dist: _I, counters: _I
    ) -> None:
        rcap[:] = self.cap
        absorbed[:] = self.absorbed
        par[:] = self.par
        tree[:] = self.tree
        ts[:] = self.mark
        dist[:] = self.depth
        counters[:] = (self.k, self.now, self.scanned, self.augmentations, self.checks)


def split_line(
    line_start: _I,
    line_end: _I,
    lands: _I,
    road: _I,
    step: _I,
    dest: _I,
    lands_on: _I,
    entry_lo: _I,
    entry_hi: _I,
    entry_on: _I,
) -> tuple[_I, _I, _I, _I, _I, _I, _I]:
    """Follow every segment of the line piece by piece, first in, first out, in rounds of one hop.
    Returns the trie of paths (parent, road, step, depth per node; its first nodes are the entries)
    and the ends (trie node, destination, people); see ``_kernels.pyx``."""
    lo_of, hi_of, lands_, road_ = line_start.tolist(), line_end.tolist(), lands.tolist(), road.tolist()
    step_, dest_, lands_on_ = step.tolist(), dest.tolist(), lands_on.tolist()
    n_line, roots = len(lo_of), len(entry_lo)
    parent, arc, tstep, depth = [-1] * roots, [-1] * roots, [0] * roots, [0] * roots
    ends: list[tuple[int, int, int]] = []
    # A segment: people [lo, hi) of the line, on trie node ``path``, to look up from position x.
    segments = deque(zip(entry_lo.tolist(), entry_hi.tolist(), range(roots), entry_on.tolist(), strict=True))
    while segments:
        lo, hi, path, x = segments.popleft()
        while x < n_line and hi_of[x] <= lo:
            x += 1
        if x == n_line:
            raise ValueError("a segment lands beyond the line: the flow is not conserved")
        while x < n_line and lo_of[x] < hi:
            a, b = max(lo, lo_of[x]), min(hi, hi_of[x])
            if lands_[x] < 0:  # the piece arrives at a destination
                ends.append((path, dest_[x], b - a))
            else:
                node = path
                if road_[x] >= 0:  # a road (not a checkpoint passage): one more hop in the trie
                    node = len(parent)
                    parent.append(path)
                    arc.append(road_[x])
                    tstep.append(step_[x])
                    depth.append(depth[path] + 1)
                offset = lands_[x] - lo_of[x]
                segments.append((a + offset, b + offset, node, lands_on_[x]))
            x += 1
    columns = [parent, arc, tstep, depth, *([e[i] for e in ends] for i in range(3))]
    p, r, t, d, e_node, e_dest, e_people = (np.asarray(c, dtype=np.int64) for c in columns)
    return p, r, t, d, e_node, e_dest, e_people


def read_paths(
    parent: _I, arc: _I, tstep: _I, leaf: _I, hops: _I, off: _I, flat_arc: _I, flat_step: _I
) -> _I:
    """Fill each path's roads and steps (``flat_arc``, ``flat_step`` over ``off[r] ..
    off[r] + hops[r] - 1``) by walking up the trie from its leaf; returns the roots."""
    up, roads, steps = parent.tolist(), arc.tolist(), tstep.tolist()
    out_arc, out_step = flat_arc.tolist(), flat_step.tolist()
    root = np.empty(len(leaf), dtype=np.int64)
    for r, (node, h, o) in enumerate(zip(leaf.tolist(), hops.tolist(), off.tolist(), strict=True)):
        for k in range(o + h - 1, o - 1, -1):
            out_arc[k] = roads[node]
            out_step[k] = steps[node]
            node = up[node]
        root[r] = node
    flat_arc[:] = out_arc
    flat_step[:] = out_step
    return root


def loop_free_hops(node: _I, first: _I, hops: _I, dest_node: _I, n_nodes: int) -> NDArray[np.bool_]:
    """Per hop of the paths (visits ``node[first[r] .. first[r] + hops[r]]``): is it kept once the
    path ends at its first arrival and its loops are erased?"""
    visits = node.tolist()
    kept = np.zeros(int(hops.sum()), dtype=np.bool_)
    for r, (f, h, d) in enumerate(zip(first.tolist(), hops.tolist(), dest_node.tolist(), strict=True)):
        path = visits[f : f + h + 1]
        if d in path:  # the path ends where it first reaches its destination
            h = path.index(d)
        last = {v: i for i, v in enumerate(path[: h + 1])}  # the last visit of each node
        cur = 0
        while (p := last[path[cur]]) < h:
            kept[f - r + p] = True  # hop p of path r (hops are laid out without the visit ends)
            cur = p + 1
    return kept
