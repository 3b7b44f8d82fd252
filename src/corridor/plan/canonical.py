"""The canonical JSON of a plan file and its SHA-256: the version operations cite."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of ``data`` as canonical JSON (keys sorted, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
