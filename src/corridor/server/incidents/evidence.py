"""Evidence files on disk: named by the SHA-256 of the original, encrypted, written once.

A file is written to a temporary name, flushed to disk and renamed into place; an existing file is
never overwritten (the same content has the same name). Reading decrypts it and checks that its
SHA-256 still matches its name.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from corridor.core.errors import ConflictError
from corridor.server.encryption import Sealer


class EvidenceAlteredError(ConflictError):
    """A stored evidence file no longer matches the SHA-256 it was stored under."""


class EvidenceStore:
    def __init__(self, root: Path, sealer: Sealer) -> None:
        self.root = root
        self.sealer = sealer

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` (if not stored yet) and return its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_of(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.part")
        with temporary.open("wb") as handle:
            handle.write(self.sealer.seal_bytes(data))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
        return digest

    def get(self, sha256: str) -> bytes:
        data = self.sealer.open_bytes(self.path_of(sha256).read_bytes())
        if hashlib.sha256(data).hexdigest() != sha256:
            raise EvidenceAlteredError(
                f"evidence file {sha256} no longer matches its SHA-256",
                where=str(self.path_of(sha256)),
                hint="restore it from a backup; report the change",
            )
        return data
