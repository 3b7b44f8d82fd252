"""Device clocks at the server: each device's clock offset, estimated at every sync that sends the
device's clock, and each stored event's time judged by it (:mod:`corridor.ops.clock`).

Runs in the ledger writer's transaction, after the events are appended: the offset a device's
events are corrected by, and the flag of an event past belief, are stored beside the ledger
(``event_clocks``, only for events with either), so that every reader of the ledger folds the
same times.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from corridor.ops import clock
from corridor.ops.ledger import ScanEvent
from corridor.server.checkpoints.clock_tables import DeviceClock, EventClock
from corridor.server.columns import utc_now
from corridor.server.ledger import raw
from corridor.server.ledger import service as ledger

Mark = tuple[float | None, str | None]


@dataclass(frozen=True)
class ClockRules:
    """How far a corrected time may be ahead of its receipt, and the earliest believable time
    before an operation's start (from the settings)."""

    ahead: timedelta
    behind: timedelta

    def earliest(self, start: datetime | None) -> datetime | None:
        return start - self.behind if start is not None else None


@dataclass(frozen=True)
class Sync:
    """One request's events, with the device's clock reading (``device_now``, if it sent one) and
    the server's clock when the request arrived."""

    bodies: Sequence[ledger.EventFields]
    results: Sequence[ledger.AppendResult]
    device_now: datetime | None
    server_now: datetime


def note(
    session: Session,
    *,
    operation_id: str,
    earliest: datetime | None,
    ahead: timedelta,
    syncs: Sequence[Sync],
) -> None:
    """Update the devices' offsets from their clock readings; mark the stored events whose time
    is corrected by an offset or flagged."""
    devices = {body.device_id for sync in syncs for body in sync.bodies}
    if not devices:
        return
    kept = {
        row.device_id: row
        for row in session.scalars(
            select(DeviceClock).where(
                DeviceClock.operation_id == operation_id, DeviceClock.device_id.in_(sorted(devices))
            )
        )
    }

    def device(device_id: str) -> DeviceClock:
        row = kept.get(device_id)
        if row is None:
            row = DeviceClock(operation_id=operation_id, device_id=device_id, samples="[]", flagged=0)
            session.add(row)
            kept[device_id] = row
        return row

    now = utc_now()
    marks: list[dict[str, Any]] = []
    for sync in syncs:
        if sync.device_now is not None:
            reading = (sync.device_now - sync.server_now).total_seconds()
            for device_id in sorted({body.device_id for body in sync.bodies}):
                row = device(device_id)
                samples = [*json.loads(row.samples or "[]"), reading][-clock.SAMPLES :]
                row.samples = json.dumps(samples)
                row.offset_seconds = clock.offset_estimate(samples)
                row.synced_at = sync.server_now
        for body, result in zip(sync.bodies, sync.results, strict=True):
            if result.outcome is not ledger.Outcome.STORED or result.position is None:
                continue
            known = kept.get(body.device_id)
            offset = clock.kept_offset(known.offset_seconds if known else None)
            flag = clock.flag_of(body.device_time, offset, now, ahead=ahead, earliest=earliest)
            if flag is not None:
                counted = device(body.device_id)
                counted.flagged = (counted.flagged or 0) + 1
            if offset is not None or flag is not None:
                marks.append(
                    {
                        "position": result.position,
                        "operation_id": operation_id,
                        "offset_seconds": offset,
                        "flag": flag,
                    }
                )
    session.flush()
    if marks:
        session.execute(insert(EventClock), marks)


def marks_of(
    connection: Connection, operation_id: str, *, after: int = 0, top: int | None = None
) -> dict[int, Mark]:
    """The marks of an operation's entries after ``after`` (up to ``top``), by position."""
    mark = raw.marker(connection)
    statement = (
        f"SELECT position, offset_seconds, flag FROM {EventClock.__tablename__} "
        f"WHERE operation_id = {mark} AND position > {mark}"
    )
    params: tuple[Any, ...] = (operation_id, after)
    if top is not None:
        statement += f" AND position <= {mark}"
        params = (*params, top)
    return {int(p): (o, f) for p, o, f in connection.exec_driver_sql(statement, params)}


def marked(event: ScanEvent, mark: Mark | None) -> ScanEvent:
    """``event`` with its clock offset and flag, if it has any."""
    if mark is None:
        return event
    return replace(event, clock_offset=mark[0], clock_flag=mark[1])


def with_marks(events: Iterable[tuple[int, ScanEvent]], marks: Mapping[int, Mark]) -> list[ScanEvent]:
    return [marked(event, marks.get(position)) for position, event in events]


@dataclass(frozen=True)
class DeviceClockOut:
    device_id: str
    offset_seconds: float | None
    synced_at: datetime | None
    flagged: int


def device_clocks(session: Session, operation_id: str) -> list[DeviceClockOut]:
    """Every device's clock offset and flagged events in an operation, the worst offset first."""
    rows = session.scalars(select(DeviceClock).where(DeviceClock.operation_id == operation_id))
    found = [DeviceClockOut(r.device_id, r.offset_seconds, r.synced_at, r.flagged or 0) for r in rows]
    return sorted(found, key=lambda d: (-abs(d.offset_seconds or 0.0), -d.flagged, d.device_id))
