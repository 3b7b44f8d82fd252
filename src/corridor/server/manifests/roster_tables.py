"""What changed in the rosters the scanning phones hold: one row per change of a person, a
manifest entry or a vehicle (``subject_kind`` person or vehicle), or ``all`` when a convoy plan,
a published plan or the route changes (which manifests pass which route point may then change
for anyone: phones load their roster whole again). Rows are written in the same transaction as
the change itself, by a listener on every ORM flush, so no writer has to remember them; a bulk
UPDATE or DELETE of these tables (not through the ORM's objects) counts as ``all`` for every
operation (``*``).

The phones' cursor (``manifests/roster.py``) is a position in this table and in the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, event, inspect
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from corridor.server.columns import UTCDateTime, utc_now
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.db import Base
from corridor.server.manifests.tables import ManifestEntry, Vehicle
from corridor.server.operations.tables import Operation, PlanVersion
from corridor.server.registration.tables import Person

EVERY_OPERATION = "*"


class RosterChange(Base):
    __tablename__ = "roster_changes"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    operation_id: Mapped[str] = mapped_column(String(32), index=True)
    subject_kind: Mapped[str] = mapped_column(String(10))  # person, vehicle or all
    subject_id: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _change_of(thing: object) -> tuple[str, str, str] | None:
    if isinstance(thing, Person):
        return thing.operation_id, "person", thing.id
    if isinstance(thing, ManifestEntry):
        return thing.operation_id, "person", thing.person_id
    if isinstance(thing, Vehicle):
        return thing.operation_id, "vehicle", thing.code
    if isinstance(thing, ConvoyVersion | PlanVersion):
        return thing.operation_id, "all", ""
    if isinstance(thing, Operation) and inspect(thing).attrs.route.history.has_changes():
        return thing.id, "all", ""
    return None


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    changes = {c for thing in (*session.new, *session.deleted) if (c := _change_of(thing))}
    changes |= {c for thing in session.dirty if session.is_modified(thing) and (c := _change_of(thing))}
    now = utc_now()
    for operation_id, kind, subject_id in sorted(changes):
        if operation_id:
            session.add(
                RosterChange(
                    operation_id=operation_id, subject_kind=kind, subject_id=subject_id, changed_at=now
                )
            )


TRACKED = {t.__tablename__ for t in (Person, ManifestEntry, Vehicle, ConvoyVersion, PlanVersion, Operation)}


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in TRACKED:
        state.session.add(
            RosterChange(
                operation_id=EVERY_OPERATION, subject_kind="all", subject_id="", changed_at=utc_now()
            )
        )
