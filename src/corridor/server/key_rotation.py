"""Rotate the encryption key of personal fields and evidence (``corridor rotate-key``).

Run with the service stopped. Steps, each safe to crash after:

1. a new key is put first in the key file, the old ones kept after it (both decrypt);
2. in one transaction, every sealed column is encrypted again under the new key and every blind
   index of a name is made again with it;
3. every evidence file is encrypted again (a new file, then renamed over the old one);
4. the key file is written with the new key alone.

Run again after a crash: a key file that still holds several keys is finished with its first key,
not a new one. Backups made before the rotation need the old key: keep it with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from corridor.server.db import Database
from corridor.server.encryption import Sealer, load_or_create_keys, write_keys
from corridor.server.incidents.tables import Incident
from corridor.server.ledger.snapshot_tables import CountsSnapshot
from corridor.server.registration import duplicates
from corridor.server.registration.tables import Person


@dataclass(frozen=True)
class Rotation:
    people: int
    incidents: int
    evidence_files: int
    resumed: bool


def rotate_key(db_url: str, key_file: Path, evidence_dir: Path | None = None) -> Rotation:
    """Encrypt everything stored under a new key and drop the old ones from ``key_file``."""
    keys = load_or_create_keys(key_file)
    resumed = len(keys) > 1
    if not resumed:
        keys = [Fernet.generate_key(), *keys]
        write_keys(key_file, keys)
    sealer = Sealer(*keys)
    db = Database(db_url)
    try:
        with db.writing() as session:
            people = 0
            for person in session.scalars(select(Person)):
                if person.name_sealed:
                    name = sealer.open(person.name_sealed)
                    person.name_sealed = sealer.reseal(person.name_sealed)
                    person.name_index = duplicates.name_index(sealer, name)
                if person.phone_sealed:
                    person.phone_sealed = sealer.reseal(person.phone_sealed)
                people += 1
            incidents = 0
            for incident in session.scalars(select(Incident)):
                if incident.description_sealed:
                    incident.description_sealed = sealer.reseal(incident.description_sealed)
                incidents += 1
            for snapshot in session.scalars(select(CountsSnapshot)):
                snapshot.body = sealer.reseal_bytes(snapshot.body)
    finally:
        db.dispose()
    files = 0
    if evidence_dir is not None and evidence_dir.exists():
        for path in sorted(p for p in evidence_dir.rglob("*") if p.is_file() and _is_evidence(p)):
            temporary = path.with_name(path.name + ".new")
            temporary.write_bytes(sealer.reseal_bytes(path.read_bytes()))
            temporary.chmod(path.stat().st_mode & 0o777)
            temporary.replace(path)
            files += 1
    write_keys(key_file, keys[:1])
    return Rotation(people, incidents, files, resumed)


def _is_evidence(path: Path) -> bool:
    """An evidence file is named by its SHA-256 (64 hex digits); anything else is left alone."""
    return len(path.name) == 64 and all(c in "0123456789abcdef" for c in path.name)
