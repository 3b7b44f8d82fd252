"""Signed checkpoints of the ledger's head: a chain edited and recomputed behind the service's
back verifies on its own, but no longer passes through what was signed."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from corridor.cli.main import app as cli
from corridor.ops.ledger import canonical_json, entry_hash, sha256_hex
from corridor.server.db import Database
from corridor.server.ledger import anchor
from corridor.server.ledger.chain_tables import LedgerCheckpoint
from corridor.server.ledger.tables import LedgerHead, LedgerRow
from corridor.server.ledger_check import entry_of, verify_ledger
from server.conftest import World

runner = CliRunner()


def scans(world: World, first: int, count: int) -> None:
    events = [
        {
            "event_id": f"e{n}",
            "device_id": "scanner-1",
            "seq": n,
            "device_time": f"2016-12-15T10:{n:02d}:00Z",
            "type": "checkpoint",
            "payload": {"vehicle_id": "bus-1", "point": "cp1"},
        }
        for n in range(first, first + count)
    ]
    answer = world.client.post(world.url("/events/batch"), json={"events": events}, headers=world.device)
    assert answer.status_code == 200 and answer.json()["stored"] == count, answer.text


def sign(world: World) -> dict[str, Any]:
    answer = world.client.post("/api/ledger/checkpoints", headers=world.coordinator)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def rewrite(url: str, position: int, edit: Callable[[LedgerRow], None]) -> None:
    """Edit one entry as a careful forger would: recompute its payload hash and every chain hash
    from it to the head, and the head row."""
    db = Database(url)
    with db.writing() as session:
        rows = session.scalars(select(LedgerRow).order_by(LedgerRow.position)).all()
        previous = rows[position - 2].entry_hash if position > 1 else rows[0].previous_hash
        for row in rows[position - 1 :]:
            if row.position == position:
                edit(row)
                row.payload_sha256 = sha256_hex(row.payload.encode())
            row.previous_hash = previous
            entry = entry_of(row)
            assert entry.filing is not None
            row.entry_hash = previous = entry_hash(previous, entry.event, entry.filing)
        head = session.get(LedgerHead, 1)
        assert head is not None
        head.head_hash = previous
    db.dispose()


def to_bus_9(row: LedgerRow) -> None:
    row.payload = canonical_json({**json.loads(row.payload), "vehicle_id": "bus-9"}).decode()
    row.subject_id = "bus-9"


def public(world: World) -> Any:
    return anchor.load_or_create_signing_key(world.settings.signing_key_path).public_key()


def test_a_signed_checkpoint_is_exported_and_its_key_kept_private(world: World) -> None:
    world.vehicle("bus-1")
    scans(world, 1, 3)
    export = sign(world)
    path = world.settings.signing_key_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.parent != Path(world.settings.database_url.removeprefix("sqlite:///")).parent
    head = world.client.get("/api/ledger/head", headers=world.coordinator).json()
    assert head == export and export["position"] == 3
    assert anchor.HeadExport(**export).signature_ok(public(world))
    forged = anchor.HeadExport(**{**export, "position": 5})
    assert not forged.signature_ok(public(world))
    assert world.client.post("/api/ledger/checkpoints", headers=world.as_role("monitor")).status_code == 403
    check = world.client.get("/api/ledger/verify", headers=world.coordinator).json()
    assert check["ok"] and check["checkpoints"] == 1 and check["signatures_checked"]


def test_no_checkpoint_yet_is_a_404(world: World) -> None:
    answer = world.client.get("/api/ledger/head", headers=world.coordinator)
    assert answer.status_code == 404 and "POST /api/ledger/checkpoints" in answer.json()["error"]["hint"]


def test_a_rewritten_chain_is_found_after_the_last_good_checkpoint(world: World) -> None:
    world.vehicle("bus-1")
    scans(world, 1, 3)  # entries 1-3
    sign(world)  # at 3
    scans(world, 4, 2)  # 4-5
    sign(world)  # at 5
    scans(world, 6, 2)  # 6-7
    url = world.settings.database_url
    rewrite(url, 5, to_bus_9)
    plain = verify_ledger(url)
    assert plain.chain.ok  # the recomputed chain holds together on its own ...
    assert not plain.ok and plain.first_bad_position == 4, plain.render()  # ... but misses a checkpoint
    assert plain.last_good_checkpoint == 3 and "entry 5" in plain.problem
    signed = verify_ledger(url, public(world))
    assert signed.first_bad_position == 4
    via_api = world.client.get("/api/ledger/verify", headers=world.coordinator).json()
    assert via_api["first_bad_position"] == 4 and via_api["last_good_checkpoint"] == 3


def test_a_rewrite_after_the_last_checkpoint_is_beyond_its_reach(world: World) -> None:
    """What the chain does not prove: entries after the last checkpoint can be rewritten unseen."""
    world.vehicle("bus-1")
    scans(world, 1, 3)
    sign(world)  # at 3
    scans(world, 4, 2)
    rewrite(world.settings.database_url, 4, to_bus_9)
    assert verify_ledger(world.settings.database_url, public(world)).ok


def test_a_checkpoint_moved_onto_the_rewritten_chain_has_a_bad_signature(world: World) -> None:
    world.vehicle("bus-1")
    scans(world, 1, 3)
    sign(world)  # at 3
    scans(world, 4, 2)
    sign(world)  # at 5
    url = world.settings.database_url
    rewrite(url, 4, to_bus_9)
    db = Database(url)
    with db.writing() as session:
        checkpoint = session.scalars(select(LedgerCheckpoint).where(LedgerCheckpoint.position == 5)).one()
        moved = select(LedgerRow.entry_hash).where(LedgerRow.position == 5)
        checkpoint.head_hash = session.scalars(moved).one()
    db.dispose()
    check = verify_ledger(url, public(world))
    assert check.first_bad_position == 4 and "signature" in check.problem, check.render()
    other_key = anchor.load_or_create_signing_key(world.settings.signing_key_path.with_name("other.key"))
    assert verify_ledger(url, other_key.public_key()).first_bad_position == 1  # not this key's


def test_an_export_kept_elsewhere_finds_a_rewrite_with_every_checkpoint_deleted(world: World) -> None:
    world.vehicle("bus-1")
    scans(world, 1, 3)
    export = anchor.HeadExport(**sign(world))  # at 3
    scans(world, 4, 2)
    url = world.settings.database_url
    rewrite(url, 2, to_bus_9)
    db = Database(url)
    with db.writing() as session:
        session.execute(delete(LedgerCheckpoint))
    db.dispose()
    assert verify_ledger(url, public(world)).ok  # nothing left in the database to catch it
    found = verify_ledger(url, public(world), [export])
    assert found.first_bad_position == 1 and "entry 3" in found.problem, found.render()


def test_entries_cut_off_after_a_checkpoint_are_found(world: World) -> None:
    world.vehicle("bus-1")
    scans(world, 1, 3)
    sign(world)  # at 3
    url = world.settings.database_url
    db = Database(url)
    with db.writing() as session:
        session.execute(delete(LedgerRow).where(LedgerRow.position == 3))
        head = session.get(LedgerHead, 1)
        assert head is not None
        head.count = 2
        head.head_hash = session.scalars(select(LedgerRow.entry_hash).where(LedgerRow.position == 2)).one()
    db.dispose()
    check = verify_ledger(url, public(world))
    assert not check.ok and check.first_bad_position == 1 and "cut off" in check.problem, check.render()


def test_a_signing_key_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    anchor.load_or_create_signing_key(path)
    path.chmod(0o644)
    with pytest.raises(anchor.SigningKeyError, match="read by others"):
        anchor.load_or_create_signing_key(path)
    path.chmod(0o600)
    path.write_text("not a key")
    with pytest.raises(anchor.SigningKeyError, match="does not hold a key"):
        anchor.load_or_create_signing_key(path)


def test_the_cli_exports_the_head_and_verifies_against_it(world: World, tmp_path: Path) -> None:
    world.vehicle("bus-1")
    scans(world, 1, 3)
    url = world.settings.database_url
    key = str(world.settings.signing_key_path)
    kept = tmp_path / "head.json"
    made = runner.invoke(cli, ["ledger-head", url, "--signing-key", key, "--out", str(kept)])
    assert made.exit_code == 0, made.output
    assert json.loads(kept.read_text())["position"] == 3
    ok = runner.invoke(cli, ["verify-ledger", url, "--signing-key", key, "--head", str(kept)])
    assert ok.exit_code == 0 and "intact" in ok.output, ok.output
    rewrite(url, 2, to_bus_9)
    bad = runner.invoke(cli, ["verify-ledger", url, "--signing-key", key, "--head", str(kept)])
    assert bad.exit_code == 1 and "entry 1" in bad.output, bad.output
    kept.write_text("{}")
    broken = runner.invoke(cli, ["verify-ledger", url, "--head", str(kept)])
    assert broken.exit_code == 2 and "head export" in broken.output, broken.output


def test_a_signing_key_in_the_database_folder_is_warned_of(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'corridor.db'}"
    assert anchor.beside_database(url, tmp_path / "data" / "ledger-signing.key")
    assert not anchor.beside_database(url, tmp_path / "keys" / "ledger-signing.key")
    assert not anchor.beside_database("postgresql+psycopg://h/db", tmp_path / "ledger-signing.key")


def test_without_a_key_a_forged_checkpoint_is_not_called_intact(world: World) -> None:
    """A rewrite whose checkpoint row was moved onto the new chain: without the key the CLI
    cannot tell, so it must not say "intact" nor exit 0 unless told to accept that."""
    world.vehicle("bus-1")
    scans(world, 1, 3)
    sign(world)  # at 3
    url = world.settings.database_url
    key = str(world.settings.signing_key_path)
    unchecked = runner.invoke(cli, ["verify-ledger", url])
    assert unchecked.exit_code == 3 and "unchecked" in unchecked.output, unchecked.output
    assert "ledger intact" not in unchecked.output
    rewrite(url, 2, to_bus_9)
    db = Database(url)
    with db.writing() as session:
        checkpoint = session.scalars(select(LedgerCheckpoint)).one()
        checkpoint.head_hash = session.scalars(
            select(LedgerRow.entry_hash).where(LedgerRow.position == 3)
        ).one()
    db.dispose()
    forged = runner.invoke(cli, ["verify-ledger", url])
    assert forged.exit_code == 3 and "ledger intact" not in forged.output, forged.output
    accepted = runner.invoke(cli, ["verify-ledger", url, "--no-signatures"])
    assert accepted.exit_code == 0 and "unchecked" in accepted.output, accepted.output
    caught = runner.invoke(cli, ["verify-ledger", url, "--signing-key", key])
    assert caught.exit_code == 1 and "signature" in caught.output, caught.output
