"""Backups (SQLite online backup, pg_dump) restored and proved by verify-ledger; key rotation
keeps every encrypted field and evidence file readable; key and database files are private."""

from __future__ import annotations

import hashlib
import secrets
import stat
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from corridor.cli.main import app as cli
from corridor.core.errors import InputError
from corridor.server import backup
from corridor.server.app import create_app
from corridor.server.encryption import Sealer, load_or_create_keys
from corridor.server.key_rotation import rotate_key
from corridor.server.ledger_check import verify_ledger
from server.conftest import PG_SERVER, World, bearer

runner = CliRunner()
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def fill(world: World) -> list[str]:
    world.vehicle("bus-1")
    people = world.household(
        {"name": "Huda Khalil", "age_band": "18-59", "sex": "female", "phone": "+963 944 000 111"},
        {"name": "Karim", "age_band": "12-17", "sex": "male"},
    )["people"]
    events = [
        {
            "event_id": f"e{n}",
            "device_id": "scanner-1",
            "seq": n,
            "device_time": f"2016-12-15T10:0{n}:00Z",
            "type": "boarded",
            "payload": {"person_id": p["id"], "vehicle_id": "bus-1", "point": "start"},
        }
        for n, p in enumerate(people, start=1)
    ]
    answer = world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    assert answer.status_code == 200
    return [p["id"] for p in people]


def entries(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
    engine.dispose()
    return int(count)


def test_a_sqlite_backup_taken_while_serving_restores_and_verifies(world: World, tmp_path: Path) -> None:
    url = world.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("the SQLite online backup (PostgreSQL: see the pg_dump test)")
    fill(world)
    copy = backup.backup(url, tmp_path / "backups" / "copy.db")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    fill_more = {
        "event_id": "late",
        "device_id": "scanner-1",
        "seq": 9,
        "device_time": "2016-12-15T11:00:00Z",
        "type": "checkpoint",
        "payload": {"vehicle_id": "bus-1", "point": "cp1"},
    }
    assert world.client.post(world.url("/events"), json=fill_more, headers=world.device).status_code == 201
    restored = f"sqlite:///{tmp_path / 'restored' / 'corridor.db'}"
    backup.restore(copy, restored)
    check = verify_ledger(restored)
    assert check.ok and check.entries == entries(url) - 1 == 4, check.render()
    assert stat.S_IMODE(Path(make_url(restored).database or "").stat().st_mode) == 0o600
    with pytest.raises(InputError, match="exists already"):
        backup.restore(copy, restored)
    with pytest.raises(InputError, match="exists already"):
        backup.backup(url, copy)
    engine = create_engine(f"sqlite:///{copy}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE ledger_entries SET point = 'end' WHERE position = 4"))
    engine.dispose()
    fresh = tmp_path / "again.db"
    done = runner.invoke(cli, ["restore", str(copy), f"sqlite:///{fresh}"])
    assert done.exit_code == 1 and "entry 4" in done.output, done.output
    made = runner.invoke(cli, ["backup", url, str(tmp_path / "cli.db")])
    assert made.exit_code == 0 and "intact" in made.output, made.output


