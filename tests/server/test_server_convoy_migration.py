"""Migration 0006 on existing data: every vehicle gets its trip 1 and every manifest entry names it;
the manifests read back per trip after the upgrade, and the downgrade gives the old tables back."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from corridor.server.db import alembic_config, upgrade
from server.conftest import _libpq

AT = "2016-12-15 10:00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.db"
        return
    if postgres_url is None:
        pytest.skip("PostgreSQL is unreachable; only SQLite was tested")
    name = f"corridor_trips_{secrets.token_hex(6)}"
    admin = psycopg.connect(_libpq(postgres_url), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _manifests_before_trips(url: str) -> None:
    """An operation as 0005 stored it: two buses (one with an expected departure), three people on
    the manifest of one, one on the other."""
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO operations (id, name, scenario_name, state, route, windows, linked_operations,"
                " created_at) VALUES ('op', 'A', 's', 'active', '[]', '[]', '[]', :at)"
            ),
            {"at": AT},
        )
        c.execute(
            text("INSERT INTO households (id, operation_id, created_at) VALUES ('hh', 'op', :at)"), {"at": AT}
        )
        for code, departure in (("BUS-1", "2016-12-15 11:00:00"), ("BUS-2", None)):
            c.execute(
                text(
                    "INSERT INTO vehicles (operation_id, code, kind, seats, stretchers, wave,"
                    " expected_departure) VALUES ('op', :c, 'bus', 50, 0, 0, :d)"
                ),
                {"c": code, "d": departure},
            )
        for person, code in (("p1", "BUS-1"), ("p2", "BUS-1"), ("p3", "BUS-1"), ("p4", "BUS-2")):
            c.execute(
                text(
                    "INSERT INTO people (id, operation_id, household_id, age_band, sex, vulnerabilities,"
                    " registered_at) VALUES (:p, 'op', 'hh', '18-59', 'female', '[]', :at)"
                ),
                {"p": person, "at": AT},
            )
            c.execute(
                text(
                    "INSERT INTO manifest_entries (person_id, operation_id, vehicle_code, place, assigned_at)"
                    " VALUES (:p, 'op', :c, 'seat', :at)"
                ),
                {"p": person, "c": code, "at": AT},
            )
    engine.dispose()


def test_existing_manifests_become_trip_one(empty_url: str) -> None:
    upgrade(empty_url, "0005")
    _manifests_before_trips(empty_url)
    upgrade(empty_url, "0006")
    engine = create_engine(empty_url)
    with engine.connect() as c:
        trips = c.execute(
            text("SELECT vehicle_code, number, planned_departure FROM trips ORDER BY vehicle_code")
        ).all()
        entries = c.execute(
            text("SELECT person_id, vehicle_code, trip FROM manifest_entries ORDER BY person_id")
        ).all()
    assert [(code, number) for code, number, _ in trips] == [("BUS-1", 1), ("BUS-2", 1)]
    assert trips[0][2] is not None and trips[1][2] is None  # the vehicle's expected departure
    assert [tuple(e) for e in entries] == [
        ("p1", "BUS-1", 1),
        ("p2", "BUS-1", 1),
        ("p3", "BUS-1", 1),
        ("p4", "BUS-2", 1),
    ]
    # A manifest entry must name a trip its vehicle has.
    with pytest.raises(Exception, match=r"(?i)foreign key"), engine.begin() as c:
        if empty_url.startswith("sqlite"):
            c.execute(text("PRAGMA foreign_keys = ON"))
        c.execute(text("UPDATE manifest_entries SET trip = 2 WHERE person_id = 'p4'"))
    command.downgrade(alembic_config(empty_url), "0005")
    with engine.connect() as c:
        kept = c.execute(
            text("SELECT person_id, vehicle_code FROM manifest_entries ORDER BY person_id")
        ).all()
    engine.dispose()
    assert [tuple(k) for k in kept] == [("p1", "BUS-1"), ("p2", "BUS-1"), ("p3", "BUS-1"), ("p4", "BUS-2")]
