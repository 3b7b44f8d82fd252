# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The planner's inner loops, compiled: the earliest-arrival augmentation, cutting a flow into
paths, and cutting the loops out of paths. The modules that call them say what they compute and
why (``earliest``, ``decompose``, ``loops``); these are the loops only.

Arrays are int64 unless named otherwise; flags are uint8.
"""

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t

ctypedef int64_t i64

cdef i64 ROOT = -2
cdef i64 FREE = -1
cdef i64 INF = (<i64>1) << 40


def augment_by_step(
    const i64[::1] start,
    const int32_t[::1] to,
    i64[::1] rcap,
    const i64[::1] rev,
    const i64[::1] due,
    const uint8_t[::1] is_dest,
    i64 src,
    const i64[::1] order,
    const i64[::1] order_due,
    i64 first,
    i64 last,
    i64[::1] absorbed,
    i64[::1] par,
    uint8_t[::1] tree,
    i64[::1] ts,
    i64[::1] dist,
    i64[::1] counters,
):
    """Successive augmentation for steps ``first .. last`` on the residual network in CSR form
    (``rcap`` in place), one search tree kept throughout; call for consecutive ranges of steps from
    0 with the same state. State: people absorbed at each arrival node, the tree (``par``: the
    residual arc from the parent, -1 none, -2 for the source; ``tree``: attached; ``ts``, ``dist``:
    the checks of a round), ``counters``: pairs taken from ``order`` so far, round, arcs scanned,
    augmentations, parent checks. Before the first call: ``par`` -1 but ``par[src]`` -2,
    ``tree[src]`` 1, the rest 0, counters (0, 1, 0, 0, 0)."""
    cdef i64 n = start.shape[0] - 1
    queue_arr = np.zeros(n + 1, dtype=np.int64)
    queued_arr = np.zeros(n, dtype=np.uint8)
    orphans_arr = np.zeros(n + 1, dtype=np.int64)
    pending_arr = np.zeros(n + 1, dtype=np.int64)
    cdef i64[::1] queue = queue_arr
    cdef uint8_t[::1] queued = queued_arr
    cdef i64[::1] orphans = orphans_arr
    cdef i64[::1] pending = pending_arr
    cdef i64[::1] stats = counters[2:]
    cdef i64 ring = n + 1
    cdef i64 qh = 0, qt = 0, n_orphans = 0, n_pending = 0
    cdef i64 k = counters[0], now = counters[1]
    cdef i64 n_order = order.shape[0]
    cdef i64 tau, v, e, r, q, t, b, j, a, up, o, best, best_d, d, dd, p
    if first == 0:
        queue[qt] = src
        qt += 1
        queued[src] = 1
    with nogil:
        for tau in range(first, last + 1):
            # Pairs that became useful at tau: wake the tree nodes that reach them, whose next
            # scan attaches them.
            while k < n_order and order_due[k] <= tau:
                v = order[k]
                k += 1
                for e in range(start[v], start[v + 1]):
                    q = to[e]
                    if rcap[rev[e]] > 0 and tree[q] and not is_dest[q] and not queued[q]:
                        queued[q] = 1
                        queue[qt] = q
                        qt = (qt + 1) % ring
            while True:
                if n_pending > 0:
                    n_pending -= 1
                    t = pending[n_pending]
                    if not tree[t] or par[t] == FREE:
                        continue
                    b = INF
                    j = t
                    while par[j] != ROOT:
                        a = par[j]
                        if rcap[a] < b:
                            b = rcap[a]
                        j = to[rev[a]]
                    j = t
                    while par[j] != ROOT:
                        a = par[j]
                        rcap[a] -= b
                        rcap[rev[a]] += b
                        up = to[rev[a]]
                        if rcap[a] == 0:
                            par[j] = FREE
                            orphans[n_orphans] = j
                            n_orphans += 1
                        j = up
                    absorbed[t] += b
                    stats[1] += 1
                    now += 1
                    # Re-attach what the augmentation cut off, or let it go (waking its neighbours).
                    while n_orphans > 0:
                        n_orphans -= 1
                        o = orphans[n_orphans]
                        best = -1
                        best_d = INF
                        for e in range(start[o], start[o + 1]):
                            r = rev[e]
                            if rcap[r] <= 0:
                                continue
                            q = to[e]
                            if not tree[q] or is_dest[q] or par[q] == FREE:
                                continue
                            stats[2] += 1
                            # q's depth if its parents lead to the source; the path is marked
                            # with ``now`` so that later checks in this round stop there.
                            d = 0
                            j = q
                            while True:
                                if ts[j] == now:
                                    d += dist[j]
                                    break
                                a = par[j]
                                d += 1
                                if a == ROOT:
                                    ts[j] = now
                                    dist[j] = 0
                                    d -= 1
                                    break
                                if a == FREE:
                                    d = INF
                                    break
                                j = to[rev[a]]
                            if d < INF:
                                j = q
                                dd = d
                                while ts[j] != now:
                                    ts[j] = now
                                    dist[j] = dd
                                    dd -= 1
                                    j = to[rev[par[j]]]
                            if d < best_d:
                                best_d = d
                                best = r
                        if best >= 0:
                            par[o] = best
                            ts[o] = now
                            dist[o] = best_d + 1
                            continue
                        tree[o] = 0
                        for e in range(start[o], start[o + 1]):
                            q = to[e]
                            if not tree[q]:
                                continue
                            if rcap[rev[e]] > 0 and not is_dest[q] and not queued[q]:
                                queued[q] = 1
                                queue[qt] = q
                                qt = (qt + 1) % ring
                            if par[q] == e:
                                par[q] = FREE
                                orphans[n_orphans] = q
                                n_orphans += 1
                    if tree[t] and par[t] != FREE:
                        pending[n_pending] = t
                        n_pending += 1
                    continue
                if qh == qt:
                    break
                p = queue[qh]
                qh = (qh + 1) % ring
                queued[p] = 0
                if not tree[p] or par[p] == FREE:
                    continue
                stats[0] += start[p + 1] - start[p]
                for e in range(start[p], start[p + 1]):
                    if rcap[e] <= 0:
                        continue
                    q = to[e]
                    if tree[q] or due[q] > tau:
                        continue
                    par[q] = e
                    tree[q] = 1
                    ts[q] = ts[p]
                    dist[q] = dist[p] + 1
                    if is_dest[q]:
                        pending[n_pending] = q
                        n_pending += 1
                    elif not queued[q]:
                        queued[q] = 1
                        queue[qt] = q
                        qt = (qt + 1) % ring
    counters[0] = k
    counters[1] = now


def split_line(
    const i64[::1] line_start,
    const i64[::1] line_end,
    const i64[::1] lands,
    const i64[::1] road,
    const i64[::1] step,
    const i64[::1] dest,
    const i64[::1] lands_on,
    const i64[::1] entry_lo,
    const i64[::1] entry_hi,
    const i64[::1] entry_on,
):
    """Follow every segment of the line piece by piece, first in, first out, in rounds of one hop
    (a queue). Returns the trie of paths so far (parent, road, step, depth per node; the entries
    are its first nodes) and the ends (trie node, destination, people). ``lands_on[x]``: the arc
    out at position ``lands[x]`` (where arc ``x``'s people land), ``entry_on`` the same for the
    entries: a segment's pieces are found from there by a short scan."""
    cdef i64 roots = entry_lo.shape[0]
    cdef i64 n_line = line_start.shape[0]
    cdef i64 cap_seg = max(16, 2 * roots + n_line // 4), cap_trie = max(16, roots + n_line)
    cdef i64 cap_end = max(16, roots + n_line // 8)
    seg_lo_a = np.empty(cap_seg, dtype=np.int64)
    seg_hi_a = np.empty(cap_seg, dtype=np.int64)
    seg_path_a = np.empty(cap_seg, dtype=np.int64)
    seg_x_a = np.empty(cap_seg, dtype=np.int64)
    parent_a = np.full(cap_trie, -1, dtype=np.int64)
    arc_a = np.full(cap_trie, -1, dtype=np.int64)
    tstep_a = np.zeros(cap_trie, dtype=np.int64)
    depth_a = np.zeros(cap_trie, dtype=np.int64)
    end_node_a = np.empty(cap_end, dtype=np.int64)
    end_dest_a = np.empty(cap_end, dtype=np.int64)
    end_people_a = np.empty(cap_end, dtype=np.int64)
    cdef i64[::1] seg_lo = seg_lo_a, seg_hi = seg_hi_a, seg_path = seg_path_a, seg_x = seg_x_a
    cdef i64[::1] parent = parent_a, arc = arc_a, tstep = tstep_a, depth = depth_a
    cdef i64[::1] end_node = end_node_a, end_dest = end_dest_a, end_people = end_people_a
    cdef i64 head = 0, tail = 0, n_trie = roots, n_end = 0, i, lo, hi, path, x, a, b, node
    if roots == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), z.copy()
    for i in range(roots):
        seg_lo[i] = entry_lo[i]
        seg_hi[i] = entry_hi[i]
        seg_path[i] = i
        seg_x[i] = entry_on[i]
    tail = roots
    while head < tail:
        lo = seg_lo[head]
        hi = seg_hi[head]
        path = seg_path[head]
        x = seg_x[head]
        head += 1
        while x < n_line and line_end[x] <= lo:
            x += 1
        if x == n_line:
            raise ValueError("a segment lands beyond the line: the flow is not conserved")
        while x < n_line and line_start[x] < hi:
            a = lo if lo > line_start[x] else line_start[x]
            b = hi if hi < line_end[x] else line_end[x]
            if lands[x] < 0:
                if n_end == cap_end:
                    cap_end *= 2
                    end_node_a = np.resize(end_node_a, cap_end)
                    end_dest_a = np.resize(end_dest_a, cap_end)
                    end_people_a = np.resize(end_people_a, cap_end)
                    end_node, end_dest, end_people = end_node_a, end_dest_a, end_people_a
                end_node[n_end] = path
                end_dest[n_end] = dest[x]
                end_people[n_end] = b - a
                n_end += 1
            else:
                node = path
                if road[x] >= 0:
                    if n_trie == cap_trie:
                        cap_trie *= 2
                        parent_a = np.resize(parent_a, cap_trie)
                        arc_a = np.resize(arc_a, cap_trie)
                        tstep_a = np.resize(tstep_a, cap_trie)
                        depth_a = np.resize(depth_a, cap_trie)
                        parent, arc, tstep, depth = parent_a, arc_a, tstep_a, depth_a
                    node = n_trie
                    parent[node] = path
                    arc[node] = road[x]
                    tstep[node] = step[x]
                    depth[node] = depth[path] + 1
                    n_trie += 1
                if tail == cap_seg:  # the queue is a window of the segment arrays
                    if 2 * head >= cap_seg:
                        seg_lo_a[: tail - head] = seg_lo_a[head:tail]
                        seg_hi_a[: tail - head] = seg_hi_a[head:tail]
                        seg_path_a[: tail - head] = seg_path_a[head:tail]
                        seg_x_a[: tail - head] = seg_x_a[head:tail]
                        tail -= head
                        head = 0
                    else:
                        cap_seg *= 2
                        seg_lo_a = np.resize(seg_lo_a, cap_seg)
                        seg_hi_a = np.resize(seg_hi_a, cap_seg)
                        seg_path_a = np.resize(seg_path_a, cap_seg)
                        seg_x_a = np.resize(seg_x_a, cap_seg)
                        seg_lo, seg_hi, seg_path, seg_x = seg_lo_a, seg_hi_a, seg_path_a, seg_x_a
                seg_lo[tail] = lands[x] + a - line_start[x]
                seg_hi[tail] = lands[x] + b - line_start[x]
                seg_path[tail] = node
                seg_x[tail] = lands_on[x]
                tail += 1
            x += 1
    return (
        parent_a[:n_trie].copy(),
        arc_a[:n_trie].copy(),
        tstep_a[:n_trie].copy(),
        depth_a[:n_trie].copy(),
        end_node_a[:n_end].copy(),
        end_dest_a[:n_end].copy(),
        end_people_a[:n_end].copy(),
    )


def read_paths(
    const i64[::1] parent,
    const i64[::1] arc,
    const i64[::1] tstep,
    const i64[::1] leaf,
    const i64[::1] hops,
    const i64[::1] off,
    i64[::1] flat_arc,
    i64[::1] flat_step,
):
    """Fill each path's roads and steps by walking up the trie from its leaf; returns the roots."""
    cdef i64 n = leaf.shape[0], r, node, k
    root_a = np.empty(n, dtype=np.int64)
    cdef i64[::1] root = root_a
    with nogil:
        for r in range(n):
            node = leaf[r]
            k = off[r] + hops[r] - 1
            while k >= off[r]:
                flat_arc[k] = arc[node]
                flat_step[k] = tstep[node]
                node = parent[node]
                k -= 1
            root[r] = node
    return root_a


def loop_free_hops(
    const i64[::1] node,
    const i64[::1] first,
    const i64[::1] hops,
    const i64[::1] dest_node,
    i64 n_nodes,
):
    """Per hop of the paths (visits ``node[first[r] .. first[r] + hops[r]]``): is it kept once
    the path ends at its first arrival and its loops are erased?"""
    cdef i64 n = first.shape[0], r, i, h, f, cur, p, total = 0
    for r in range(n):
        total += hops[r]
    kept_a = np.zeros(total, dtype=np.uint8)
    last_a = np.zeros(n_nodes, dtype=np.int64)
    cdef uint8_t[::1] kept = kept_a
    cdef i64[::1] last = last_a
    with nogil:
        for r in range(n):
            f = first[r]
            h = hops[r]
            for i in range(h + 1):  # the path ends where it first reaches its destination
                if node[f + i] == dest_node[r]:
                    h = i
                    break
            for i in range(h + 1):
                last[node[f + i]] = i
            cur = 0
            while True:
                p = last[node[f + cur]]
                if p >= h:
                    break
                kept[f - r + p] = 1  # hop p of path r (hops are laid out without the visit ends)
                cur = p + 1
    return kept_a.view(np.bool_)
