"""The fast pass of ``Plan.verify``: every check of the route-by-route verifier, at once over all
routes and hops with numpy.

It answers one question: is the plan certainly feasible? ``True`` only when every check passes:
each route known by its source, destination and group, its people whole and positive, its roads a
connected path from its source to its destination (arc indices in the network), no hop leaving
before the last one arrived, its arrival that of its roads and by the horizon, its node list that of
its roads; per road and step no more people than the road's capacity, per checkpoint and step no
more than its throughput, no road or place used while closed; no source sending more people than it
has, no reception point receiving more than its capacity, and the plan's own figures those of its
routes.

``False`` when any check fails, and also whenever the plan holds something this pass does not read
(values that are not plain ``int`` or ``str``, node lists that are not tuples, ids repeated in the
problem, sums that might not fit in 64 bits): :mod:`corridor.plan.verify` then walks the plan route
by route, which finds and words each violation (and accepts a plan that is only unusual). So this
pass never changes a verdict or a message; it only spares the walk for plans that are right.

Planner plans (a :class:`~corridor.plan.routes.RouteTable`) are read from their columns without
making a ``Route`` per route; other plans (a plan file, an upload) from their routes' fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
from numpy.typing import NDArray

from corridor.plan.model import Plan
from corridor.plan.route import Route
from corridor.plan.routes import RouteColumns, RouteTable
from corridor.problem.model import UNLIMITED, IntArray, Problem

BIG = 2**62  # beyond any count of people or steps (and within int64)
_EXACT = 2**53  # sums of people below this are exact in float64 (np.bincount's weights)
_INT64 = 2**63
# Loads per (road or checkpoint, step) are counted in one dense array when it has at most 4 entries
# per hop plus this many; else (long horizons, few hops) only the pairs in use are (sorted).
DENSE_EXTRA = 2**16


def is_whole(value: object) -> bool:
    """An integer that is not a bool (Python's or numpy's)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


@dataclass(frozen=True)
class Flat:
    """A plan's routes as arrays in the problem's numbering: route ``r`` takes ``people[r]`` from
    source ``src[r]`` to reception point ``dst[r]`` over ``hops[r]`` hops, arriving at step
    ``arrival[r]``; the hops of all routes one route after another (``arc``, ``dep``), and their
    node lists likewise (``hops[r] + 1`` nodes each, ``-1`` for a node id not in the network)."""

    src: IntArray
    dst: IntArray
    people: IntArray
    arrival: IntArray
    hops: IntArray
    arc: IntArray
    dep: IntArray
    node: IntArray


def certainly_feasible(plan: Plan, problem: Problem) -> bool:
    """``True`` when the route-by-route verifier would find nothing (see the module's text)."""
    if not _plan_fields_hold(plan, problem) or not _ids_unique(problem):
        return False
    routes = plan.routes
    flat = (
        _from_columns(routes.columns, problem)
        if isinstance(routes, RouteTable)
        else _from_routes(routes, problem)
    )
    if flat is None or not _fits(flat, problem):
        return False
    return (
        _paths_hold(flat, problem)
        and _flow_holds(flat, problem)
        and _closures_hold(flat, problem)
        and _totals_hold(flat, plan, problem)
    )


def _plan_fields_hold(plan: Plan, problem: Problem) -> bool:
    dt_ok = isinstance(plan.dt, int | float) and not isinstance(plan.dt, bool) and plan.dt == problem.axis.dt
    figures = (plan.horizon, plan.evacuated, plan.bound, plan.total_steps, plan.evacuees)
    return (
        dt_ok
        and all(is_whole(v) for v in figures)
        and plan.horizon == problem.horizon
        and plan.evacuees == problem.people
        and plan.evacuated <= plan.bound
    )


def _ids_unique(problem: Problem) -> bool:
    """Repeated ids would make a look-up by id ambiguous: left to the reference (a network's node
    ids are unique, :class:`~corridor.network.model.Network` checks that)."""
    return all(len(set(ids)) == len(ids) for ids in (problem.source_ids, problem.dest_ids))


def _index(ids: Sequence[str]) -> dict[str, int]:
    return {name: k for k, name in enumerate(ids)}


def _strings(values: Sequence[object]) -> bool:
    return set(map(type, values)) <= {str}


def _lookup(names: Sequence[object], index: dict[str, int]) -> IntArray | None:
    """Each name's index (``-1``: unknown); ``None`` if a name is not a plain string."""
    if not _strings(names):
        return None
    found = map(index.get, names, repeat(-1, len(names)))  # type: ignore[arg-type]  # strings, checked
    return np.fromiter(found, dtype=np.int64, count=len(names))


def _within(values: IntArray, low: int, high: int) -> bool:
    """Every value in ``[low, high]`` (an empty array is)."""
    return not len(values) or (int(values.min()) >= low and int(values.max()) <= high)


