"""Signed checkpoints of the ledger's head, with a key kept apart from the database.

A checkpoint says "the chain's hash at entry ``position`` was ``head_hash``", signed with an
Ed25519 key held in a file (``CORRIDOR_SIGNING_KEY_FILE``, mode 0600) that is not in the database.
Whoever can rewrite the database (edit an entry and recompute every hash after it) cannot sign: the
rewritten chain no longer passes through the signed hashes, and ``verify-ledger`` says from which
entry on it can no longer be trusted. An export of a checkpoint (:class:`HeadExport`, a few lines
of JSON) kept elsewhere, printed or on another server, proves the head even if the checkpoint
rows themselves are deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError, InputError
from corridor.ops.ledger import canonical_json, utc_text
from corridor.server.columns import utc_now
from corridor.server.db import Database
from corridor.server.ledger.chain_tables import LedgerCheckpoint
from corridor.server.ledger.tables import LedgerHead
from corridor.server.settings import Settings, default_signing_key_path

log = logging.getLogger("corridor.server.ledger")

STATEMENT = "corridor ledger checkpoint v1"


class SigningKeyError(CorridorError):
    """The signing key file is unreadable, not a key, or readable by others."""


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in ``path`` (PEM); a new one is written, mode 0600, if there is none.

    A key file that others than its owner may read is refused: whoever reads it can sign."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # 0700 if it makes the folder
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SigningKeyError(
            f"the signing key file may be read by others (mode {mode:04o})",
            where=str(path),
            hint=f"chmod 600 {path}",
        )
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            "the signing key file does not hold a key",
            where=str(path),
            hint="restore the signing key file from its backup, or move it away to make a new key",
        ) from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyError("the signing key file holds a key of another kind", where=str(path))
    return loaded


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw public key, in hex (64 characters)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def key_id(public: str) -> str:
    """The SHA-256 of the raw public key, in hex: names the key a checkpoint was signed with."""
    return hashlib.sha256(bytes.fromhex(public)).hexdigest()


def public_key_from_hex(text: str, *, where: str = "public key") -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.strip()))
    except ValueError as exc:
        raise InputError(
            "not an Ed25519 public key", where=where, hint="give the 64 hex digits of the public key"
        ) from exc


def message(position: int, head_hash: str, signed_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return canonical_json(
        {
            "statement": STATEMENT,
            "position": position,
            "head_hash": head_hash,
            "signed_at": utc_text(signed_at),
        }
    )


def signature_ok(public: Ed25519PublicKey, checkpoint: LedgerCheckpoint) -> bool:
    try:
        public.verify(
            bytes.fromhex(checkpoint.signature),
            message(checkpoint.position, checkpoint.head_hash, checkpoint.signed_at),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class HeadExport:
    """A signed checkpoint as a few lines to keep elsewhere (print it, send it to another server)."""

    statement: str
    position: int
    head_hash: str
    signed_at: str
    signature: str
    public_key: str
    key_id: str

    @classmethod
    def of(cls, checkpoint: LedgerCheckpoint, public: str) -> HeadExport:
        return cls(
            STATEMENT,
            checkpoint.position,
            checkpoint.head_hash,
            utc_text(checkpoint.signed_at),
            checkpoint.signature,
            public,
            checkpoint.key_id,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str, *, where: str = "head export") -> HeadExport:
        try:
            data: Any = json.loads(text)
            export = cls(**data)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"not a ledger head export: {exc}",
                where=where,
                hint="give the JSON printed by `corridor ledger-head`",
            ) from exc
        if export.statement != STATEMENT:
            raise InputError(f"unknown statement {export.statement!r}", where=where)
        return export

    def signature_ok(self, public: Ed25519PublicKey | None = None) -> bool:
        """True when the signature is good under ``public`` (default: the export's own key)."""
        key = public or public_key_from_hex(self.public_key)
        signed_at = datetime.fromisoformat(self.signed_at.replace("Z", "+00:00"))
        try:
            key.verify(bytes.fromhex(self.signature), message(self.position, self.head_hash, signed_at))
        except (InvalidSignature, ValueError):
            return False
        return True


def sign_head(session: Session, key: Ed25519PrivateKey) -> LedgerCheckpoint:
    """Sign the current head and store the checkpoint (in the caller's transaction).

    The head row is written first (unchanged), which locks it until the commit: appends wait, so
    the head read is the head, and on SQLite the transaction holds the write lock from its first
    statement (it waits for another process's writes instead of failing as a stale reader)."""
    _hold_head(session)
    head = session.scalar(select(LedgerHead).where(LedgerHead.id == 1))
    if head is None:
        raise InputError("the ledger head row is missing", hint="run the database migrations")
    signed_at = utc_now()
    signature = key.sign(message(head.count, head.head_hash, signed_at)).hex()
    checkpoint = LedgerCheckpoint(
        position=head.count,
        head_hash=head.head_hash,
        signed_at=signed_at,
        key_id=key_id(public_hex(key)),
        signature=signature,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _hold_head(session: Session) -> None:
    session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(count=LedgerHead.count))


def latest(session: Session) -> LedgerCheckpoint | None:
    query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.position.desc(), LedgerCheckpoint.id.desc())
    return session.scalars(query.limit(1)).first()


