"""The live state of a convoy operation, from the ledger, for a re-plan.

Once scans have begun on the convoy plan's trips, a re-plan starts from what they say rather than
from the plan as if it had run as planned:

* people no longer waiting, by source: those who boarded (or passed a checkpoint, or arrived);
  people out, by group: those who arrived;
* a vehicle whose latest trip arrived waits at that trip's reception point; a vehicle on a trip
  under way is at the network node of the route point it was last seen at (the published flow
  plan's ``nodes`` mapping, or the point's own id when it is a node), with the people who boarded
  it still on board. A vehicle with no scan, or seen at a point with no node, is taken to be
  where the plan has it.

Before any scan of the plan's trips there is no live state (``None``): the re-plan then takes the
previous plan to have gone as planned. The states and the trips are read from what the service
keeps (:mod:`corridor.server.convoys.follow`), never by reading the whole ledger.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.ops.status import Status, SubjectState
from corridor.ops.trips import assign_trips
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import LiveState, VehicleState
from corridor.server.convoys import follow
from corridor.server.convoys.routes import planned_trips
from corridor.server.convoys.scenario import Loaded
from corridor.server.convoys.schemas import TripStatusOut
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.ledger.counts import kept_states
from corridor.server.manifests.service import source_of
from corridor.server.operations.tables import Operation
from corridor.server.registration.tables import Household, Person
from corridor.server.runtime import Runtime

GONE = {Status.BOARDED, Status.CHECKPOINT, Status.ARRIVED}


def live_state(
    session: Session,
    runtime: Runtime,
    *,
    operation: Operation,
    version: ConvoyVersion,
    plan: ConvoyPlan,
    loaded: Loaded,
    when: datetime,
    step: int,
) -> LiveState | None:
    """The state at ``when`` from the scans (``None`` before any scan of the plan's trips)."""
    plan_id = {code: vid for vid, code in version.vehicles.items()}
    events = follow.trip_events(session, runtime, operation)
    followed = follow.trips(
        session,
        runtime,
        operation=operation,
        planned=planned_trips(session, operation.id),
        now=when,
        events=events,
    )
    started = [t for t in followed.trips if t.status != "planned" and t.vehicle in plan_id]
    if not started:
        return None
    sources = list(version.basis.get("sources", []))
    group_of = {s["id"]: s["group"] for s in sources}
    states = kept_states(runtime.counts, session, operation, kind="person")
    source: dict[str, str | None] = {
        pid: source_of(gp, list(v), sources)
        for pid, v, gp in session.execute(
            select(Person.id, Person.vulnerabilities, Household.gathering_point)
            .join(Household, Household.id == Person.household_id)
            .where(Person.operation_id == operation.id)
        )
    }
    left: Counter[str] = Counter()
    out: Counter[str] = Counter()
    for (kind, pid), state in states.items():
        src = source.get(pid) if kind == "person" else None
        if src is None or state.status not in GONE:
            continue
        left[src] += 1
        if state.status is Status.ARRIVED:
            out[group_of.get(src, "")] += 1
    _, boarded = assign_trips(events, follow.manifest_of(session, operation))
    nodes = dict((operation.published_plan or {}).get("nodes", {}))
    index = loaded.network.index
    latest: dict[str, TripStatusOut] = {}
    for t in started:
        if t.vehicle not in latest or t.number > latest[t.vehicle].number:
            latest[t.vehicle] = t
    vehicles = []
    for code, t in sorted(latest.items()):
        vid = plan_id[code]
        trip = next((x for x in plan.trips_of(vid) if x.number == t.number), None)
        if t.status == "arrived" and trip is not None:
            vehicles.append(VehicleState(vid, trip.haul.nodes[-1], step))
            continue
        node = nodes.get(t.point or "", t.point)
        if node is None or node not in index:
            continue
        riders = [p for p, key in boarded.items() if key == (code, t.number)]
        on_board = Counter(
            s
            for p in riders
            if (s := source.get(p)) is not None
            and (st := states.get(("person", p))) is not None
            and st.status is not Status.ARRIVED
        )
        vehicles.append(VehicleState(vid, node, step, tuple(sorted(on_board.items()))))
    return LiveState(
        vehicles=tuple(vehicles),
        left=tuple(sorted(left.items())),
        out_by_group=tuple(sorted((g, n) for g, n in out.items() if n)),
        received=_received(plan, plan_id, boarded, states),
    )


def _received(
    plan: ConvoyPlan,
    plan_id: dict[str, str],
    boarded: dict[str, tuple[str, int]],
    states: dict[tuple[str, str], SubjectState],
) -> tuple[tuple[str, int], ...]:
    """People arrived, by the reception point of the trip they boarded: taken off its room."""
    reception = {(t.vehicle, t.number): t.reception for t in plan.trips}
    received: Counter[str] = Counter()
    for pid, (code, number) in boarded.items():
        state = states.get(("person", pid))
        where = reception.get((plan_id.get(code, ""), number))
        if state is not None and state.status is Status.ARRIVED and where is not None:
            received[where] += 1
    return tuple(sorted(received.items()))
