"""argon2 password checks on the calling thread alone.

argon2-cffi's ``PasswordHasher.verify`` runs a hash of ``p`` lanes on ``p`` threads of the C library
(``p`` = 4 by default): each log-in's check takes both cores of a small machine for its ~0.1 s, at
whatever nice value, and the scans' event loop and writer wait for a core (and for the memory bus,
64 MiB a check). The lanes are part of the hash; the threads are not (Argon2's specification: the
result does not depend on how many threads fill the lanes). :func:`verify_on_one_thread` computes the
stored hash's own parameters with one thread through libargon2's ``argon2_ctx``: the same answer as
``PasswordHasher.verify`` (tested for every kind of hash), the same CPU time, one core at most,
about 1.6 times the wall time (0.16 s against 0.10 s at 64 MiB, three passes, four lanes). Every
check goes this way, the check against the dummy hash of an unknown name too, so a log-in's time
still does not tell whether its name exists. The interpreter's lock is released meanwhile, as
argon2-cffi's own calls release it.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError
from argon2.low_level import core, ffi

from argon2.low_level import lib  # type: ignore[attr-defined]  # isort: skip  # core()'s own binding


def _b64(text: str) -> bytes:
    """Argon2's unpadded standard base64."""
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def verify_on_one_thread(encoded: str, password: str) -> bool:
    """Whether ``password`` matches the argon2 hash ``encoded`` (PHC string), computed on this
    thread alone. Raises :class:`InvalidHashError` where ``encoded`` is not such a hash."""
    parameters = extract_parameters(encoded)  # InvalidHashError when malformed
    parts = encoded.split("$")
    try:
        salt, expected = _b64(parts[-2]), _b64(parts[-1])
    except (binascii.Error, ValueError, IndexError):
        raise InvalidHashError(encoded) from None
    secret = password.encode()
    out = ffi.new("uint8_t[]", len(expected))
    pwd = ffi.new("uint8_t[]", secret)
    salt_buffer = ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": len(expected),
            "pwd": pwd,
            "pwdlen": len(secret),
            "salt": salt_buffer,
            "saltlen": len(salt),
            "secret": ffi.NULL,
            "secretlen": 0,
            "ad": ffi.NULL,
            "adlen": 0,
            "t_cost": parameters.time_cost,
            "m_cost": parameters.memory_cost,
            "lanes": parameters.parallelism,
            "threads": 1,
            "version": parameters.version,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    if core(context, parameters.type.value) != lib.ARGON2_OK:
        raise InvalidHashError(encoded)
    return hmac.compare_digest(bytes(ffi.buffer(out, len(expected))), expected)
