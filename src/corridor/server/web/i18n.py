"""Languages of the web app: one JSON file per language in ``locales/``; adding a language is
adding a file.

Each file maps message keys to text, with ``{name}`` placeholders, and has a ``_meta`` entry with
the language's own name and its direction (``ltr`` or ``rtl``). English is the reference: a key
missing from another language falls back to English (a test checks that none is missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import Request

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"
LANG_COOKIE = "corridor_lang"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    direction: str
    messages: dict[str, str]

    def text(self, key: str, **values: object) -> str:
        """The message ``key`` in this language (English if missing here), filled with ``values``."""
        template = self.messages.get(key)
        if template is None:
            template = languages()[DEFAULT].messages.get(key, key)
        return template.format(**values) if values else template


@cache
def languages() -> dict[str, Language]:
    """Every language with a file in ``locales/``, by code."""
    found: dict[str, Language] = {}
    for path in sorted(LOCALES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        meta = data.pop("_meta")
        found[path.stem] = Language(path.stem, meta["name"], meta["direction"], data)
    return found


def choose(request: Request) -> Language:
    """The language asked for by ``?lang=``, then the cookie, then the browser's preferences."""
    known = languages()
    for code in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if code in known:
            return known[code]
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in known:
            return known[code]
    return known[DEFAULT]
