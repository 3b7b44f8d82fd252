"""A convoy's live state as JSON (the form a re-plan's basis is kept in, and a re-plan job's
payload and result carry it in): ``{"vehicles": [{"vehicle", "node", "ready", "on_board"}],
"left": [[source, people]], "out_by_group": [[group, people]], "received": [[point, people]]}``.

Plain data both ways, so that the web service and the workers read it alike without planning.
"""

from __future__ import annotations

from typing import Any

from corridor.problem.convoy import LiveState, VehicleState


def state_to_dict(state: LiveState) -> dict[str, Any]:
    return {
        "vehicles": [
            {
                "vehicle": v.vehicle,
                "node": v.node,
                "ready": v.ready,
                "on_board": [list(x) for x in v.on_board],
            }
            for v in state.vehicles
        ],
        "left": [list(x) for x in state.left],
        "out_by_group": [list(x) for x in state.out_by_group],
        "received": [list(x) for x in state.received],
    }


def state_from_dict(raw: dict[str, Any]) -> LiveState:
    """The state written by :func:`state_to_dict` (raises KeyError/TypeError/ValueError)."""
    return LiveState(
        vehicles=tuple(
            VehicleState(
                str(v["vehicle"]),
                str(v["node"]),
                int(v["ready"]),
                tuple((str(s), int(n)) for s, n in v["on_board"]),
            )
            for v in raw["vehicles"]
        ),
        left=tuple((str(s), int(n)) for s, n in raw["left"]),
        out_by_group=tuple((str(g), int(n)) for g, n in raw["out_by_group"]),
        received=tuple((str(d), int(n)) for d, n in raw.get("received", [])),
    )
