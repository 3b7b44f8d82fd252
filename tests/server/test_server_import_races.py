"""An import's write path beside the rest of the service: what an import stores must reach
everyone a registration reaches (the phones' roster deltas), and an import beside a registration
must end as either would alone: stored, or refused with 409, never aborted by the database
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.manifests.roster_tables import RosterChange
from corridor.server.registration import imports, service
from corridor.server.registration.schemas import HouseholdIn, ImportReport, PersonIn
from corridor.server.registration.tables import Household, Person
from server.conftest import World
from server.test_server_import_limits import upload


def _roster(world: World, point: str, since: str | None = None) -> Any:
    params = {"point": point} | ({"since": since} if since else {})
    answer = world.client.get(
        world.url("/roster"), params=params, headers=world.as_role("checkpoint_marshal")
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _imported(world: World, rows: list[tuple[str, str, str]], point: str) -> None:
    """Import ``rows`` (household, name, wristband) gathering at ``point``."""
    text = "hh_id,name,age,sex,wristband,gathering_point\n" + "".join(
        f"{household},{name},30,f,{wristband},{point}\n" for household, name, wristband in rows
    )
    answer = upload(world, "people.csv", text.encode())
    assert answer.status_code == 200, answer.text
    assert answer.json()["people"] == len(rows)


def test_a_phone_holding_a_roster_gets_imported_people_as_registered_ones(world: World) -> None:
    """People registered at a point on no manifest join that point's roster; a phone that already
    holds the roster gets every one of them in its next delta, whether they were registered one
    household at a time or imported. The whole roster asked afresh is the independent answer."""
    before = _roster(world, "start")
    registered = world.household(
        {"name": "Mariam Haddad", "age_band": "18-59", "sex": "female"}, gathering_point="start"
    )
    _imported(
        world,
        [("H1", "Samira Khoury", "w-1"), ("H1", "Lina Khoury", "w-2"), ("H2", "Nour Aziz", "w-3")],
        "start",
    )
    whole = {row[0] for row in _roster(world, "start")["people"]}
    new = whole - {row[0] for row in before["people"]}
    assert {p["id"] for p in registered["people"]} <= new and len(new) == 4
    delta = _roster(world, "start", before["cursor"])
    assert delta["full"] is False
    assert {row[0] for row in delta["people"]} == new


def test_every_person_stored_has_a_roster_change_as_a_registered_one_does(world: World) -> None:
    """Each person stored, by a registration or by an import, has a row in ``roster_changes``."""
    registered = world.household({"name": "Mariam Haddad", "age_band": "18-59", "sex": "female"})
    _imported(world, [("H1", "Samira Khoury", "w-1"), ("H2", "Nour Aziz", "w-2")], "gp-a")
    people = world.client.get(world.url("/people?limit=1000"), headers=world.coordinator).json()["people"]
    ids = {p["id"] for p in people}
    assert len(ids) == 3 and {p["id"] for p in registered["people"]} <= ids
    db = Database(world.settings.database_url)
    with db.reading() as session:
        noted = set(
            session.scalars(
                select(RosterChange.subject_id).where(
                    RosterChange.operation_id == world.operation_id, RosterChange.subject_kind == "person"
                )
            )
        )
    db.dispose()
    assert ids <= noted


def _deadlocked(error: object) -> bool:
    """Whether ``error`` (or what caused it) is PostgreSQL's deadlock detected."""
    while isinstance(error, BaseException):
        if type(error).__name__ == "DeadlockDetected" or "deadlock detected" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _register_beside_import(world: World, monkeypatch: pytest.MonkeyPatch, shared: int) -> dict[str, Any]:
    """Import 50 people (households of five, one chunk of two slices of 25, one transaction),
    person ``shared`` with wristband ``w-shared``; just after the import's transaction has checked
    the wristbands of that person's slice, another thread of the service (same Database)
    registers a walk-in with the same wristband. The import goes on once the registration is
    done or waits for a lock (the Python write lock on SQLite, a row's on PostgreSQL). What each
    ended with (``"stored"``, an ImportReport, or the exception) and who holds the wristband."""
    postgres = not world.settings.database_url.startswith("sqlite")
    rows = "".join(
        f"H{n // 5:02},Person {n},30,{'fm'[n % 2]},{'w-shared' if n == shared else ''}\n" for n in range(50)
    )
    prepared = imports.prepare(
        "people.csv",
        ("hh_id,name,age,sex,wristband\n" + rows).encode(),
        accept_valid_rows=False,
        max_rows=1_000,
    )
    db = Database(world.settings.database_url)
    watcher = Database(world.settings.database_url)
    sealer = Sealer.from_file(world.settings.key_file)
    monkeypatch.setattr(imports, "CHUNK_FIRST", 50)
    monkeypatch.setattr(imports, "CHUNK_SECONDS", 60.0)  # the chunk's two slices in one transaction
    main = threading.current_thread()
    outcome: dict[str, Any] = {}
    seen = [0]
    real = service.taken_wristbands

    def register() -> None:
        body = HouseholdIn(
            gathering_point="gp-a",
            people=[PersonIn(name="Walk In", age_band="18-59", sex="female", wristband="w-shared")],
        )
        try:
            with db.writing() as session:
                service.register_household(session, sealer=sealer, operation_id=world.operation_id, body=body)
            outcome["registration"] = "stored"
        except Exception as exc:
            outcome["registration"] = exc

    other = threading.Thread(target=register)

    def blocked() -> bool:
        if not postgres:
            return db.others_writing()
        with watcher.reading() as session:
            return bool(session.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))

    def taken(session: Session, operation_id: str, wristbands: Sequence[str]) -> set[str]:
        found = real(session, operation_id, wristbands)
        if threading.current_thread() is main and "w-shared" in wristbands:
            seen[0] += 1
            if seen[0] == 2:  # the slice's check (the first was the whole file's, read only)
                other.start()
                deadline = time.monotonic() + 30
                while other.is_alive() and not blocked() and time.monotonic() < deadline:
                    time.sleep(0.005)
        return found

    monkeypatch.setattr(service, "taken_wristbands", taken)
    try:
        outcome["import"] = imports.store(
            db, sealer=sealer, operation_id=world.operation_id, prepared=prepared
        )
    except Exception as exc:
        outcome["import"] = exc
    other.join(60)
    assert seen[0] == 2 and not other.is_alive()
    with watcher.reading() as session:
        outcome["holders"] = list(session.scalars(select(Person.id).where(Person.wristband == "w-shared")))
        outcome["households"] = session.scalar(
            select(func.count()).select_from(Household).where(Household.reference.is_not(None))
        )
    db.dispose()
    watcher.dispose()
    return outcome


