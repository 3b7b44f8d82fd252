"""Pure network transforms: arc edits, reverse arcs, components and hazard areas."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from corridor.core.errors import InputError, NetworkError
from corridor.network.build import network_from_tntp
from corridor.network.model import Network, network_from_arrays
from corridor.network.transform import (
    arc_indices,
    arcs_crossing_area,
    largest_weak_component,
    nodes_in_area,
    remove_arcs,
    reverse_arcs_of,
    scale_capacity,
    set_capacity,
    subnetwork,
)
from reference import SHARED_DATA

DATA = SHARED_DATA
BERLIN = DATA / "tntp" / "Berlin-Center"


def square() -> Network:
    """a(0,0) b(1,0) c(1,1) d(0,1), plus an island e(5,5) -> f(6,5).

    Arcs: 0 a->b, 1 b->a, 2 b->c, 3 c->d, 4 d->a, 5 a->b (parallel), 6 e->f.
    """
    return network_from_arrays(
        "square",
        ["a", "b", "c", "d", "e", "f"],
        tail=[0, 1, 1, 2, 3, 0, 4],
        head=[1, 0, 2, 3, 0, 1, 5],
        capacity=[100, 200, 300, 400, 500, 600, 700],
        travel_time=[1, 2, 3, 4, 5, 6, 7],
        length=[10, 20, 30, 40, 50, 60, 70],
        x=[0, 1, 1, 0, 5, 6],
        y=[0, 0, 1, 1, 5, 5],
    )


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_remove_arcs_by_index_and_mask() -> None:
    net = square()
    out = remove_arcs(net, [2, 6])
    assert out.n_arcs == 5 and out.n_nodes == 6
    assert out.capacity.tolist() == [100, 200, 400, 500, 600]
    mask = np.zeros(7, dtype=bool)
    mask[[2, 6]] = True
    assert remove_arcs(net, mask).capacity.tolist() == out.capacity.tolist()
    assert net.n_arcs == 7  # input untouched


def test_capacity_edits_are_pure() -> None:
    net = square()
    scaled = scale_capacity(net, np.array([0, 1]), 0.5)
    assert scaled.capacity.tolist()[:3] == [50, 100, 300]
    assert set_capacity(net, [3], 0).capacity[3] == 0
    assert net.capacity.tolist() == [100, 200, 300, 400, 500, 600, 700]
    with pytest.raises(InputError, match="zero or more"):
        scale_capacity(net, [0], -1)
    with pytest.raises(InputError, match="zero or more"):
        set_capacity(net, [0], float("nan"))


def test_bad_selections() -> None:
    net = square()
    with pytest.raises(NetworkError, match="arc index 7 is out of range"):
        remove_arcs(net, [7])
    with pytest.raises(NetworkError, match="arc index -1"):
        reverse_arcs_of(net, [-1])
    with pytest.raises(NetworkError, match="needs 7 entries"):
        remove_arcs(net, np.ones(3, dtype=bool))
    with pytest.raises(NetworkError, match="integer indices"):
        arc_indices(net, np.array([0.5]))
    assert arc_indices(net, []).tolist() == []


def test_reverse_arcs() -> None:
    net = square()
    assert reverse_arcs_of(net, [0, 1, 2, 5, 6]).tolist() == [1, 0, -1, 1, -1]
    assert reverse_arcs_of(net, [1]).tolist() == [0]  # the first of the parallel a->b arcs
    mask = np.zeros(7, dtype=bool)
    mask[[1, 0]] = True
    assert reverse_arcs_of(net, mask).tolist() == [1, 0]
    assert reverse_arcs_of(net, []).tolist() == []


def test_largest_weak_component_and_subnetwork() -> None:
    net = replace(square(), geometry=tuple(((float(i), 0.0), (float(i), 1.0)) for i in range(7)))
    big = largest_weak_component(net)
    assert big.node_ids == ("a", "b", "c", "d")
    assert big.n_arcs == 6 and big.geometry[-1] == ((5.0, 0.0), (5.0, 1.0))
    island = subnetwork(net, np.array([False, False, False, False, True, True]))
    assert island.node_ids == ("e", "f")
    assert (island.tail.tolist(), island.head.tolist()) == ([0], [1])
    assert island.x.tolist() == [5, 6] and island.capacity.tolist() == [700]
    assert largest_weak_component(big) is big
    assert largest_weak_component(square()).node_ids == ("a", "b", "c", "d")  # no geometry


def test_nodes_in_area() -> None:
    net = square()
    assert nodes_in_area(net, box(-0.5, -0.5, 1.5, 0.5)).tolist() == [0, 1]
    assert nodes_in_area(net, box(0, 0, 1, 1)).tolist() == [0, 1, 2, 3]  # boundary counts
    multi = {"type": "MultiPolygon", "coordinates": [box(4, 4, 5.5, 6)["coordinates"]]}
    assert nodes_in_area(net, multi).tolist() == [4]


def test_arcs_crossing_area_straight_and_drawn() -> None:
    net = square()
    middle_of_ab = box(0.4, -0.1, 0.6, 0.1)
    assert arcs_crossing_area(net, middle_of_ab).tolist() == [0, 1, 5]
    bends = [((0.0, 0.0), (0.5, -3.0), (1.0, 0.0))] + [net.arc_polyline(i) for i in range(1, 7)]
    drawn = replace(net, geometry=tuple(bends))
    assert arcs_crossing_area(drawn, middle_of_ab).tolist() == [1, 5]
    assert arcs_crossing_area(drawn, box(0.4, -3.5, 0.6, -2.5)).tolist() == [0]


def test_area_errors() -> None:
    net = square()
    with pytest.raises(InputError, match="Polygon or MultiPolygon") as info:
        nodes_in_area(net, {"type": "Point", "coordinates": [0, 0]}, where="closures[2].area")
    assert info.value.where == "closures[2].area"
    with pytest.raises(InputError, match="cannot read the area"):
        arcs_crossing_area(net, {"type": "Polygon", "coordinates": [[[0, 0], [1]]]})
    flat = replace(net, has_coordinates=False)
    with pytest.raises(NetworkError, match="no node coordinates"):
        nodes_in_area(flat, box(0, 0, 1, 1))


@pytest.mark.skipif(not BERLIN.is_dir(), reason=f"shared TNTP data not found at {BERLIN}")
def test_area_helpers_on_berlin_center() -> None:
    net = network_from_tntp(BERLIN / "berlin-center_net.tntp", BERLIN / "berlin-center_node.tntp")
    area = box(25.0, 18.0, 27.0, 20.0)
    nodes = nodes_in_area(net, area)
    inside = (net.x >= 25) & (net.x <= 27) & (net.y >= 18) & (net.y <= 20)
    assert nodes.tolist() == np.flatnonzero(inside).tolist()
    arcs = arcs_crossing_area(net, area)
    both_inside = np.flatnonzero(inside[net.tail] & inside[net.head])
    assert np.isin(both_inside, arcs).all() and len(arcs) >= len(both_inside) > 0
    pruned = remove_arcs(net, arcs)
    assert pruned.n_arcs == net.n_arcs - len(arcs)
