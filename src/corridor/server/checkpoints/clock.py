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
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
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


@dataclass
class _Kept:
    """A device's clock row as read (or about to be written)."""

    offset_seconds: float | None
    samples: list[float]
    flagged: int
    stored: bool  # a row exists (UPDATE) or not yet (INSERT)
    changed: bool = False
    synced_at: datetime | None = None


def note(
    session: Session,
    *,
    operation_id: str,
    earliest: datetime | None,
    ahead: timedelta,
    syncs: Sequence[Sync],
) -> dict[int, str]:
    """Update the devices' offsets from their clock readings; mark the stored events whose time
    is corrected by an offset or flagged; return the flags of the events flagged, by position.
    A few statements per group of requests, in the driver's own terms (this runs on the scans'
    hot path): one look-up of the devices' clocks, and only when something changed, their update
    and the marks' insert."""
    devices = {body.device_id for sync in syncs for body in sync.bodies}
    if not devices:
        return {}
    connection = session.connection()
    kept = _devices(connection, operation_id, sorted(devices))

    def device(device_id: str) -> _Kept:
        row = kept.get(device_id)
        if row is None:
            row = kept[device_id] = _Kept(None, [], 0, stored=False)
        return row

    now = utc_now()
    marks: list[tuple[Any, ...]] = []
    flags: dict[int, str] = {}
    for sync in syncs:
        if sync.device_now is not None:
            reading = (sync.device_now - sync.server_now).total_seconds()
            for device_id in sorted({body.device_id for body in sync.bodies}):
                row = device(device_id)
                if clock.jumped(row.offset_seconds, reading, ahead):
                    row.samples = []  # the clock was set since: its older readings are past
                row.samples = [*row.samples, reading][-clock.SAMPLES :]
                row.offset_seconds = clock.offset_estimate(row.samples)
                row.synced_at, row.changed = sync.server_now, True
        for body, result in zip(sync.bodies, sync.results, strict=True):
            if result.outcome is not ledger.Outcome.STORED or result.position is None:
                continue
            known = kept.get(body.device_id)
            offset = clock.kept_offset(known.offset_seconds if known else None)
            flag = clock.flag_of(body.device_time, offset, now, ahead=ahead, earliest=earliest)
            if flag is not None:
                flags[result.position] = flag
                counted = device(body.device_id)
                counted.flagged, counted.changed = counted.flagged + 1, True
            if offset is not None or flag is not None:
                marks.append((result.position, operation_id, offset, flag))
    _write(connection, operation_id, {d: row for d, row in kept.items() if row.changed})
    if marks:
        mark = raw.markers(connection, 4)
        connection.exec_driver_sql(
            f"INSERT INTO {EventClock.__tablename__} (position, operation_id, offset_seconds, flag) "
            f"VALUES ({mark})",
            marks,
        )
    return flags


def _devices(connection: Connection, operation_id: str, device_ids: list[str]) -> dict[str, _Kept]:
    among, params = raw.one_of(connection, "device_id", device_ids)
    statement = (
        f"SELECT device_id, offset_seconds, samples, flagged FROM {DeviceClock.__tablename__} "
        f"WHERE operation_id = {raw.marker(connection)} AND {among}"
    )
    return {
        device_id: _Kept(offset, json.loads(samples or "[]"), flagged or 0, stored=True)
        for device_id, offset, samples, flagged in connection.exec_driver_sql(
            statement, (operation_id, *params)
        )
    }


def _write(connection: Connection, operation_id: str, changed: Mapping[str, _Kept]) -> None:
    mark = raw.marker(connection)
    sqlite = not raw.is_postgresql(connection)
    table = DeviceClock.__tablename__
    for device_id, row in changed.items():
        synced = row.synced_at
        synced_value: Any = synced
        if synced is not None and sqlite:  # as SQLAlchemy's UTCDateTime stores it on SQLite
            synced_value = synced.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        values = (row.offset_seconds, json.dumps(row.samples), row.flagged)
        if row.stored:
            sync_part = f", synced_at = {mark}" if synced is not None else ""
            statement = (
                f"UPDATE {table} SET offset_seconds = {mark}, samples = {mark}, flagged = {mark}"
                f"{sync_part} WHERE operation_id = {mark} AND device_id = {mark}"
            )
            extra = (synced_value,) if synced is not None else ()
            connection.exec_driver_sql(statement, (*values, *extra, operation_id, device_id))
        else:
            statement = (
                f"INSERT INTO {table} (operation_id, device_id, offset_seconds, samples, flagged, "
                f"synced_at) VALUES ({raw.markers(connection, 6)})"
            )
            connection.exec_driver_sql(statement, (operation_id, device_id, *values, synced_value))


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
