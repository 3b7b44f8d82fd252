"""Languages of the web app: gettext catalogs in ``locales/<code>/LC_MESSAGES/corridor.po``, read by
the one loader of the project's languages (:mod:`corridor.core.catalogs`); adding a language is
adding its PO file (``make messages`` makes one whole from English).

Each message is a key (``nav.dashboard``) with ``{name}`` placeholders; a message with plural forms
takes its count from ``n`` (``t("register.done", n=3)``), in the language's CLDR plural form. English
is the reference: a key missing or untranslated in another language is said in English (a test
checks that none is missing). The PO files are the one source: a page's script gets the words it
needs inside the page (its template writes them, with every plural form, from these catalogs).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import Request

from corridor.core.catalogs import REFERENCE, Language, load_languages

LOCALES = Path(__file__).parent / "locales"
DEFAULT = REFERENCE
LANG_COOKIE = "corridor_lang"

__all__ = ["DEFAULT", "LANG_COOKIE", "LOCALES", "Language", "choose", "languages"]


@cache
def languages() -> dict[str, Language]:
    """Every language with a catalog in ``locales/``, by code."""
    return load_languages(LOCALES)


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
