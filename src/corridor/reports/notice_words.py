"""The words of notices, posters, SMS, the public pages and the staff's notices page, in English and
Arabic: messages of the reports' gettext catalogs (``locales/<lang>/LC_MESSAGES/corridor.po``, keys
``notice.*``, ``group.*``, ``sms.*``, ``public.*``, ``trace.*``, ``poster.*``, ``staff.*``), read by
the project's one loader of languages (:mod:`corridor.core.catalogs`).

A notice, its poster, its SMS and the public page take their words from the same catalog, so they
say the same thing in the same words; each is in one language (a poster is printed once per
language). ``{name}`` placeholders are filled by :meth:`Words.text`; in Arabic each value is a bidi
isolate so that times, codes and Latin names keep their own order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale

from corridor.core import catalogs

LOCALES = Path(__file__).parent / "locales"
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

LANGUAGES = ("ar", "en")


@dataclass(frozen=True)
class Words:
    """The notice words of one language of the reports' catalogs."""

    language: catalogs.Language

    @property
    def code(self) -> str:
        return self.language.code

    @property
    def rtl(self) -> bool:
        return self.language.rtl

    @property
    def direction(self) -> str:
        return self.language.direction

    def text(self, key: str, /, **values: object) -> str:
        """Message ``key`` (English if missing here) with ``values``; isolated in Arabic."""
        if self.rtl:
            values = {k: isolate(v) if isinstance(v, str) else v for k, v in values.items()}
        count = values.get(catalogs.COUNT)
        number = count if isinstance(count, int) and not isinstance(count, bool) else None
        template = self.language.template(key, number)  # a value may be named "key" (notice.version)
        return template.format(**values) if values else template

    def word(self, prefix: str, name: str) -> str:
        """A recorded code (a delivery's channel or status, an access decision) in this language
        when ``prefix + name`` is a message, else as recorded."""
        return self.language.word(prefix, name)

    def language_name(self, code: str) -> str:
        """The name of the language ``code`` in this language (``ar`` is "Arabic" in English and
        "العربية" in Arabic), from CLDR."""
        return Locale.parse(code).get_display_name(self.code) or code

    def group(self, name: str, stretcher: bool = False) -> str:
        """A group's name for the public: a known word, else as the scenario writes it."""
        key = f"group.{name}"
        if self.language.knows(key):
            return self.language.text(key)
        return self.language.text("group.stretcher") if stretcher else name


def isolate(words: str) -> str:
    if words.startswith((LRI, FSI)):
        return words
    return f"{FSI if _RTL_LETTER.search(words) else LRI}{words}{PDI}"


@cache
def _languages() -> dict[str, catalogs.Language]:
    return catalogs.load_languages(LOCALES)


def words(code: str) -> Words:
    """The notice words of language ``code``; a ``ValueError`` naming the known ones otherwise."""
    if code not in LANGUAGES:
        raise ValueError(f"no notice language {code!r}; known: {', '.join(LANGUAGES)}")
    return Words(_languages()[code])
