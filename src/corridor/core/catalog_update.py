"""Keeping the PO files of a folder of languages whole (``make messages``).

- Every key of the reference language (English) is added to each other language where it is missing,
  untranslated (an empty ``msgstr``, said in English until a translator fills it), with the English
  text as a comment for the translator; a message with plural forms gets the language's number of
  forms (six for Arabic).
- With ``--used FILE`` (a POT file made by ``pybabel extract -F babel.cfg``), keys the code and the
  templates use that English lacks are listed (with ``--strict``, the command then exits 1).

PO files are rewritten only when something was added. Exit 2 on a file that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import write_po

from corridor.core.catalogs import DOMAIN, REFERENCE, language_codes, po_path, read_catalog

_DYNAMIC_SUFFIXES = ("_", ".")  # a key ending so is the prefix of keys made at run time


def _catalog(folder: Path, code: str) -> Catalog:
    path = po_path(folder, code)
    if path.is_file():
        return read_catalog(path, code)
    return Catalog(
        locale=code,
        domain=DOMAIN,
        project="corridor",
        version="1",
        copyright_holder="the corridor project",
        last_translator="corridor translators",
        language_team=f"corridor {code}",
        fuzzy=False,
    )


def _write(folder: Path, code: str, catalog: Catalog) -> None:
    path = po_path(folder, code)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, include_previous=False)


def _english(message: Message) -> str:
    if isinstance(message.string, tuple):
        return " | ".join(message.string)
    return str(message.string)


def fold(folder: Path) -> dict[str, list[str]]:
    """Make the PO files of ``folder`` whole; returns the keys added, by language code."""
    codes = language_codes(folder)
    catalogs = {code: _catalog(folder, code) for code in codes}
    added: dict[str, list[str]] = {code: [] for code in codes}
    reference = catalogs.get(REFERENCE)
    if reference is not None:
        for code in codes:
            if code == REFERENCE:
                continue
            catalog = catalogs[code]
            for message in reference:
                if not message.id or message.id in catalog:
                    continue
                empty: str | tuple[str, ...] = (
                    ("",) * catalog.num_plurals if isinstance(message.id, tuple) else ""
                )
                catalog.add(message.id, empty, auto_comments=[f"English: {_english(message)}"])
                added[code].append(_key(message))
    for code, changed in added.items():
        if changed:
            _write(folder, code, catalogs[code])
    return added


def _key(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, tuple) else message.id)


def _known(folder: Path) -> set[str]:
    return {_key(m) for m in _catalog(folder, REFERENCE) if m.id}


def unknown_keys(folder: Path, used: Path, others: Sequence[Path] = ()) -> list[str]:
    """Keys found in the POT file ``used`` that the reference language of ``folder`` (and of the
    folders ``others``, whose keys the same code uses) lacks; a key made at run time, ending in ``_``
    or ``.``, counts when some key starts with it."""
    known = _known(folder)
    for other in others:
        known |= _known(other)
    found = read_catalog(used, REFERENCE)
    missing = []
    for message in found:
        key = _key(message)
        if not key or "." not in key or " " in key:
            continue  # not a message key (e.g. a plain word passed to a function named t)
        if key.endswith(_DYNAMIC_SUFFIXES):
            if not any(k.startswith(key) for k in known):
                missing.append(key)
        elif key not in known:
            missing.append(key)
    return sorted(missing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corridor.core.catalog_update", description=__doc__)
    parser.add_argument("folder", type=Path, help="a folder of languages (<code>/LC_MESSAGES/corridor.po)")
    parser.add_argument("--used", type=Path, help="POT file of the keys used (pybabel extract)")
    parser.add_argument(
        "--also", type=Path, action="append", default=[], help="another folder whose keys count as defined"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a key used is not defined")
    args = parser.parse_args(argv)
    folder: Path = args.folder
    try:
        for code, keys in fold(folder).items():
            if keys:
                print(f"{po_path(folder, code)}: {len(keys)} keys added: {', '.join(keys)}")
        missing = unknown_keys(folder, args.used, args.also) if args.used is not None else []
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if missing:
        print(f"{po_path(folder, REFERENCE)}: keys used but not defined here: {', '.join(missing)}")
        print("Add each with its English text to that file (unless other code defines it), then run")
        print("`make messages` again.")
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
