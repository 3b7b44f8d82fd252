"""Tracing codes: twelve characters a relative can copy from a slip of paper and type on a phone.

The alphabet is Crockford's base 32 (no I, L, O or U), 60 random bits; a code is printed as
``XXXX-XXXX-XXXX`` and read back whatever its case, spaces and dashes, with ``O`` read as ``0``
and ``I`` or ``L`` as ``1``. Only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh code, printed form (``XXXX-XXXX-XXXX``)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normal(typed: str) -> str:
    """``typed`` as the code it stands for: upper case, no spaces or dashes, look-alikes read.
    Anything else is kept (and then matches no code)."""
    kept = "".join(c for c in typed.upper() if c not in " -\t")
    return kept.translate(_READ_AS)[:64]


def digest(typed: str) -> str:
    """The stored form of a code: SHA-256 of its normal form."""
    return hashlib.sha256(b"corridor tracing code v1:" + normal(typed).encode("utf-8")).hexdigest()
