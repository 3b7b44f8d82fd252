"""Text message batches: each notice's SMS for its recipients, as a CSV that SMS gateways and
RapidPro import, with the characters and parts each message takes.

A message is sent in GSM-7 when every character is in the GSM 03.38 alphabet (its extension
characters ``^{}\\[~]|€`` take two places): 160 places in one part, 153 per part when split. Any
other character (all Arabic letters among them) makes the whole message UCS-2: 70 characters in
one part, 67 per part when split (counted in UTF-16 units, so a character outside the Basic
Multilingual Plane takes two).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)

COLUMNS = ("urn", "phone", "message", "language", "encoding", "characters", "parts", "notice", "version")
# RapidPro names languages by ISO 639-3.
ISO639_3 = {"ar": "ara", "en": "eng"}


@dataclass(frozen=True)
class Length:
    """How a message is sent: ``encoding`` (``GSM-7`` or ``UCS-2``), the places it takes
    (``characters``: septets for GSM-7, UTF-16 units for UCS-2) and the ``parts``."""

    encoding: str
    characters: int
    parts: int


def length(message: str) -> Length:
    """The encoding, length and number of parts of ``message``."""
    if all(c in _BASIC or c in _EXTENSION for c in message):
        places = sum(2 if c in _EXTENSION else 1 for c in message)
        single, each = 160, 153
        encoding = "GSM-7"
    else:
        places = len(message.encode("utf-16-le")) // 2
        single, each = 70, 67
        encoding = "UCS-2"
    parts = 1 if places <= single else -(-places // each)
    return Length(encoding, places, parts)


@dataclass(frozen=True)
class Message:
    """One message to one phone number."""

    phone: str
    text: str
    language: str  # ar or en
    notice: str  # the notice's key
    version: int


def urn(phone: str) -> str:
    """RapidPro's URN of a phone number (``tel:+963...``)."""
    return f"tel:{phone}"


def normal_phone(typed: str) -> str | None:
    """A phone number as a gateway takes it (``+`` and digits, 6 to 15 of them), or None when
    ``typed`` is not one (letters, too short, too long)."""
    kept = "".join(c for c in typed.strip() if c not in " -.()/")
    if kept.startswith("00"):
        kept = "+" + kept[2:]
    digits = kept[1:] if kept.startswith("+") else kept
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        return None
    return kept


def batch_csv(messages: Iterable[Message]) -> str:
    """The batch as CSV text (a header row, then one row per message)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for m in messages:
        size = length(m.text)
        writer.writerow(
            (
                urn(m.phone),
                m.phone,
                m.text,
                ISO639_3.get(m.language, m.language),
                size.encoding,
                size.characters,
                size.parts,
                m.notice,
                m.version,
            )
        )
    return out.getvalue()


@dataclass(frozen=True)
class DeliveryStatus:
    """One row of a gateway's delivery report: the phone number and whether it failed."""

    phone: str
    failed: bool
    detail: str


FAILED = frozenset({"failed", "undelivered", "rejected", "errored", "error", "expired", "blocked"})


def read_statuses(text: str) -> list[DeliveryStatus]:
    """A gateway's delivery report (CSV with a header): the phone from a ``phone``, ``urn``,
    ``to`` or ``contact`` column and the status from a ``status`` column (RapidPro and most
    gateways say ``delivered``, ``sent``, ``failed``, ``errored``...). ``ValueError`` naming the
    line when a row or the header lacks them."""
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower(): f for f in reader.fieldnames or []}
    phone_field = next((fields[f] for f in ("phone", "urn", "to", "contact") if f in fields), None)
    status_field = fields.get("status")
    if phone_field is None or status_field is None:
        raise ValueError("line 1: the header needs a phone (or urn, to, contact) column and a status column")
    found = []
    for line, row in enumerate(reader, start=2):
        phone = (row.get(phone_field) or "").strip().removeprefix("tel:")
        status = (row.get(status_field) or "").strip().lower()
        if not phone or not status:
            raise ValueError(f"line {line}: a phone number and a status are needed")
        found.append(DeliveryStatus(phone, status in FAILED, status))
    return found