def _ranges(first: IntArray, count: IntArray) -> IntArray:
    """The indices ``first[r] .. first[r] + count[r] - 1`` of every ``r``, one after another."""
    offsets = np.cumsum(count) - count
    total = int(count.sum())
    if np.array_equal(first, offsets):
        return np.arange(total, dtype=np.int64)
    return np.repeat(first - offsets, count) + np.arange(total, dtype=np.int64)


def _signed(values: object, length: int | None = None) -> IntArray | None:
    if not isinstance(values, np.ndarray) or values.ndim != 1 or values.dtype.kind != "i":
        return None
    if length is not None and len(values) != length:
        return None
    return values.astype(np.int64, copy=False)


def _from_columns(c: RouteColumns, problem: Problem) -> Flat | None:
    """A planner's plan, read from its columns (the ``Route`` objects it would make hold the same
    values when every index is in range, which is checked)."""
    people = _signed(c.people)
    if people is None:
        return None
    n = len(people)
    per_route = [
        _signed(x, n) for x in (c.source, c.group, c.dest, c.arrival, c.hops, c.node_first, c.hop_first)
    ]
    node, arc, step = _signed(c.node), _signed(c.arc), _signed(c.step)
    if (
        any(x is None for x in per_route)
        or node is None
        or arc is None
        or step is None
        or len(arc) != len(step)
    ):
        return None
    source, group, dest, arrival, hops, node_first, hop_first = (x for x in per_route if x is not None)
    index_ok = (
        _within(source, 0, len(c.source_ids) - 1)
        and _within(dest, 0, len(c.dest_ids) - 1)
        and _within(group, 0, len(c.group_names) - 1)
        and _within(hops, 0, len(node))
        and _within(node_first, 0, len(node))
        and _within(hop_first, 0, len(arc))
        and _within(node_first + hops, 0, len(node) - 1)
        and _within(hop_first + hops, 0, len(arc))
    )
    src_of = _lookup(c.source_ids, _index(problem.source_ids))
    dst_of = _lookup(c.dest_ids, _index(problem.dest_ids))
    if not index_ok or src_of is None or dst_of is None or not _strings(c.group_names):
        return None
    src, dst = src_of[source], dst_of[dest]
    if (src < 0).any() or (dst < 0).any():
        return None
    same = np.array([[a == b for b in problem.group_names] for a in c.group_names], dtype=bool).reshape(
        len(c.group_names), len(problem.group_names)
    )
    if not same[group, problem.source_group[src]].all():
        return None
    net_ids = problem.network.node_ids
    node_of = (
        np.arange(len(net_ids), dtype=np.int64)
        if c.node_ids is net_ids
        else _lookup(c.node_ids, _index(net_ids))
    )
    hop_at = _ranges(hop_first, hops)
    node_col = node[_ranges(node_first, hops + 1)]
    if node_of is None or not _within(node_col, 0, len(node_of) - 1):
        return None
    return Flat(src, dst, people, arrival, hops, arc[hop_at], step[hop_at], node_of[node_col])


def _whole_ints(values: Sequence[object], low: int, high: int) -> IntArray | None:
    """Plain ints (no bools, no numpy integers) all in ``[low, high]``, as an array."""
    if not set(map(type, values)) <= {int}:
        return None
    try:
        ints = np.fromiter(values, dtype=np.int64, count=len(values))
    except OverflowError:  # past int64: out of any range here
        return None
    return ints if _within(ints, low, high) else None


def _from_routes(routes: Sequence[Route], problem: Problem) -> Flat | None:
    """A plan's ``Route`` objects (a plan file, an upload, a method that makes them)."""
    sources = [r.source for r in routes]
    dests = [r.destination for r in routes]
    src, dst = _lookup(sources, _index(problem.source_ids)), _lookup(dests, _index(problem.dest_ids))
    if src is None or dst is None or (src < 0).any() or (dst < 0).any():
        return None
    groups = [r.group for r in routes]
    names = np.asarray(problem.group_names, dtype=object)
    if not _strings(groups) or groups != names[problem.source_group[src]].tolist():
        return None
    people = _whole_ints([r.people for r in routes], 1, BIG - 1)
    arrival = _whole_ints([r.arrival for r in routes], 0, problem.horizon)
    arcs, deps, nodes = [r.arcs for r in routes], [r.departures for r in routes], [r.nodes for r in routes]
    listed = (tuple, list)
    if any(type(a) not in listed for a in arcs) or any(type(d) not in listed for d in deps):
        return None
    if any(type(v) is not tuple for v in nodes) or people is None or arrival is None:
        return None
    hops = np.fromiter(map(len, arcs), dtype=np.int64, count=len(arcs))
    node_counts = np.fromiter(map(len, nodes), dtype=np.int64, count=len(nodes))
    dep_counts = np.fromiter(map(len, deps), dtype=np.int64, count=len(deps))
    if not np.array_equal(dep_counts, hops) or not np.array_equal(node_counts, hops + 1):
        return None
    arc = _whole_ints(list(chain.from_iterable(arcs)), 0, problem.n_arcs - 1)
    dep = _whole_ints(list(chain.from_iterable(deps)), 0, problem.horizon)
    node = _lookup(list(chain.from_iterable(nodes)), _index(problem.network.node_ids))
    if arc is None or dep is None or node is None:
        return None
    return Flat(src, dst, people, arrival, hops, arc, dep, node)


