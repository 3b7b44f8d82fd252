"""Languages from gettext catalogs: the one loader of the web app's and the reports' words.

A folder of languages holds ``<code>/LC_MESSAGES/corridor.po`` for each language (``en``, ``ar``...),
the PO files that translators and their tools (Poedit, Weblate, Lokalize) know. A message id is a key
such as ``register.done``; its text may hold ``{name}`` placeholders. A message with plural forms
(``msgid_plural``) has one text per plural form of the language's CLDR rules (Arabic has six: zero,
one, two, few, many, other) and takes its count from the ``n`` value: ``text("register.done", n=3)``.
The language's own name and its direction come from CLDR (Babel).

English (``en``) is the reference: a key missing from another language, or left untranslated there
(an empty or fuzzy ``msgstr``), is said in English; a key missing from English too is shown as is.

The PO files are the one source of words: the words a page's script needs are put into the page
by its template (from these catalogs), and no other file of messages is read.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

DOMAIN = "corridor"
REFERENCE = "en"
COUNT = "n"  # the value a message with plural forms takes its count from
PLURAL_TAGS = ("zero", "one", "two", "few", "many", "other")  # CLDR's order, gettext's plural indexes


def po_path(folder: Path, code: str) -> Path:
    """Where the PO file of language ``code`` lives in ``folder``."""
    return folder / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass(frozen=True, eq=False)
class Language:
    """One language's messages; :meth:`text` says a message in it."""

    code: str
    name: str
    direction: str  # "ltr" or "rtl"
    messages: Mapping[str, str]  # key -> text; for a message with plural forms, its last ("other") form
    plural_keys: frozenset[str] = frozenset()
    fallback: Language | None = None
    plural_forms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # key -> forms, gettext order
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    def has(self, key: str) -> bool:
        """Whether this language has its own text for ``key`` (not the reference's)."""
        return key in self.messages

    def knows(self, key: str) -> bool:
        """Whether ``key`` is a message here or in the reference language."""
        return key in self.messages or (self.fallback is not None and self.fallback.knows(key))

    def word(self, prefix: str, name: str) -> str:
        """A word of the data (a group, a method) in this language when ``prefix + name`` is a
        message, else as written."""
        return self.text(prefix + name) if self.knows(prefix + name) else name

    def forms(self, key: str) -> dict[str, str] | str:
        """A message's plural forms by CLDR category (``zero``, ``one``, ``two``, ``few``, ``many``,
        ``other``) for a script to choose with ``Intl.PluralRules``; a message without plural forms
        is its text."""
        found = self.plural_forms.get(key)
        if found is None:
            if key not in self.messages and self.fallback is not None:
                return self.fallback.forms(key)
            return self.template(key)
        tags = [tag for tag in PLURAL_TAGS if tag in self.locale.plural_form.tags or tag == "other"]
        return dict(zip(tags, found, strict=False))

    def template(self, key: str, count: int | None = None) -> str:
        """The unfilled text of ``key``: in the plural form of ``count`` when the message has plural
        forms; the reference language's when this one lacks it; the key itself when both lack it."""
        if count is not None and key in self.plural_keys:
            return self.translations.ngettext(key, key, count)
        found = self.messages.get(key)
        if found is not None:
            return found
        if self.fallback is not None:
            return self.fallback.template(key, count)
        return key

    def text(self, key: str, **values: object) -> str:
        """The message ``key`` filled with ``values``; the count of a plural message is ``n``."""
        count = values.get(COUNT)
        number = count if isinstance(count, int) and not isinstance(count, bool) else None
        template = self.template(key, number)
        return template.format(**values) if values else template

    def plural(self, key: str, n: int, **values: object) -> str:
        """The message ``key`` in the plural form for ``n`` (also filled in as ``{n}``)."""
        return self.text(key, n=n, **values)


def read_catalog(path: Path, code: str) -> Catalog:
    """The PO file at ``path``; a ``ValueError`` naming the file and line when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=code, domain=DOMAIN, abort_invalid=True)
    except (OSError, ValueError, PoFileError) as error:
        raise ValueError(f"{path}: {error}; fix the file (msgfmt --check names the line)") from error


def _translations(catalog: Catalog) -> gettext.GNUTranslations:
    """The catalog compiled in memory (no compiled file is kept), read by gettext."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def load_language(folder: Path, code: str, fallback: Language | None = None) -> Language:
    """Language ``code`` of ``folder``, from its PO file."""
    messages: dict[str, str] = {}
    plural_keys: set[str] = set()
    plural_forms: dict[str, tuple[str, ...]] = {}
    translations: gettext.NullTranslations = gettext.NullTranslations()
    path = po_path(folder, code)
    if path.is_file():
        catalog = read_catalog(path, code)
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple):
                forms = [s for s in message.string if s] if isinstance(message.string, tuple) else []
                if forms and len(forms) == catalog.num_plurals:
                    plural_keys.add(message.id[0])
                    plural_forms[message.id[0]] = tuple(forms)
                    messages[message.id[0]] = forms[-1]
            elif isinstance(message.string, str) and message.string:
                messages[str(message.id)] = message.string
        translations = _translations(catalog)
    if fallback is not None:
        translations.add_fallback(fallback.translations)
    locale = Locale.parse(code)
    name = locale.get_display_name(locale) or code
    direction = "rtl" if locale.character_order == "right-to-left" else "ltr"
    return Language(
        code,
        name,
        direction,
        messages,
        frozenset(plural_keys),
        fallback,
        plural_forms=plural_forms,
        translations=translations,
    )


def language_codes(folder: Path) -> list[str]:
    """The codes of the languages in ``folder`` (a PO file each), sorted."""
    return sorted({p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")})


def load_languages(folder: Path) -> dict[str, Language]:
    """Every language of ``folder``, by code; each falls back to the reference (English)."""
    codes = language_codes(folder)
    reference = load_language(folder, REFERENCE) if REFERENCE in codes else None
    found: dict[str, Language] = {}
    for code in codes:
        found[code] = reference if code == REFERENCE and reference else load_language(folder, code, reference)
    return found
