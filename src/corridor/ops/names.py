"""Name skeletons: one spelling-free key for the variants of a name, in Arabic or Latin script.

Registrars write the same name many ways: "Mohammed", "Muhammad", "Mohamad", "محمد". The skeleton
keeps the consonants only, maps Arabic letters and Latin digraphs to one Latin consonant each, drops
the article ("al-", "el-", "ال") and sorts the words, so all four give ``"mhmd"``. Two people
with the same skeleton (and age band and sex) are shown to the registrar as possible duplicates;
they are never merged automatically.
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d",
    "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
    "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h",
    "پ": "b", "چ": "j", "ڤ": "f", "گ": "k",
}  # fmt: skip
# Letters that stand for vowels, hamza or ayn, which transliterations write in many ways or omit.
_ARABIC_SILENT = set("اأإآٱوؤيىئءةع")
_DIGRAPHS = [("kh", "k"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"),
             ("ph", "f"), ("q", "k"), ("c", "k"), ("x", "ks"), ("dj", "j"), ("g", "j")]  # fmt: skip
_LATIN_SILENT = set("aeiouyw'’`ʿʾ")
_ARTICLES = ("al", "el", "ul")
_ABD = re.compile(r"^abd(?:ul|el|al|ol)")


def name_skeleton(name: str) -> str:
    """The spelling-free key of a person's name (empty for a name with no letters)."""
    words = [_word_skeleton(word) for word in _words(name)]
    return " ".join(sorted(w for w in words if w))


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch) and ch != "\u0640")
    parts: list[str] = []
    for word in re.split(r"[\s\-_.,/]+", text):
        if word.startswith("عبد") and len(word) > 4:
            parts.append("عبد")
            word = word[3:]
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]
        if word in _ARTICLES or word == "ال":
            continue
        word = _ABD.sub("abd ", word)
        parts.extend(word.split())
    return parts


def _word_skeleton(word: str) -> str:
    if any("\u0600" <= ch <= "\u06ff" for ch in word):
        letters = "".join(_ARABIC.get(ch, "") for ch in word if ch not in _ARABIC_SILENT)
    else:
        for digraph, single in _DIGRAPHS:
            word = word.replace(digraph, single)
        letters = "".join(ch for ch in word if ch.isalpha() and ch not in _LATIN_SILENT)
    letters = re.sub(r"(.)\1+", r"\1", letters)
    return letters[:-1] if len(letters) > 2 and letters.endswith("h") else letters