def test_a_registration_beside_an_import_is_never_killed_by_a_deadlock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import's transaction writes its first slice (people, then their events: the ledger's
    head locked), then the second slice's people. A registration that comes between the two and
    gives the wristband of a person of the second slice inserts its person, then waits for the
    head; the import's insert of that wristband waits for the registration. Neither may be
    aborted by the database, and one person holds the wristband. (SQLite: the write lock orders
    them; before the slices the import locked the head after all its inserts.)"""
    outcome = _register_beside_import(world, monkeypatch, shared=32)
    assert not _deadlocked(outcome["registration"]) and not _deadlocked(outcome["import"])
    assert outcome["registration"] == "stored" or isinstance(outcome["registration"], ConflictError)
    assert len(outcome["holders"]) == 1


def test_a_wristband_registered_while_an_import_writes_stops_it_with_409(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registration that gives a wristband of the import's slice once the import's transaction
    has checked it: the import stops with 409 naming how many households are stored (or stores
    them all, the registration refused), as its docstring promises; never an IntegrityError."""
    outcome = _register_beside_import(world, monkeypatch, shared=2)
    stopped = outcome["import"]
    assert isinstance(stopped, ImportReport | ConflictError), repr(stopped)
    if isinstance(stopped, ConflictError):
        assert outcome["registration"] == "stored"
        assert f"the {outcome['households']} households stored before it" in str(stopped.hint)
    else:
        assert isinstance(outcome["registration"], ConflictError) and stopped.households == 10
    assert len(outcome["holders"]) == 1