def _fits(flat: Flat, problem: Problem) -> bool:
    """Every index and count in range, and every sum below exactly representable bounds."""
    if not len(flat.people):
        return True
    most = int(flat.people.max())
    return (
        _within(flat.people, 1, BIG - 1)
        and _within(flat.arrival, 0, problem.horizon)
        and _within(flat.arc, 0, problem.n_arcs - 1)
        and _within(flat.dep, 0, problem.horizon)
        and most * max(len(flat.people), len(flat.arc)) < _EXACT
        and most * max(problem.horizon, 1) * len(flat.people) < _INT64
    )


def _paths_hold(flat: Flat, problem: Problem) -> bool:
    """Each route: a connected path from its source to its destination, no hop before the last one
    arrived, its arrival that of its roads, its node list that of its roads."""
    net = problem.network
    n = len(flat.people)
    start = problem.source_node[flat.src]
    first = np.cumsum(flat.hops) - flat.hops
    moves = flat.hops > 0
    firsts, lasts = first[moves], first[moves] + flat.hops[moves] - 1
    head, tau = net.head[flat.arc], problem.tau[flat.arc]
    at = np.empty(len(flat.arc), dtype=np.int64)  # where each hop should leave from
    at[1:] = head[:-1]
    at[firsts] = start[moves]
    ready = np.empty(len(flat.arc), dtype=np.int64)  # when each hop's people are there
    ready[1:] = flat.dep[:-1] + tau[:-1]
    ready[firsts] = 0
    end, arrival = start.copy(), np.zeros(n, dtype=np.int64)
    end[moves] = head[lasts]
    arrival[moves] = flat.dep[lasts] + tau[lasts]
    expected = np.empty(n + len(flat.arc), dtype=np.int64)
    expected[np.cumsum(flat.hops + 1) - (flat.hops + 1)] = start
    expected[np.arange(len(flat.arc)) + np.repeat(np.arange(n), flat.hops) + 1] = head
    return bool(
        np.array_equal(net.tail[flat.arc], at)
        and (flat.dep >= ready).all()
        and np.array_equal(end, problem.dest_node[flat.dst])
        and np.array_equal(arrival, flat.arrival)
        and np.array_equal(expected, flat.node)
    )


def _over(item: IntArray, dep: IntArray, people: IntArray, cap: IntArray, steps: int) -> bool:
    """Do the people on some (item, step) exceed ``cap[item]``? (steps: departures are below it)"""
    if not len(item):
        return False
    key = item * steps + dep
    size = len(cap) * steps
    if size <= 4 * len(key) + DENSE_EXTRA:  # dense: one count per (item, step)
        load = np.bincount(key, people, minlength=size)
        return bool((load[key] > cap[item]).any())
    used, which = np.unique(key, return_inverse=True)
    load = np.bincount(which.reshape(-1), people)
    return bool((load > cap[used // steps]).any())


def _flow_holds(flat: Flat, problem: Problem) -> bool:
    """No road over its capacity, no checkpoint over its throughput, at any step."""
    steps = problem.horizon + 1
    people = flat.people[np.repeat(np.arange(len(flat.people)), flat.hops)]
    if _over(flat.arc, flat.dep, people, problem.arc_cap, steps):
        return False
    tail = problem.network.tail[flat.arc]
    checked = problem.node_cap[tail] != UNLIMITED
    return not _over(tail[checked], flat.dep[checked], people[checked], problem.node_cap, steps)


def _closures_hold(flat: Flat, problem: Problem) -> bool:
    net, arc, dep = problem.network, flat.arc, flat.dep
    closed: NDArray[np.bool_] = problem.arc_closed.closed(arc, dep)
    closed |= problem.node_closed.closed(net.tail[arc], dep)
    closed |= problem.node_closed.closed(net.head[arc], dep + problem.tau[arc])
    return not closed.any()


def _totals_hold(flat: Flat, plan: Plan, problem: Problem) -> bool:
    """Sources and reception points within their people and capacities; the plan's figures."""
    sent = np.bincount(flat.src, flat.people, minlength=len(problem.source_ids))
    received = np.bincount(flat.dst, flat.people, minlength=len(problem.dest_ids))
    limited = problem.dest_cap != UNLIMITED
    return bool(
        (sent <= problem.source_people).all()
        and (received[limited] <= problem.dest_cap[limited]).all()
        and int(flat.people.sum()) == plan.evacuated
        and int((flat.people * flat.arrival).sum()) == plan.total_steps
    )
