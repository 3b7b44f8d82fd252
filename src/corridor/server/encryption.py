"""Encryption at rest of personal fields and evidence, with a key kept in a file, not the database.

The key file holds one Fernet key (AES-128-CBC with HMAC-SHA256, from ``cryptography``). The same
key, through HMAC with a fixed label, also makes the blind index used to find duplicate names
without storing them in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from corridor.core.errors import CorridorError, InputError


class KeyFileError(CorridorError):
    """The key file is missing, unreadable or not a key."""


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``; a new one is written (mode 0600) if the file does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        return key
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError as exc:
        raise KeyFileError(
            "the key file does not hold a key",
            where=str(path),
            hint="restore the key file from its backup; without it encrypted data cannot be read",
        ) from exc
    return key


class Sealer:
    """Encrypts and decrypts text and bytes; makes blind indexes."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._index_key = hmac.new(key, b"corridor blind index v1", hashlib.sha256).digest()

    @classmethod
    def from_file(cls, path: Path) -> Sealer:
        return cls(load_or_create_key(path))

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        return self.open_bytes(token.encode("ascii")).decode("utf-8")

    def seal_bytes(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def open_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise InputError(
                "stored data cannot be decrypted with this key",
                hint="start the service with the key file the data was written with",
            ) from exc

    def blind_index(self, text: str) -> str:
        return hmac.new(self._index_key, text.encode("utf-8"), hashlib.sha256).hexdigest()
