"""Encryption at rest of personal fields and evidence, with a key kept in a file, not the database.

The key file holds Fernet keys (AES-128-CBC with HMAC-SHA256, from ``cryptography``), one a line.
The first encrypts; every one decrypts, so that a key can be rotated (``corridor rotate-key``,
:mod:`corridor.server.key_rotation`): the new key is put first, everything stored is encrypted
again under it, then the old key is dropped. The first key, through HMAC with a fixed label, also
makes the blind index used to find duplicate names without storing them in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from corridor.core.errors import CorridorError, InputError


class KeyFileError(CorridorError):
    """The key file is missing, unreadable or not a key."""


def load_or_create_key(path: Path) -> bytes:
    """The (first) key in ``path``; a new one is written (mode 0600) if the file does not exist."""
    return load_or_create_keys(path)[0]


def load_or_create_keys(path: Path) -> list[bytes]:
    """The keys in ``path``, the one that encrypts first; a new key is written (mode 0600) if the
    file does not exist."""
    if not path.exists():
        key = Fernet.generate_key()
        write_keys(path, [key])
        return [key]
    keys = [line.strip() for line in path.read_bytes().splitlines() if line.strip()]
    try:
        if not keys:
            raise ValueError("no key")
        for key in keys:
            Fernet(key)
    except ValueError as exc:
        raise KeyFileError(
            "the key file does not hold a key",
            where=str(path),
            hint="restore the key file from its backup; without it encrypted data cannot be read",
        ) from exc
    return keys


def write_keys(path: Path, keys: list[bytes]) -> None:
    """Write ``keys`` to ``path`` (mode 0600) all at once: a new file, synced, then renamed over
    the old one, so that a crash leaves one whole key file or the other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"".join(key + b"\n" for key in keys))
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


class Sealer:
    """Encrypts and decrypts text and bytes; makes blind indexes."""

    def __init__(self, key: bytes, *older: bytes) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in (key, *older)])
        self._index_key = hmac.new(key, b"corridor blind index v1", hashlib.sha256).digest()

    @classmethod
    def from_file(cls, path: Path) -> Sealer:
        return cls(*load_or_create_keys(path))

    def reseal(self, token: str) -> str:
        """``token`` encrypted again under the first key (decrypted with whichever key opens it)."""
        return self.reseal_bytes(token.encode("ascii")).decode("ascii")

    def reseal_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise InputError(
                "stored data cannot be decrypted with any key of the key file",
                hint="start with the key file the data was written with",
            ) from exc

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
