"""Names the service keeps for itself, which no scanner may be enrolled under.

The server records its own events as device ``server``; a person scanning from a browser sends
as device ``user:<username>`` (or ``user:<username>/<browser>``). A scanner under one of those
names could take sequence numbers the server or a person needs, so such names are refused.
"""

from __future__ import annotations

import unicodedata

from corridor.core.errors import InputError
from corridor.ops.ledger import SERVER_DEVICE

# Exact names (compared without regard to case) and prefixes kept for the service.
RESERVED_NAMES = frozenset({SERVER_DEVICE})
RESERVED_PREFIXES = (f"{SERVER_DEVICE}:", "user:")


def _skeleton(name: str) -> str:
    """The name as it reads: compatibility forms made plain (full-width letters), case folded,
    and every character that is not a letter or digit left out (``server.`` reads ``server``)."""
    return "".join(c for c in unicodedata.normalize("NFKC", name).casefold() if c.isalnum())


# What the reserved names read as: a name that reads as one of these, or starts with one, is kept.
_RESERVED_SKELETONS = tuple(sorted({_skeleton(n) for n in (*RESERVED_NAMES, *RESERVED_PREFIXES)}))


def is_reserved(device_id: str) -> bool:
    folded = device_id.casefold()
    if folded in RESERVED_NAMES or folded.startswith(RESERVED_PREFIXES):
        return True
    return _skeleton(device_id).startswith(_RESERVED_SKELETONS)


def check_device_name(device_id: str, *, where: str = "device_id") -> None:
    """Refuse a scanner id the service uses itself (422 naming the field)."""
    if is_reserved(device_id):
        raise InputError(
            f"device id {device_id!r} is reserved for the service",
            where=where,
            hint=f"choose another id; {SERVER_DEVICE!r} and ids starting with "
            + " or ".join(repr(p) for p in RESERVED_PREFIXES)
            + " are the service's own, and so is any id that reads as one of them once case, "
            "punctuation and letter forms are set aside",
        )
