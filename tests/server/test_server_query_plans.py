"""SQLite searches an operation's people by id, not the whole operation, when some of them are
looked up (``operation_id = ? AND id IN (...)``): scans check a batch's people this way inside the
write transaction, and counts and rosters read some people this way. With an index on
``operation_id`` alone SQLite read every person of the operation for four ids or more."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from corridor.server.db import upgrade

IDS = [f"p{i:05d}" for i in range(500)]
MARKS = ", ".join("?" * len(IDS))

STATEMENTS = {
    "a batch's people checked": f"SELECT id FROM people WHERE operation_id = ? AND id IN ({MARKS})",
    "people with their households": (
        "SELECT people.id, households.gathering_point FROM people "
        "JOIN households ON households.id = people.household_id "
        f"WHERE people.operation_id = ? AND people.id IN ({MARKS})"
    ),
    "people with their manifests": (
        "SELECT people.id FROM people "
        "LEFT OUTER JOIN manifest_entries ON manifest_entries.person_id = people.id "
        f"WHERE people.operation_id = ? AND people.purged_at IS NULL AND people.id IN ({MARKS})"
    ),
}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "corridor.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_some_people_of_an_operation_are_searched_by_id(migrated: Path, name: str) -> None:
    with sqlite3.connect(migrated) as connection:
        plan = connection.execute(f"EXPLAIN QUERY PLAN {STATEMENTS[name]}", ["op", *IDS]).fetchall()
    people = [detail for *_, detail in plan if " people " in f" {detail} "]
    assert people, plan
    assert all("id=?" in detail.replace("operation_id=?", "") for detail in people), people


def test_every_person_of_an_operation_is_still_found_by_index(migrated: Path) -> None:
    with sqlite3.connect(migrated) as connection:
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM people WHERE operation_id = ?", ["op"]
        ).fetchall()
    assert any("INDEX" in detail and "operation_id=?" in detail for *_, detail in plan), plan
