"""Fixtures for the service tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL: one database ``corridor_test_<random>`` per test run, made at the start and dropped at
the end, so runs never see each other's rows; tables are emptied between tests. Set
``CORRIDOR_TEST_POSTGRES`` to a server URL (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``);
the PostgreSQL half is skipped, with the reason, only if that server cannot be reached.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from corridor.server.access import service as access
from corridor.server.app import create_app
from corridor.server.auth import Passwords, Role
from corridor.server.db import Database, upgrade
from corridor.server.settings import Settings
from corridor.server.tables import metadata

PG_SERVER = os.environ.get("CORRIDOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 64}


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh, migrated PostgreSQL database for this run (None when no server answers)."""
    try:
        admin = psycopg.connect(_libpq(PG_SERVER), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    name = f"corridor_test_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "corridor.db"
    upgrade(f"sqlite:///{path}")
    return path


EMPTY_HEAD = "INSERT INTO ledger_head (id, count, head_hash, server_seq) VALUES (1, 0, :h, 0)"


def _empty_postgres(url: str, attempts: int = 5) -> None:
    """Empty every table. A write still finishing from the test before (a background thread of its
    service, a job's worker) can deadlock with the TRUNCATE's table locks: PostgreSQL then aborts
    one of the two, and the TRUNCATE is tried again once the other is through."""
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    try:
        for attempt in range(attempts):
            try:
                with engine.begin() as connection:
                    connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                    connection.execute(text(EMPTY_HEAD), {"h": "0" * 64})
                return
            except OperationalError as exc:
                if not isinstance(exc.orig, psycopg.errors.DeadlockDetected) or attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_url: str | None,
) -> str:
    """The URL of an empty, migrated database: a SQLite file or the run's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "corridor.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    if postgres_url is None:
        pytest.skip(f"PostgreSQL at {PG_SERVER} is unreachable; only SQLite was tested")
    _empty_postgres(postgres_url)
    return postgres_url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        key_file=tmp_path / "keys" / "corridor.key",
        signing_key_file=tmp_path / "signing" / "ledger-signing.key",
        **CHEAP,  # type: ignore[arg-type]
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


ROUTE: list[dict[str, Any]] = [
    {"id": "start", "name": "Salah al-Din", "kind": "departure", "expected_minutes": 0},
    {
        "id": "cp1",
        "name": "Ramouseh",
        "kind": "checkpoint",
        "expected_minutes": 20,
        "pcode": "SY020100",
        "admin_level": 3,
    },
    {"id": "end", "name": "Khan al-Asal", "kind": "arrival", "expected_minutes": 60},
]
WINDOWS = [{"start": "2016-12-15T06:00:00Z", "end": "2016-12-15T18:00:00Z"}]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    """A running service with an operation, one user per role and a scanner device."""

    client: TestClient
    settings: Settings
    operation_id: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    device_token: str = ""

    def as_role(self, role: str) -> dict[str, str]:
        return bearer(self.tokens[role])

    @property
    def coordinator(self) -> dict[str, str]:
        return self.as_role("coordinator")

    @property
    def device(self) -> dict[str, str]:
        return bearer(self.device_token)

    def url(self, tail: str = "") -> str:
        return f"/api/operations/{self.operation_id}{tail}"

    def login(self, username: str) -> str:
        answer = self.client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def household(self, *people: dict[str, Any], gathering_point: str = "gp-a") -> dict[str, Any]:
        answer = self.client.post(
            self.url("/households"),
            json={"gathering_point": gathering_point, "people": list(people)},
            headers=self.coordinator,
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def vehicle(self, code: str, kind: str = "bus", seats: int = 40, stretchers: int = 0) -> None:
        answer = self.client.post(
            self.url("/vehicles"),
            json={"code": code, "kind": kind, "seats": seats, "stretchers": stretchers},
            headers=self.coordinator,
        )
        assert answer.status_code == 201, answer.text


def bootstrap_coordinator(settings: Settings, username: str = "coordinator") -> None:
    """The first user, made directly in the database (as ``corridor serve`` seeding does)."""
    db = Database(settings.database_url)
    passwords = Passwords(time_cost=1, memory_kib=64)
    with db.writing() as session:
        user = access.create_user(session, username=username, password=PASSWORD, passwords=passwords)
        access.grant(session, user_id=user.id, role=Role.COORDINATOR, operation_id=None)
    db.dispose()


def make_world(client: TestClient, settings: Settings, name: str = "East Aleppo") -> World:
    bootstrap_coordinator(settings)
    world = World(client, settings)
    world.tokens["coordinator"] = world.login("coordinator")
    answer = client.post(
        "/api/operations",
        json={"name": name, "scenario_name": "east-aleppo-2016", "route": ROUTE, "windows": WINDOWS},
        headers=world.coordinator,
    )
    assert answer.status_code == 201, answer.text
    world.operation_id = answer.json()["id"]
    for role in Role:
        if role is Role.COORDINATOR:
            continue
        username = f"{role}-user"
        made = client.post(
            "/api/users", json={"username": username, "password": PASSWORD}, headers=world.coordinator
        )
        assert made.status_code == 201, made.text
        granted = client.post(
            world.url("/members"), json={"username": username, "role": str(role)}, headers=world.coordinator
        )
        assert granted.status_code == 204, granted.text
        world.tokens[str(role)] = world.login(username)
    device = client.post(
        world.url("/devices"),
        json={"device_id": "scanner-1", "label": "gate scanner", "point": "start"},
        headers=world.coordinator,
    )
    assert device.status_code == 201, device.text
    world.device_token = device.json()["token"]
    return world


@pytest.fixture
def world(client: TestClient, settings: Settings) -> World:
    return make_world(client, settings)