def checkpoint_now(db: Database, key_path: Path) -> HeadExport:
    """Sign the head in a transaction of its own; its export."""
    key = load_or_create_signing_key(key_path)
    with db.writing() as session:
        return HeadExport.of(sign_head(session, key), public_hex(key))


def checkpoint_if_moved(db: Database, key_path: Path) -> HeadExport | None:
    """Sign the head if it has moved since the last checkpoint (None if it has not)."""
    key = load_or_create_signing_key(key_path)
    with db.writing() as session:
        _hold_head(session)
        last = latest(session)
        head = session.get(LedgerHead, 1)
        if head is None or (last is not None and last.position == head.count):
            return None
        return HeadExport.of(sign_head(session, key), public_hex(key))


_told: set[Path] = set()


def say_if_in_the_old_place(settings: Settings) -> bool:
    """Say once (in the log) that the signing key is still where it was made by default before,
    in the data folder, and how to move it. True if it is there."""
    path = settings.signing_key_path
    if settings.signing_key_file is not None or path != settings.old_signing_key_path:
        return False
    if path not in _told:
        _told.add(path)
        new = default_signing_key_path(settings.data_dir)
        log.warning(
            "the ledger's signing key %s is in the data folder, which is copied with the database "
            "and its backups: whoever has a copy can sign a rewritten ledger. Stop the service and "
            "move it where it is now looked for by default: mkdir -p -m 700 %s && mv %s %s "
            "(or set CORRIDOR_SIGNING_KEY_FILE to a path apart from the data)",
            path,
            new.parent,
            path,
            new,
        )
    return True


def beside_database(db_url: str, key_path: Path) -> bool:
    """True when ``key_path`` is in the folder of the SQLite database at ``db_url``."""
    parsed = make_url(db_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return False
    return Path(parsed.database).resolve().parent == key_path.resolve().parent


class Checkpointer:
    """Signs a checkpoint of the head every ``minutes`` when it has moved, on a thread of its own."""

    def __init__(self, db: Database, key_path: Path, *, minutes: float) -> None:
        self.db = db
        self.key_path = key_path
        self.minutes = minutes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.minutes <= 0 or self._thread is not None:
            return
        if beside_database(self.db.url, self.key_path):
            log.warning(
                "the ledger's signing key %s is in the database's folder: whoever copies the folder "
                "can sign a rewritten ledger; set CORRIDOR_SIGNING_KEY_FILE to a path elsewhere",
                self.key_path,
            )
        self._thread = threading.Thread(target=self._run, name="ledger-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.minutes * 60):
            try:
                checkpoint_if_moved(self.db, self.key_path)
            except Exception:  # keep signing later; the scans go on regardless
                log.exception("signing a ledger checkpoint failed")