def test_a_pg_dump_restores_into_an_empty_database_and_verifies(world: World, tmp_path: Path) -> None:
    url = world.settings.database_url
    if url.startswith("sqlite"):
        pytest.skip("pg_dump (SQLite: see the online backup test)")
    fill(world)
    dump = backup.backup(url, tmp_path / "corridor.sql")
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600 and b"ledger_entries" in dump.read_bytes()
    name = f"corridor_restore_{secrets.token_hex(4)}"
    admin = psycopg.connect(backup.libpq_url(PG_SERVER), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        target = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
        done = runner.invoke(cli, ["restore", str(dump), target])
        assert done.exit_code == 0 and "intact" in done.output, done.output
        assert entries(target) == entries(url) == 4
        again = runner.invoke(cli, ["restore", str(dump), target])  # not an empty database
        assert again.exit_code == 1 and "psql failed" in again.output, again.output
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_old_data_reads_after_key_rotation(world: World) -> None:
    people = fill(world)
    made = world.client.post(
        world.url("/incidents"),
        json={
            "kind": "detention",
            "occurred_at": "2016-12-15T10:25:00Z",
            "description": "ثلاثة رجال",
            "vehicles": ["bus-1"],
        },
        headers=world.as_role("monitor"),
    )
    assert made.status_code == 201, made.text
    upload = world.client.post(
        world.url(f"/incidents/{made.json()['id']}/evidence"),
        files={"file": ("photo.png", PHOTO, "image/png")},
        headers=world.as_role("monitor"),
    )
    assert upload.status_code == 201, upload.text
    key_file = world.settings.key_file
    [old_key] = load_or_create_keys(key_file)
    digest = hashlib.sha256(PHOTO).hexdigest()
    stored = world.settings.data_dir / "evidence" / digest[:2] / digest
    world.client.close()

    done = rotate_key(world.settings.database_url, key_file, world.settings.data_dir / "evidence")
    assert (done.people, done.incidents, done.evidence_files, done.resumed) == (2, 1, 1, False)
    [new_key] = load_or_create_keys(key_file)
    assert new_key != old_key and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with pytest.raises(InputError):
        Sealer(old_key).open_bytes(stored.read_bytes())  # the old key opens nothing now
    Fernet(new_key).decrypt(stored.read_bytes())

    with TestClient(create_app(world.settings), raise_server_exceptions=False) as client:
        token = client.post(
            "/api/auth/token", data={"username": "coordinator", "password": "correct horse battery"}
        )
        headers = bearer(token.json()["access_token"])
        person = client.get(world.url(f"/people/{people[0]}"), headers=headers).json()
        assert person["name"] == "Huda Khalil"
        incidents = client.get(world.url("/incidents"), headers=headers).json()
        assert [i["description"] for i in incidents] == ["ثلاثة رجال"]
        assert client.get(world.url(f"/evidence/{digest}"), headers=headers).content == PHOTO
        again = client.post(
            world.url("/households"),
            json={
                "gathering_point": "gp-a",
                "people": [{"name": "Houda Khaleel", "age_band": "18-59", "sex": "female"}],
            },
            headers=headers,
        )
        assert again.status_code == 201, again.text
        found = [[d["person_id"], *d["matches"]] for d in again.json()["possible_duplicates"]]
        assert len(found) == 1 and people[0] in found[0]  # the blind index was made again with the new key
    engine = create_engine(world.settings.database_url)
    with engine.connect() as connection:
        phone = connection.execute(
            text("SELECT phone_sealed FROM people WHERE phone_sealed IS NOT NULL")
        ).scalar_one()
    engine.dispose()
    assert Sealer(new_key).open(phone) == "+963 944 000 111"
    assert verify_ledger(world.settings.database_url).ok


def test_a_rotation_cut_short_is_finished_with_the_same_new_key(world: World) -> None:
    fill(world)
    key_file = world.settings.key_file
    [old_key] = load_or_create_keys(key_file)
    pending = Fernet.generate_key()
    key_file.write_bytes(pending + b"\n" + old_key + b"\n")  # as step 1 leaves it
    done = rotate_key(world.settings.database_url, key_file)
    assert done.resumed and load_or_create_keys(key_file) == [pending]


def test_a_new_sqlite_database_and_its_key_files_are_private(tmp_path: Path) -> None:
    from corridor.server.db import Database, upgrade

    url = f"sqlite:///{tmp_path / 'data' / 'corridor.db'}"
    upgrade(url)
    db = Database(url)
    with db.writing() as session:
        session.execute(text("UPDATE ledger_head SET server_seq = 0"))
    db.dispose()
    made = [p for p in (tmp_path / "data").iterdir()]
    assert made and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in made), [
        (p.name, oct(p.stat().st_mode)) for p in made
    ]
    load_or_create_keys(tmp_path / "keys" / "corridor.key")
    assert stat.S_IMODE((tmp_path / "keys" / "corridor.key").stat().st_mode) == 0o600
